#include "http/client_address.hpp"

#include <charconv>

namespace herald {

namespace ip = boost::asio::ip;

namespace {

// The address bytes of `a` (IPv4 mapped into IPv6 as ::ffff:a.b.c.d), so that one
// prefix comparison serves both families.
ip::address_v6::bytes_type bytes_of(const ip::address& a) {
  if (a.is_v4())
    return ip::make_address_v6(ip::v4_mapped, a.to_v4()).to_bytes();
  return a.to_v6().to_bytes();
}

bool same_prefix(const ip::address& a, const ip::address& b, unsigned prefix) {
  auto x = bytes_of(a);
  auto y = bytes_of(b);
  for (std::size_t i = 0; i < x.size() && prefix > 0; ++i) {
    unsigned bits = prefix >= 8 ? 8 : prefix;
    auto mask = static_cast<unsigned char>(0xff << (8 - bits));
    if ((x[i] & mask) != (y[i] & mask))
      return false;
    prefix -= bits;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

std::optional<ip::address> parse_address(std::string_view text) {
  boost::system::error_code ec;
  auto a = ip::make_address(std::string{text}, ec);
  if (ec)
    return std::nullopt;
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return ip::address{a.to_v6().to_v4()};
  return a;
}

} // namespace

std::optional<proxy_list> proxy_list::parse(const std::vector<std::string>& entries,
                                            std::string& error) {
  proxy_list out;
  for (const auto& entry : entries) {
    std::string_view text = entry;
    auto slash = text.find('/');
    auto base = parse_address(text.substr(0, slash));
    if (!base) {
      error = "trusted-proxies: \"" + entry + "\" is not an address or ADDRESS/PREFIX";
      return std::nullopt;
    }
    unsigned width = base->is_v4() ? 32 : 128;
    unsigned prefix = width;
    if (slash != std::string_view::npos) {
      auto digits = text.substr(slash + 1);
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
      if (ec != std::errc{} || end != digits.data() + digits.size() || digits.empty()
          || prefix > width) {
        error = "trusted-proxies: \"" + entry + "\" has a bad prefix length";
        return std::nullopt;
      }
    }
    // IPv4 prefixes count within the mapped form's last 32 bits.
    out.networks_.push_back({*base, base->is_v4() ? prefix + 96 : prefix});
  }
  return out;
}

bool proxy_list::trusts(const ip::address& a) const {
  for (const auto& n : networks_)
    if (same_prefix(a, n.base, n.prefix))
      return true;
  return false;
}

std::string client_address_of(const ip::address& peer, std::string_view forwarded_for,
                              const proxy_list& proxies) {
  auto peer_text = peer.is_v6() && peer.to_v6().is_v4_mapped() ? peer.to_v6().to_v4().to_string()
                                                               : peer.to_string();
  if (proxies.empty() || forwarded_for.empty() || !proxies.trusts(peer))
    return peer_text;
  std::string leftmost;
  while (!forwarded_for.empty()) {
    auto comma = forwarded_for.rfind(',');
    auto hop
        = trim(comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1));
    forwarded_for
        = comma == std::string_view::npos ? std::string_view{} : forwarded_for.substr(0, comma);
    auto a = parse_address(hop);
    if (!a)
      return peer_text; // a garbled header names no one: count the proxy
    if (!proxies.trusts(*a))
      return a->to_string();
    leftmost = a->to_string();
  }
  return leftmost.empty() ? peer_text : leftmost;
}

address_counter::slot address_counter::acquire(const std::string& address, std::size_t limit) {
  {
    std::lock_guard<std::mutex> guard{counts_->mutex};
    auto& held = counts_->held[address];
    if (held >= limit)
      return nullptr;
    ++held;
  }
  auto counts = counts_;
  return slot{static_cast<void*>(counts.get()), [counts, address](void*) {
                std::lock_guard<std::mutex> guard{counts->mutex};
                auto i = counts->held.find(address);
                if (i != counts->held.end() && --i->second == 0)
                  counts->held.erase(i);
              }};
}

} // namespace herald
