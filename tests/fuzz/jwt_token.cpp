// Fuzz target: auth/jwt_verifier.hpp verify() with an HS256 secret configured. With the first
// byte even the rest is the token as a client sends it; odd, the rest is a claims set that the
// target signs with the node's secret first, so that the claim checks behind the signature are
// reached too. Properties: a refusal says why; an accepted token names a valid user and has
// not expired.

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "actors/names.hpp"
#include "auth/jwt_verifier.hpp"
#include "tests/fuzz/require.hpp"

namespace {

using herald::fuzz::require;

constexpr std::string_view secret = "fuzz-secret-of-thirty-two-bytes!";
constexpr std::int64_t now_s = 1'767'225'600; // 2026-01-01

std::string base64url(std::string_view bytes) {
  static constexpr char alphabet[]
      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t bits = 0;
  int count = 0;
  for (unsigned char c : bytes) {
    bits = (bits << 8) | c;
    count += 8;
    while (count >= 6) {
      count -= 6;
      out += alphabet[(bits >> count) & 0x3f];
    }
  }
  if (count > 0)
    out += alphabet[(bits << (6 - count)) & 0x3f];
  return out;
}

// A compact JWS of `claims` (any bytes) signed with the node's secret.
std::string sign_hs256(std::string_view claims) {
  std::string input = base64url(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url(claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_size);
  return input + "." + base64url({reinterpret_cast<const char*>(mac), mac_size});
}

const herald::token_verifier& verifier() {
  static auto loaded = herald::load_jwt_verifier({std::string{secret}, {}, {}, {}});
  auto* ok = std::get_if<std::shared_ptr<const herald::token_verifier>>(&loaded);
  require(ok != nullptr, "an HS256 secret alone loads a verifier");
  return **ok;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  std::string_view rest{reinterpret_cast<const char*>(data + 1), size - 1};
  std::string token = data[0] & 1 ? sign_hs256(rest) : std::string{rest};
  auto check = verifier().verify(token, now_s);
  if (!check.error.empty()) {
    require(check.error.starts_with("token: "), "a refusal names the token");
    require(check.grant.user.empty() || check.error.find("groups") != std::string::npos,
            "a refused token grants no user");
    return 0;
  }
  require(herald::is_valid_user_name(check.grant.user), "an accepted token names a valid user");
  require(check.grant.expires_ms > now_s * 1000 - 1000, "an accepted token has not expired");
  require(check.grant.groups_limited || check.grant.group_patterns.empty(),
          "patterns only when the token limits groups");
  return 0;
}
