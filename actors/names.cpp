#include "actors/names.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <sys/random.h>

namespace herald {

namespace {

bool is_group_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
         || c == '.' || c == ':' || c == '/' || c == '-';
}

bool is_session_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
         || c == '-';
}

// Every draw comes from the kernel's CSPRNG. A session id is a capability: a
// seeded generator (mt19937_64 before) can be recovered from a few hundred of
// its outputs, and every later id computed (issue 15). Ids are made once per
// session or group, so a system call each costs nothing measurable.
std::uint64_t random_word() {
  std::uint64_t word = 0;
  auto* out = reinterpret_cast<unsigned char*>(&word);
  std::size_t filled = 0;
  while (filled < sizeof(word)) {
    auto n = ::getrandom(out + filled, sizeof(word) - filled, 0);
    if (n > 0)
      filled += static_cast<std::size_t>(n);
    else if (n < 0 && errno != EINTR)
      // No safe fallback exists: refusing to make an id beats making a guessable one.
      throw std::runtime_error(std::string{"getrandom failed: "} + std::strerror(errno));
  }
  return word;
}

} // namespace

bool is_valid_group_name(std::string_view s) {
  if (s.empty() || s.size() > 128)
    return false;
  for (char c : s)
    if (!is_group_char(c))
      return false;
  return true;
}

bool is_valid_session_id(std::string_view s) {
  if (s.empty() || s.size() > 64)
    return false;
  for (char c : s)
    if (!is_session_char(c))
      return false;
  return true;
}

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t extra = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size())
      return false;
    for (size_t k = 1; k <= extra; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80)
        return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Reject overlong forms, surrogates and values past U+10FFFF.
    if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000)
        || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      return false;
    i += extra + 1;
  }
  return true;
}

bool is_valid_user_name(std::string_view s) {
  if (s.empty() || !is_valid_utf8(s))
    return false;
  size_t code_points = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80)
      ++code_points;
    // Control characters are C0 (U+0000-U+001F), DEL, and C1 (U+0080-U+009F,
    // encoded as C2 80 .. C2 9F): all of Unicode category Cc.
    if (c < 0x20 || c == 0x7F)
      return false;
    if (c == 0xC2 && static_cast<unsigned char>(s[i + 1]) <= 0x9F)
      return false;
  }
  return code_points <= 64;
}

std::string sanitize_node_name(std::string_view node) {
  std::string out;
  for (char c : node) {
    if (out.size() == 32)
      break;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')
      out.push_back(c);
    else if (c == '_' || c == '.')
      out.push_back('-');
  }
  if (out.empty())
    out = "node";
  return out;
}

std::string make_session_id(const std::string& sanitized_node) {
  static constexpr std::string_view alphabet
      = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string id = sanitized_node;
  id.push_back('_');
  for (int word = 0; word < 2; ++word) {
    auto bits = random_word();
    for (int k = 0; k < 11; ++k) {
      id.push_back(alphabet[bits % 62]);
      bits /= 62;
    }
  }
  return id;
}

std::string_view node_of_session_id(std::string_view id) {
  auto pos = id.find('_');
  if (pos == std::string_view::npos)
    return {};
  return id.substr(0, pos);
}

std::string redact_session_id(std::string_view id) {
  constexpr std::size_t shown_random_chars = 4;
  auto node = node_of_session_id(id);
  auto keep = (node.empty() ? 0 : node.size() + 1) + shown_random_chars;
  if (id.size() <= keep)
    return std::string(id.substr(0, id.size() / 2)) + "...";
  return std::string{id.substr(0, keep)} + "...";
}

std::string make_epoch() {
  static constexpr std::string_view hex = "0123456789abcdef";
  auto bits = random_word();
  std::string out;
  for (int k = 0; k < 12; ++k) {
    out.push_back(hex[bits & 0xF]);
    bits >>= 4;
  }
  return out;
}

} // namespace herald
