#include "tools/client/http_exchange.hpp"

#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace herald::client {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// A reply larger than this is not one Herald sends (a listen batch of 1000
// events of up to 64 KiB would be; allow it with room to spare).
constexpr std::uint64_t max_response_body = 128ULL << 20;

} // namespace

http_request make_request(http::verb verb, const server_url& url, const std::string& target) {
  http_request request{verb, target, 11};
  request.set(http::field::host, url.host_header());
  request.set(http::field::user_agent, "herald-client");
  request.keep_alive(false);
  return request;
}

std::shared_ptr<http_exchange> http_exchange::start(net::any_io_executor executor,
                                                    const server_url& url, http_request request,
                                                    std::chrono::seconds bound, handler done) {
  auto exchange = std::make_shared<http_exchange>(std::move(executor), std::move(request), bound,
                                                  std::move(done));
  exchange->run(url);
  return exchange;
}

http_exchange::http_exchange(net::any_io_executor executor, http_request request,
                             std::chrono::seconds bound, handler done)
    : resolver_(executor), stream_(executor), request_(std::move(request)), bound_(bound),
      done_(std::move(done)) {
  request_.prepare_payload();
}

void http_exchange::run(const server_url& url) {
  resolver_.async_resolve(
      url.host, url.port,
      beast::bind_front_handler(&http_exchange::on_resolve, shared_from_this()));
}

void http_exchange::on_resolve(beast::error_code ec, tcp::resolver::results_type results) {
  if (!done_)
    return;
  if (ec)
    return finish(
        make_problem(problem_kind::lost, "cannot resolve the server's host: " + ec.message()));
  // One deadline for the whole exchange: connect, write and read.
  stream_.expires_after(bound_);
  stream_.async_connect(results,
                        beast::bind_front_handler(&http_exchange::on_connect, shared_from_this()));
}

void http_exchange::on_connect(beast::error_code ec, tcp::endpoint) {
  if (!done_)
    return;
  if (ec)
    return finish(make_problem(problem_kind::lost, "cannot connect: " + ec.message()));
  http::async_write(stream_, request_,
                    beast::bind_front_handler(&http_exchange::on_write, shared_from_this()));
}

void http_exchange::on_write(beast::error_code ec, std::size_t) {
  if (!done_)
    return;
  if (ec)
    return finish(make_problem(problem_kind::lost, "cannot send the request: " + ec.message()));
  auto parser = std::make_shared<http::response_parser<http::string_body>>();
  parser->body_limit(max_response_body);
  http::async_read(stream_, buffer_, *parser,
                   [self = shared_from_this(), parser](beast::error_code ec, std::size_t n) {
                     if (!ec)
                       self->response_ = parser->release();
                     self->on_read(ec, n);
                   });
}

void http_exchange::on_read(beast::error_code ec, std::size_t) {
  if (!done_)
    return;
  if (ec == beast::error::timeout)
    return finish(make_problem(problem_kind::lost, "no answer from the server in time"));
  if (ec)
    return finish(make_problem(problem_kind::lost, "no answer from the server: " + ec.message()));
  finish(std::nullopt);
}

void http_exchange::finish(std::optional<link_problem> problem) {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
  auto done = std::move(done_);
  done_ = nullptr;
  done(std::move(problem), std::move(response_));
}

void http_exchange::cancel() {
  done_ = nullptr;
  resolver_.cancel();
  stream_.close();
}

} // namespace herald::client
