#pragma once

#include <memory>
#include <string>
#include <variant>

#include "actors/token_grant.hpp"

namespace herald {

/// The keys and required claims of `--jwt-*`.
struct jwt_settings {
  std::string hs256_secret;    ///< `--jwt-hs256-secret`: HS256 tokens are checked with it
  std::string public_key_file; ///< `--jwt-public-key`: PEM, RSA (RS256) or EC P-256 (ES256)
  std::string audience;        ///< `--jwt-audience`: `aud` must name it
  std::string issuer;          ///< `--jwt-issuer`: `iss` must equal it
};

/// Returns true if `s` names a key, so that authentication is on.
bool authentication_configured(const jwt_settings& s);

/// Loads the keys of `s` into a verifier (libjwt and OpenSSL do the JOSE and
/// the signature checks), or returns why it cannot: an unreadable file, a
/// PEM that is neither an RSA nor an EC P-256 public key.
std::variant<std::shared_ptr<const token_verifier>, std::string>
load_jwt_verifier(const jwt_settings& s);

} // namespace herald
