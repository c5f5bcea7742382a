#include "tools/client/server_url.hpp"

#include <charconv>

namespace herald::client {

std::string server_url::host_header() const {
  bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + port;
}

std::string server_url::target(std::string_view path) const {
  return base_path + std::string{path};
}

std::string server_url::to_string() const {
  return "http://" + host_header() + base_path;
}

std::optional<server_url> parse_server_url(std::string_view text, std::string& error) {
  auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    error = "the URL must start with http:// (e.g. http://127.0.0.1:8080)";
    return std::nullopt;
  }
  auto scheme = text.substr(0, scheme_end);
  if (scheme != "http" && scheme != "ws") {
    error = "unsupported URL scheme '" + std::string{scheme}
            + "': only http:// (and ws://) are supported, not TLS";
    return std::nullopt;
  }
  auto rest = text.substr(scheme_end + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    error = "the URL must not carry a query or a fragment";
    return std::nullopt;
  }
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  server_url url;
  if (slash != std::string_view::npos) {
    url.base_path = std::string{rest.substr(slash)};
    while (!url.base_path.empty() && url.base_path.back() == '/')
      url.base_path.pop_back();
  }
  std::string_view port;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "unterminated IPv6 address in the URL";
      return std::nullopt;
    }
    url.host = std::string{authority.substr(1, close - 1)};
    auto after = authority.substr(close + 1);
    if (after.starts_with(':'))
      port = after.substr(1);
    else if (!after.empty()) {
      error = "unexpected characters after the IPv6 address in the URL";
      return std::nullopt;
    }
  } else {
    auto colon = authority.rfind(':');
    url.host = std::string{authority.substr(0, colon)};
    if (colon != std::string_view::npos)
      port = authority.substr(colon + 1);
  }
  if (url.host.empty()) {
    error = "the URL names no host";
    return std::nullopt;
  }
  if (!port.empty() || authority.ends_with(':')) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
      error = "bad port '" + std::string{port} + "' in the URL";
      return std::nullopt;
    }
    url.port = std::to_string(value);
  }
  return url;
}

} // namespace herald::client
