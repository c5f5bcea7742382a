#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>

#include "http/client_stream.hpp"
#include "http/connection_registry.hpp"
#include "http/server_context.hpp"

namespace herald {

/// Accepts connections and hands each to an http_session on its own strand.
class listener : public std::enable_shared_from_this<listener> {
public:
  listener(boost::asio::io_context& ioc, server_context& ctx, connection_registry& registry);

  /// Binds and listens. Returns an empty string, or what went wrong.
  std::string open(const boost::asio::ip::tcp::endpoint& endpoint);

  boost::asio::ip::tcp::endpoint local_endpoint() const;

  /// Starts accepting.
  void run();

  /// Stops accepting.
  void close();

private:
  void do_accept();
  void on_accept(boost::beast::error_code ec, boost::asio::ip::tcp::socket socket);
  void start_tls(boost::asio::ip::tcp::socket&& socket, boost::asio::ip::address peer,
                 address_counter::slot slot, bool over_address_limit);
  void start_session(client_stream&& stream, bool over_address_limit);

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  server_context& ctx_;
  connection_registry& registry_;
};

} // namespace herald
