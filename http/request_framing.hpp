#pragma once

// The checks a request head must pass before its body is read (RFC 9112):
// one unambiguous way to find where the body ends, one Host, a known
// expectation. Two parsers that disagree about where a request ends (a proxy
// in front, Beast here) are how requests are smuggled, so anything ambiguous
// is refused rather than guessed at. Pure functions of the head.

#include <string>
#include <string_view>

#include <boost/beast/http/message.hpp>

namespace herald {

using request_head = boost::beast::http::request_header<>;

/// Returns a message naming the header that makes `head` ambiguous or
/// invalid, or an empty string. Refused: a Transfer-Encoding that is not
/// exactly `chunked` (one field, one coding), one together with
/// Content-Length, any Transfer-Encoding in HTTP/1.0, no Host in HTTP/1.1,
/// and more than one Host in any version (HTTP/1.0 may leave Host out).
std::string framing_problem(const request_head& head);

/// What the `Expect` header asks of us.
enum class expectation {
  none,          ///< no Expect (or 100-continue on HTTP/1.0, which must be ignored)
  send_continue, ///< `100-continue` on HTTP/1.1: answer 100 before reading the body
  unknown,       ///< anything else: 417
};

/// Returns the expectation of `head` (RFC 9110 10.1.1; compared case-insensitively).
expectation expectation_of(const request_head& head);

/// Rewrites an absolute-form target (`http://host:port/path?q`, RFC 9112
/// 3.2.2) to its origin form (`/path?q`) and sets Host to its authority, as
/// the RFC asks of an origin server. Returns false (and changes nothing)
/// when the target is neither origin-form nor a usable http(s) absolute-form;
/// `*` and authority-form are left alone (the router answers them 404).
bool normalize_target(request_head& head);

} // namespace herald
