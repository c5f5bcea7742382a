#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <caf/all.hpp>

#include "actors/token_grant.hpp"
#include "http/connection_registry.hpp"
#include "http/listener.hpp"
#include "http/server_context.hpp"

namespace herald {

/// The node's HTTP front: a fixed set of I/O threads running one io_context,
/// a listener, and the drain sequence.
class server {
public:
  /// `tokens` is null when authentication is off, `tls` for plain HTTP.
  server(caf::actor_system& system, std::shared_ptr<const settings> config, caf::actor directory,
         std::shared_ptr<const token_verifier> tokens,
         std::shared_ptr<boost::asio::ssl::context> tls);
  ~server();

  /// Binds `--listen` and starts the I/O threads. Returns an empty string, or
  /// what went wrong. Logs "listening" with the bound address once accepting.
  std::string start();

  /// Blocks until the server stopped: after SIGTERM/SIGINT and the drain.
  void wait();

private:
  void await_signal();
  void on_signal();
  void check_drained(std::chrono::steady_clock::time_point grace_end,
                     std::chrono::steady_clock::time_point deadline);

  boost::asio::io_context ioc_;
  server_context ctx_;
  connection_registry registry_;
  std::shared_ptr<listener> listener_;
  std::shared_ptr<boost::asio::signal_set> signals_;
  std::vector<std::thread> threads_;
};

/// Parses "host:port" or "[v6]:port". Returns nullopt when malformed.
std::optional<boost::asio::ip::tcp::endpoint> parse_endpoint(const std::string& text);

} // namespace herald
