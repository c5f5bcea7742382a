#pragma once

// One HTTP request on a fresh connection, and its whole response.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "tools/client/link_problem.hpp"
#include "tools/client/server_url.hpp"

namespace herald::client {

using http_request = boost::beast::http::request<boost::beast::http::string_body>;
using http_response = boost::beast::http::response<boost::beast::http::string_body>;

/// Sends one request and reads the response, on a connection of its own (no
/// keep-alive: nothing idle is left behind for the server to close under us).
/// `done` runs once, on the executor, with the response or with why there is
/// none (always `lost`: the server could not be reached or the exchange broke
/// or took longer than `bound`) — unless `cancel()` came first.
class http_exchange : public std::enable_shared_from_this<http_exchange> {
public:
  using handler = std::function<void(std::optional<link_problem>, http_response)>;

  /// Starts the exchange; keep the returned pointer to cancel it.
  static std::shared_ptr<http_exchange> start(boost::asio::any_io_executor executor,
                                              const server_url& url, http_request request,
                                              std::chrono::seconds bound, handler done);

  /// Stops the exchange; `done` will not run.
  void cancel();

  http_exchange(boost::asio::any_io_executor executor, http_request request,
                std::chrono::seconds bound, handler done);

private:
  void run(const server_url& url);
  void on_resolve(boost::beast::error_code ec,
                  boost::asio::ip::tcp::resolver::results_type results);
  void on_connect(boost::beast::error_code ec, boost::asio::ip::tcp::endpoint);
  void on_write(boost::beast::error_code ec, std::size_t);
  void on_read(boost::beast::error_code ec, std::size_t);
  void finish(std::optional<link_problem> problem);

  boost::asio::ip::tcp::resolver resolver_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  http_request request_;
  http_response response_;
  std::chrono::seconds bound_;
  handler done_;
};

/// Returns a GET or POST request for `target` on `url`'s host, with the
/// headers every Herald request of this client carries.
http_request make_request(boost::beast::http::verb verb, const server_url& url,
                          const std::string& target);

} // namespace herald::client
