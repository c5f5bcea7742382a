// Fuzz target: the bytes of one HTTP/1.1 request, as http_session reads them. Beast's
// request_parser with Herald's default limits, then the head checks of request_framing.hpp,
// then the router's split of the target and query_string::parse of its query. The session
// itself (http_session over a socket) is not driven: it needs the whole server.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/beast/core/buffers_prefix.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "actors/settings.hpp"
#include "http/query_string.hpp"
#include "http/request_framing.hpp"
#include "tests/fuzz/require.hpp"

namespace {

namespace http = boost::beast::http;
using herald::fuzz::require;

std::size_t count(const herald::request_head& head, http::field name) {
  auto [first, last] = head.equal_range(name);
  return static_cast<std::size_t>(std::distance(first, last));
}

// What framing_problem() promises when it finds nothing wrong.
void check_accepted_framing(const herald::request_head& head) {
  require(count(head, http::field::host) <= 1, "accepted head has at most one Host");
  require(head.version() < 11 || count(head, http::field::host) == 1,
          "accepted HTTP/1.1 head has a Host");
  if (head.find(http::field::transfer_encoding) != head.end()) {
    require(head.version() >= 11, "accepted Transfer-Encoding is HTTP/1.1");
    require(head.find(http::field::content_length) == head.end(),
            "accepted Transfer-Encoding comes without Content-Length");
    require(count(head, http::field::transfer_encoding) == 1, "accepted: one Transfer-Encoding");
  }
}

void check_target(http::request<http::string_body> req) {
  std::string before{req.target()};
  if (!herald::normalize_target(req)) {
    require(req.target() == before, "a refused target is left unchanged");
    return;
  }
  std::string_view target = req.target();
  if (before.find("://") != std::string::npos && !before.empty() && before.front() != '/') {
    require(!target.empty() && target.front() == '/', "absolute form becomes origin form");
    require(count(req, http::field::host) == 1, "absolute form sets exactly one Host");
    auto host = req[http::field::host];
    require(!host.empty() && host.find('@') == std::string_view::npos,
            "absolute form's Host is a non-empty authority without userinfo");
  }
  auto [path, query] = herald::split_target(target);
  require(target.substr(0, path.size()) == path && path.size() + query.size() <= target.size(),
          "split_target's path is a prefix of the target");
  auto params = herald::query_string::parse(query);
  if (params) {
    // The names the endpoints ask for: has() and get() must agree.
    for (std::string_view name : {"session", "callback", "groups", "cursor", "lease"})
      require(params->has(name) == params->get(name).has_value(), "has() agrees with get()");
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const herald::settings defaults;
  http::request_parser<http::string_body> parser;
  parser.body_limit(defaults.max_body);
  parser.header_limit(static_cast<std::uint32_t>(defaults.max_header));

  boost::beast::error_code ec;
  std::size_t used = 0;
  bool head_checked = false;
  // Each put() is given every byte left, and (not eager) stops after the head and after each
  // body piece, as the session's reads do. need_more then means the client sent no more: EOF.
  while (!ec && !parser.is_done()) {
    auto n = parser.put(boost::asio::const_buffer(data + used, size - used), ec);
    used += n;
    if (!head_checked && parser.is_header_done()) {
      head_checked = true;
      const auto& head = parser.get();
      if (!herald::framing_problem(head).empty())
        return 0; // the session answers 400 and reads no further
      check_accepted_framing(head);
      if (herald::expectation_of(head) == herald::expectation::send_continue)
        require(head.version() >= 11, "100-continue is only honoured on HTTP/1.1");
    }
    if (ec == http::error::need_more) {
      // As Beast's read does at EOF: end_of_stream before any byte, else put_eof().
      if (!parser.got_some())
        return 0;
      ec = {};
      parser.put_eof(ec);
      break;
    }
    if (n == 0 && !ec && !parser.is_done())
      break; // no progress: never loop forever
  }
  require(used <= size, "the parser consumed only what it was given");
  if (ec || !parser.is_done())
    return 0;
  require(head_checked, "a complete message had its head checked");
  require(parser.get().body().size() <= defaults.max_body, "the body is within max-body");
  check_target(parser.release());
  return 0;
}
