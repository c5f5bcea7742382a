#pragma once

// What a verified token grants a session, and the interface that verifies
// tokens. Actors see only this: how tokens are signed and checked (JOSE,
// keys, OpenSSL) lives in auth/, behind `token_verifier`.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace herald {

/// The claims of a verified token that Herald acts on.
struct token_grant {
  std::string user;                        ///< `sub`
  std::int64_t expires_ms = 0;             ///< `exp`, in system-clock milliseconds
  bool groups_limited = false;             ///< the token carries a `groups` claim
  std::vector<std::string> group_patterns; ///< its patterns (`*` = any run of chars)
};

/// The outcome of checking one token: `error` is empty when it is valid.
struct token_check {
  token_grant grant;
  std::string error; ///< why the token was refused, for the `unauthorized` message
};

/// Checks compact JWS tokens against the node's configured keys.
class token_verifier {
public:
  virtual ~token_verifier() = default;

  /// Verifies `token` at `now_s` (Unix seconds): signature, alg, exp, nbf,
  /// aud and iss; never throws.
  virtual token_check verify(std::string_view token, std::int64_t now_s) const = 0;
};

/// Returns true if `pattern` matches all of `name`; `*` matches any run of
/// characters (also none), every other character only itself.
bool matches_group_pattern(std::string_view pattern, std::string_view name);

/// Returns true if a session holding `grant` may use group `name`.
bool group_permitted(bool groups_limited, const std::vector<std::string>& patterns,
                     std::string_view name);

} // namespace herald
