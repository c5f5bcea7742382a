#include "auth/base64url.hpp"

#include <openssl/evp.h>

namespace herald {

std::optional<std::string> decode_base64url(std::string_view text) {
  if (text.size() % 4 == 1)
    return std::nullopt;
  std::string standard;
  standard.reserve(text.size() + 3);
  for (char c : text) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (plain)
      standard += c;
    else if (c == '-')
      standard += '+';
    else if (c == '_')
      standard += '/';
    else
      return std::nullopt;
  }
  auto padding = (4 - standard.size() % 4) % 4;
  standard.append(padding, '=');
  std::string out(standard.size() / 4 * 3, '\0');
  auto n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(standard.data()),
                           static_cast<int>(standard.size()));
  if (n < 0)
    return std::nullopt;
  // EVP_DecodeBlock counts the bytes the padding stands for as zeros.
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

} // namespace herald
