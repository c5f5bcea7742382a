#include "http/request_framing.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/rfc7230.hpp>

namespace herald {

namespace http = boost::beast::http;

namespace {

std::size_t count_fields(const request_head& head, http::field name) {
  auto [first, last] = head.equal_range(name);
  return static_cast<std::size_t>(std::distance(first, last));
}

// Exactly one field whose token list is the single coding `chunked`.
bool is_plain_chunked(const request_head& head) {
  auto [first, last] = head.equal_range(http::field::transfer_encoding);
  if (first == last || std::next(first) != last)
    return false;
  http::token_list codings{first->value()};
  auto coding = codings.begin();
  return coding != codings.end() && boost::beast::iequals(*coding, "chunked")
         && std::next(coding) == codings.end();
}

std::string_view trim(std::string_view s) {
  auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos)
    return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

} // namespace

std::string framing_problem(const request_head& head) {
  bool has_transfer_encoding = head.find(http::field::transfer_encoding) != head.end();
  if (has_transfer_encoding) {
    if (head.version() < 11)
      return "Transfer-Encoding: not allowed in HTTP/1.0";
    if (!is_plain_chunked(head))
      return "Transfer-Encoding: only chunked is supported";
    if (head.find(http::field::content_length) != head.end())
      return "Transfer-Encoding and Content-Length together are ambiguous";
  }
  auto hosts = count_fields(head, http::field::host);
  if (hosts > 1)
    return "Host: exactly one is allowed";
  if (hosts == 0 && head.version() >= 11)
    return "Host: required in HTTP/1.1";
  return {};
}

expectation expectation_of(const request_head& head) {
  auto [first, last] = head.equal_range(http::field::expect);
  if (first == last)
    return expectation::none;
  if (std::next(first) != last || !boost::beast::iequals(trim(first->value()), "100-continue"))
    return expectation::unknown;
  return head.version() >= 11 ? expectation::send_continue : expectation::none;
}

bool normalize_target(request_head& head) {
  std::string_view target = head.target();
  if (target.empty() || target.front() == '/' || target == "*")
    return true;
  auto scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos)
    return true; // authority-form or garbage: no path of ours matches it
  auto scheme = target.substr(0, scheme_end);
  if (!boost::beast::iequals(scheme, "http") && !boost::beast::iequals(scheme, "https"))
    return false;
  auto rest = target.substr(scheme_end + 3);
  auto path_start = rest.find_first_of("/?");
  auto authority = rest.substr(0, path_start);
  if (authority.empty() || authority.find('@') != std::string_view::npos)
    return false; // userinfo is deprecated and only good for phishing (RFC 9110 4.2.4)
  std::string origin_form;
  if (path_start == std::string_view::npos || rest[path_start] == '?')
    origin_form.push_back('/');
  if (path_start != std::string_view::npos)
    origin_form.append(rest.data() + path_start, rest.size() - path_start);
  std::string host{authority};
  head.target(origin_form);
  head.set(http::field::host, host);
  return true;
}

} // namespace herald
