#include "auth/jwt_verifier.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <jwt.h>
#include <nlohmann/json.hpp>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "actors/names.hpp"
#include "auth/base64url.hpp"

namespace herald {

namespace {

using json = nlohmann::json;

// Longer tokens are refused before any parsing: a token rides in every enter.
constexpr std::size_t max_token_size = 8 * 1024;

// 9999-12-31T23:59:59Z: the latest `exp` taken as given; in milliseconds it fits an int64.
constexpr double max_numeric_date_s = 253'402'300'799.0;

enum class key_kind { none, rsa, ec_p256 };

struct loaded_key {
  key_kind kind = key_kind::none;
  std::string pem;
};

// Reads `file` and says which kind of public key it holds (the alg it verifies).
std::variant<loaded_key, std::string> load_public_key(const std::string& file) {
  std::ifstream in{file, std::ios::binary};
  if (!in)
    return "--jwt-public-key: cannot read \"" + file + "\"";
  std::ostringstream text;
  text << in.rdbuf();
  loaded_key out{key_kind::none, text.str()};
  std::unique_ptr<BIO, decltype(&BIO_free)> bio{
      BIO_new_mem_buf(out.pem.data(), static_cast<int>(out.pem.size())), &BIO_free};
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{
      bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr, &EVP_PKEY_free};
  if (!key)
    return "--jwt-public-key: \"" + file
           + "\" holds no PEM public key (-----BEGIN PUBLIC KEY-----)";
  if (EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_RSA) {
    out.kind = key_kind::rsa;
    return out;
  }
  char curve[64] = {};
  std::size_t curve_size = 0;
  if (EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_EC
      && EVP_PKEY_get_group_name(key.get(), curve, sizeof(curve), &curve_size) == 1
      && std::string_view{curve, curve_size} == "prime256v1") {
    out.kind = key_kind::ec_p256;
    return out;
  }
  return "--jwt-public-key: \"" + file + "\" is neither an RSA nor an EC P-256 public key";
}

// The `alg` of a compact JWS's protected header, or an empty string.
std::string header_alg(std::string_view token) {
  auto dot = token.find('.');
  if (dot == std::string_view::npos)
    return {};
  auto header = decode_base64url(token.substr(0, dot));
  if (!header)
    return {};
  auto parsed = json::parse(*header, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("alg") || !parsed["alg"].is_string())
    return {};
  return parsed["alg"].get<std::string>();
}

// A NumericDate (RFC 7519 §2): a JSON number of seconds, fractions allowed.
bool read_date(const json& claims, const char* name, double& out) {
  auto i = claims.find(name);
  if (i == claims.end() || !i->is_number())
    return false;
  out = i->get<double>();
  return std::isfinite(out);
}

class jwt_verifier final : public token_verifier {
public:
  jwt_verifier(jwt_settings s, loaded_key key) : settings_(std::move(s)), key_(std::move(key)) {}

  token_check verify(std::string_view token, std::int64_t now_s) const override {
    token_check out;
    auto fail = [&out](std::string why) {
      out.error = std::move(why);
      return out;
    };
    if (token.empty())
      return fail("token: required (authentication is on)");
    if (token.size() > max_token_size)
      return fail("token: longer than " + std::to_string(max_token_size) + " bytes");
    auto alg = header_alg(token);
    const std::string* key = nullptr;
    jwt_alg_t expected = JWT_ALG_INVAL;
    if (alg == "HS256" && !settings_.hs256_secret.empty()) {
      key = &settings_.hs256_secret;
      expected = JWT_ALG_HS256;
    } else if (alg == "RS256" && key_.kind == key_kind::rsa) {
      key = &key_.pem;
      expected = JWT_ALG_RS256;
    } else if (alg == "ES256" && key_.kind == key_kind::ec_p256) {
      key = &key_.pem;
      expected = JWT_ALG_ES256;
    }
    // The key is chosen by the configuration, never by the token: an RS256 key
    // handed to an HS256 check would make the public key an HMAC secret.
    if (key == nullptr)
      return fail(alg.empty() ? "token: not a JWS compact token"
                              : "token: alg \"" + alg
                                    + "\" is not accepted here (accepted: " + accepted() + ")");
    std::string copy{token};
    jwt_t* raw = nullptr;
    int rc = jwt_decode(&raw, copy.c_str(), reinterpret_cast<const unsigned char*>(key->data()),
                        static_cast<int>(key->size()));
    std::unique_ptr<jwt_t, decltype(&jwt_free)> decoded{raw, &jwt_free};
    if (rc != 0 || !decoded || jwt_get_alg(decoded.get()) != expected)
      return fail("token: bad signature or malformed token");
    std::unique_ptr<char, decltype(&free)> claims_text{jwt_get_grants_json(decoded.get(), nullptr),
                                                       &free};
    auto claims = claims_text ? json::parse(claims_text.get(), nullptr, false) : json{};
    if (!claims.is_object())
      return fail("token: claims are not a JSON object");
    return check_claims(claims, now_s, out);
  }

private:
  std::string accepted() const {
    std::string out;
    if (!settings_.hs256_secret.empty())
      out += "HS256";
    if (key_.kind != key_kind::none)
      out += std::string{out.empty() ? "" : ", "}
             + (key_.kind == key_kind::rsa ? "RS256" : "ES256");
    return out;
  }

  token_check& check_claims(const json& claims, std::int64_t now_s, token_check& out) const {
    auto fail = [&out](std::string why) -> token_check& {
      out.error = std::move(why);
      return out;
    };
    double exp = 0;
    if (!read_date(claims, "exp", exp))
      return fail("token: exp required (a NumericDate)");
    if (exp <= static_cast<double>(now_s))
      return fail("token: expired (exp has passed)");
    double nbf = 0;
    if (claims.contains("nbf")) {
      if (!read_date(claims, "nbf", nbf))
        return fail("token: nbf must be a NumericDate");
      if (nbf > static_cast<double>(now_s))
        return fail("token: not valid yet (nbf is in the future)");
    }
    if (!settings_.audience.empty() && !names_audience(claims))
      return fail("token: aud must name \"" + settings_.audience + "\"");
    if (!settings_.issuer.empty()) {
      auto iss = claims.find("iss");
      if (iss == claims.end() || !iss->is_string() || *iss != settings_.issuer)
        return fail("token: iss must be \"" + settings_.issuer + "\"");
    }
    auto sub = claims.find("sub");
    if (sub == claims.end() || !sub->is_string()
        || !is_valid_user_name(sub->get_ref<const std::string&>()))
      return fail("token: sub required (the user: a string of 1-64 characters)");
    out.grant.user = sub->get<std::string>();
    // A NumericDate may be any JSON number: 1e300 * 1000 cast to int64 was undefined (found by
    // tests/fuzz/jwt_token.cpp). Later than this, no session can tell the difference.
    out.grant.expires_ms
        = static_cast<std::int64_t>(std::floor(std::min(exp, max_numeric_date_s) * 1000.0));
    if (auto groups = claims.find("groups"); groups != claims.end()) {
      if (!groups->is_array())
        return fail("token: groups must be an array of patterns");
      for (const auto& pattern : *groups) {
        if (!pattern.is_string())
          return fail("token: groups must be an array of patterns");
        out.grant.group_patterns.push_back(pattern.get<std::string>());
      }
      out.grant.groups_limited = true;
    }
    return out;
  }

  bool names_audience(const json& claims) const {
    auto aud = claims.find("aud");
    if (aud == claims.end())
      return false;
    if (aud->is_string())
      return *aud == settings_.audience;
    if (!aud->is_array())
      return false;
    for (const auto& item : *aud)
      if (item.is_string() && item == settings_.audience)
        return true;
    return false;
  }

  jwt_settings settings_;
  loaded_key key_;
};

} // namespace

bool authentication_configured(const jwt_settings& s) {
  return !s.hs256_secret.empty() || !s.public_key_file.empty();
}

std::variant<std::shared_ptr<const token_verifier>, std::string>
load_jwt_verifier(const jwt_settings& s) {
  loaded_key key;
  if (!s.public_key_file.empty()) {
    auto loaded = load_public_key(s.public_key_file);
    if (auto* error = std::get_if<std::string>(&loaded))
      return *error;
    key = std::get<loaded_key>(std::move(loaded));
  }
  return std::shared_ptr<const token_verifier>{std::make_shared<jwt_verifier>(s, std::move(key))};
}

} // namespace herald
