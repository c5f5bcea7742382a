#include "http/cors.hpp"

#include <algorithm>

namespace herald {

namespace {

std::string to_lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// An origin is scheme://host[:port] with no path (RFC 6454), and the port is
// digits, so lower-casing all of it lower-cases exactly scheme and host.
std::string normalize_origin(std::string_view origin) {
  if (!origin.empty() && origin.back() == '/')
    origin.remove_suffix(1);
  return to_lower(origin);
}

// Returns `host_port` (already lower case) without the scheme's default
// port, so that "example.com:80" and "example.com" compare equal for http.
// IPv6 literals keep their brackets: "[::1]:443" -> "[::1]" for https.
std::string_view strip_default_port(std::string_view host_port, std::string_view scheme) {
  std::string_view default_port = scheme == "http" ? ":80" : scheme == "https" ? ":443" : "";
  if (default_port.empty() || !host_port.ends_with(default_port))
    return host_port;
  auto host = host_port.substr(0, host_port.size() - default_port.size());
  // "[::1]:80": the colon must follow the bracket; "::80" alone is no port.
  if (host.empty() || (host.front() == '[' && host.back() != ']')
      || (host.front() != '[' && host.find(':') != std::string_view::npos))
    return host_port;
  return host;
}

// Same-origin rule: only web origins (http, https) can be the same as ours.
bool is_same_origin(std::string_view origin, std::string_view host) {
  auto lowered_origin = to_lower(origin);
  auto lowered_host = to_lower(host);
  std::string_view view{lowered_origin};
  auto separator = view.find("://");
  if (separator == std::string_view::npos || lowered_host.empty())
    return false;
  auto scheme = view.substr(0, separator);
  auto host_port = view.substr(separator + 3);
  if ((scheme != "http" && scheme != "https") || host_port.empty()
      || host_port.find_first_of("/?#@") != std::string_view::npos)
    return false;
  return strip_default_port(host_port, scheme) == strip_default_port(lowered_host, scheme);
}

// Lower case, no trailing `/`, no default port: "HTTPS://A.example:443/" -> "https://a.example".
std::string canonical_origin(std::string_view origin) {
  auto lowered = normalize_origin(origin);
  std::string_view view{lowered};
  auto separator = view.find("://");
  if (separator == std::string_view::npos)
    return lowered;
  auto scheme = view.substr(0, separator);
  std::string out{scheme};
  out.append("://").append(strip_default_port(view.substr(separator + 3), scheme));
  return out;
}

} // namespace

cors_policy::cors_policy(std::vector<std::string> allowed_origins,
                         std::vector<std::string> public_origins) {
  for (auto& entry : allowed_origins) {
    if (entry == "*")
      wildcard_ = true;
    else if (!entry.empty())
      allowed_.push_back(normalize_origin(entry));
  }
  for (auto& entry : public_origins)
    if (!entry.empty())
      public_.push_back(canonical_origin(entry));
}

bool cors_policy::is_public_origin(std::string_view origin) const {
  return std::find(public_.begin(), public_.end(), canonical_origin(origin)) != public_.end();
}

cors_policy::verdict cors_policy::check(std::string_view origin, std::string_view host) const {
  if (origin.empty())
    return verdict::no_origin;
  if (wildcard_)
    return verdict::allowed;
  if (origin == "null")
    return verdict::refused;
  if (allowed_.empty()) {
    bool same = public_.empty() ? is_same_origin(origin, host) : is_public_origin(origin);
    return same ? verdict::allowed : verdict::refused;
  }
  // Origins arrive without a trailing slash; one that has it is malformed.
  auto lowered = to_lower(origin);
  return std::find(allowed_.begin(), allowed_.end(), lowered) != allowed_.end() ? verdict::allowed
                                                                                : verdict::refused;
}

std::string cors_policy::allow_origin_value(std::string_view origin, std::string_view host) const {
  if (wildcard_)
    return "*";
  if (check(origin, host) == verdict::allowed)
    return std::string{origin};
  return {};
}

bool cors_policy::is_wildcard() const {
  return wildcard_;
}

} // namespace herald
