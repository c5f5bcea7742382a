#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace herald {

/// Decodes unpadded base64url (RFC 4648 §5, as JOSE uses it) with OpenSSL;
/// nullopt when `text` holds a character outside the alphabet or cannot be
/// a whole number of bytes.
std::optional<std::string> decode_base64url(std::string_view text);

} // namespace herald
