#pragma once

#include <string>
#include <string_view>

namespace herald {

/// Returns true if `s` is a valid group name: 1–128 chars of [A-Za-z0-9_.:/-].
bool is_valid_group_name(std::string_view s);

/// Returns true if `s` is a valid session id: 1–64 chars of [A-Za-z0-9_-].
bool is_valid_session_id(std::string_view s);

/// Returns true if `s` is a valid user name: valid UTF-8, 1–64 code points,
/// no control characters.
bool is_valid_user_name(std::string_view s);

/// Returns true if `s` is well-formed UTF-8.
bool is_valid_utf8(std::string_view s);

/// Returns `node` reduced to [A-Za-z0-9-] and at most 32 chars ("node" if
/// nothing is left), so that it can lead a session id.
std::string sanitize_node_name(std::string_view node);

/// Returns a fresh session id `<node>_<22 random base62 chars>`: 128 bits from
/// the kernel's CSPRNG (getrandom), two 64-bit draws of 11 chars each. Ids are
/// capabilities and must not be guessable. Throws std::runtime_error when the
/// kernel refuses randomness.
std::string make_session_id(const std::string& sanitized_node);

/// Returns the node part of a session id made by make_session_id, or an empty
/// string when the id carries none.
std::string_view node_of_session_id(std::string_view id);

/// Returns `id` as logs may show it: everything up to the first four chars
/// after the node part, then "...". A whole id in a log line would hand the
/// session to whoever reads the log.
std::string redact_session_id(std::string_view id);

/// Returns a fresh group epoch: 12 random hex chars (from getrandom too).
std::string make_epoch();

} // namespace herald
