#include "bench/loadgen/http_reader.hpp"

#include <charconv>
#include <strings.h>

namespace herald::bench {

namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

} // namespace

bool http_reader::parse_head(std::string_view text) {
  head_ = http_head{};
  const auto line_end = text.find("\r\n");
  const std::string_view status_line = text.substr(0, line_end);
  // "HTTP/1.1 200 OK"
  if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/") {
    error_ = "bad status line: " + std::string(status_line.substr(0, 80));
    return false;
  }
  const auto code = status_line.substr(9, 3);
  if (std::from_chars(code.data(), code.data() + 3, head_.status).ec != std::errc{}) {
    error_ = "bad status code: " + std::string(status_line.substr(0, 80));
    return false;
  }
  std::size_t pos = line_end + 2;
  while (pos < text.size()) {
    auto end = text.find("\r\n", pos);
    if (end == std::string_view::npos)
      end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 2;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos)
      continue;
    const auto name = line.substr(0, colon);
    const auto value = trim(line.substr(colon + 1));
    if (equals_ignoring_case(name, "content-length")) {
      if (std::from_chars(value.data(), value.data() + value.size(), head_.content_length).ec
          != std::errc{}) {
        error_ = "bad Content-Length";
        return false;
      }
    } else if (equals_ignoring_case(name, "transfer-encoding")) {
      head_.chunked = value.find("chunked") != std::string_view::npos;
    } else if (equals_ignoring_case(name, "etag")) {
      head_.etag = value;
    } else if (equals_ignoring_case(name, "last-modified")) {
      head_.last_modified = value;
    }
  }
  return true;
}

} // namespace herald::bench
