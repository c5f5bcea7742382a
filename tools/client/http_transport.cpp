#include "tools/client/http_transport.hpp"

#include <cctype>

#include <boost/asio/post.hpp>

namespace herald::client {

namespace http = boost::beast::http;
namespace net = boost::asio;

std::string encode_query_value(const std::string& text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

http_transport::http_transport(net::any_io_executor executor, transport_settings settings)
    : executor_(std::move(executor)), settings_(std::move(settings)) {}

void http_transport::open(std::function<void(std::optional<link_problem>)> done) {
  // Each request connects by itself; the first command or stream request
  // tells whether the server can be reached.
  net::post(executor_, [self = shared_from_this(), done = std::move(done)] {
    if (!self->closed_)
      done(std::nullopt);
  });
}

void http_transport::call(json frame, std::function<void(call_outcome)> done) {
  auto request = make_request(http::verb::post, settings_.url, settings_.url.target("/v1/rpc"));
  request.set(http::field::content_type, "application/json");
  // Text typed by a person may not be valid UTF-8; send U+FFFD rather than fail.
  request.body() = frame.dump(-1, ' ', false, json::error_handler_t::replace);
  auto self = shared_from_this();
  auto exchange = std::make_shared<std::shared_ptr<http_exchange>>();
  *exchange = http_exchange::start(
      executor_, settings_.url, std::move(request), settings_.call_timeout,
      [self, exchange, done = std::move(done)](std::optional<link_problem> problem,
                                               http_response response) {
        self->calls_.erase(*exchange);
        exchange->reset();
        if (problem)
          return done(call_outcome{std::nullopt, std::move(problem)});
        auto reply = json::parse(response.body(), nullptr, false);
        if (reply.is_object() && (reply.contains("result") || reply.contains("error")))
          return done(call_outcome{std::move(reply), std::nullopt});
        done(call_outcome{std::nullopt, problem_of(response, "POST /v1/rpc")});
      });
  calls_.insert(*exchange);
}

void http_transport::close() {
  closed_ = true;
  for (const auto& exchange : calls_)
    exchange->cancel();
  calls_.clear();
}

link_problem http_transport::problem_of(const http_response& response, const char* what) {
  auto status = static_cast<int>(response.result_int());
  auto body = json::parse(response.body(), nullptr, false);
  if (body.is_object() && body.contains("error"))
    return problem_from_error(body["error"], status);
  return link_problem{status >= 500 ? problem_kind::lost : problem_kind::failed,
                      std::string{what} + " answered HTTP " + std::to_string(status)
                          + " without a Herald reply",
                      "", status};
}

} // namespace herald::client
