#pragma once

// Which browser origins may call us (`--allow-origin`).

#include <string>
#include <string_view>
#include <vector>

namespace herald {

/// Which origins may call us. An empty list means same origin only; an
/// entry "*" means any origin. "Same origin" is the Origin being one of our
/// public origins (`--public-origin`) when they are configured, else the
/// Origin's host[:port] equalling the Host header (compared
/// case-insensitively). Host is chosen by the client: under DNS rebinding a
/// hostile page's own name resolves to us and its Host matches its Origin,
/// which only a configured public origin tells apart (docs/security.md).
class cors_policy {
public:
  /// Takes the configured origins (`http://example.com:8080`, `*`); scheme
  /// and host are compared case-insensitively and a trailing `/` is ignored.
  /// `public_origins` are our own (`https://chat.example.com`), compared the
  /// same way, default ports ignored.
  explicit cors_policy(std::vector<std::string> allowed_origins,
                       std::vector<std::string> public_origins = {});

  enum class verdict { no_origin, allowed, refused };

  /// Returns no_origin when `origin` is empty (a native client), allowed or
  /// refused otherwise. `host` is the request's Host header, used only for
  /// the same-origin rule. Origin "null" (sandboxed frames, file: pages) is
  /// refused unless "*" is configured.
  verdict check(std::string_view origin, std::string_view host) const;

  /// Returns the value for Access-Control-Allow-Origin: "*" when "*" is
  /// configured, else `origin` as sent when it is allowed; empty when no
  /// header is due (no origin, or a refused one).
  std::string allow_origin_value(std::string_view origin, std::string_view host) const;

  /// Returns true if "*" is configured (then no `Vary: Origin` is needed).
  bool is_wildcard() const;

private:
  bool is_public_origin(std::string_view origin) const;

  std::vector<std::string> allowed_; ///< normalized: lower case, no trailing `/`
  std::vector<std::string> public_;  ///< normalized, and without a default port
  bool wildcard_ = false;
};

} // namespace herald
