#include "auth/jwt_verifier.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

namespace herald {
namespace {

constexpr const char* secret = "unit-test-secret";

// Mints an HS256 token with libjwt (the test side), from a JSON object of claims.
std::string mint(const std::string& claims_json, const std::string& key = secret) {
  jwt_t* raw = nullptr;
  EXPECT_EQ(jwt_new(&raw), 0);
  std::unique_ptr<jwt_t, decltype(&jwt_free)> token{raw, &jwt_free};
  EXPECT_EQ(jwt_add_grants_json(token.get(), claims_json.c_str()), 0);
  EXPECT_EQ(jwt_set_alg(token.get(), JWT_ALG_HS256,
                        reinterpret_cast<const unsigned char*>(key.data()),
                        static_cast<int>(key.size())),
            0);
  std::unique_ptr<char, decltype(&free)> text{jwt_encode_str(token.get()), &free};
  return text ? std::string{text.get()} : std::string{};
}

const std::int64_t now = 1'800'000'000;

std::shared_ptr<const token_verifier> verifier(jwt_settings s = {secret, "", "", ""}) {
  auto loaded = load_jwt_verifier(s);
  EXPECT_TRUE(std::holds_alternative<std::shared_ptr<const token_verifier>>(loaded));
  return std::get<std::shared_ptr<const token_verifier>>(loaded);
}

TEST(JwtVerifier, ValidTokenGrantsItsSubExpAndGroups) {
  auto check = verifier()->verify(
      mint(R"({"sub":"alice","exp":1800000060,"groups":["room.*","lobby"]})"), now);
  ASSERT_EQ(check.error, "");
  EXPECT_EQ(check.grant.user, "alice");
  EXPECT_EQ(check.grant.expires_ms, 1'800'000'060'000);
  EXPECT_TRUE(check.grant.groups_limited);
  EXPECT_EQ(check.grant.group_patterns, (std::vector<std::string>{"room.*", "lobby"}));
}

TEST(JwtVerifier, NoGroupsClaimLimitsNothing) {
  auto check = verifier()->verify(mint(R"({"sub":"alice","exp":1800000060})"), now);
  ASSERT_EQ(check.error, "");
  EXPECT_FALSE(check.grant.groups_limited);
}

TEST(JwtVerifier, RefusesWhatTheContractRefuses) {
  auto v = verifier();
  EXPECT_NE(v->verify("", now).error, "");
  EXPECT_NE(v->verify("a.b.c", now).error, "");
  EXPECT_NE(v->verify(mint(R"({"sub":"a","exp":1800000060})", "other"), now).error, "");
  EXPECT_NE(v->verify(mint(R"({"sub":"a","exp":1800000000})"), now).error, "") << "exp == now";
  EXPECT_NE(v->verify(mint(R"({"sub":"a"})"), now).error, "") << "no exp";
  EXPECT_NE(v->verify(mint(R"({"sub":"a","exp":1800000060,"nbf":1800000001})"), now).error, "");
  EXPECT_EQ(v->verify(mint(R"({"sub":"a","exp":1800000060,"nbf":1800000000})"), now).error, "");
  EXPECT_NE(v->verify(mint(R"({"exp":1800000060})"), now).error, "") << "no sub";
  EXPECT_NE(v->verify(mint(R"({"sub":"","exp":1800000060})"), now).error, "") << "empty sub";
  EXPECT_NE(v->verify(mint(R"({"sub":"a","exp":1800000060,"groups":[1]})"), now).error, "");
  EXPECT_NE(v->verify(std::string(9000, 'a'), now).error, "") << "oversized";
}

// Issue 15: exp * 1000 of a huge NumericDate was cast to int64 unchecked (undefined behaviour;
// tests/fuzz/corpus/jwt_token/signed_huge_exp). It is clamped to the end of year 9999.
TEST(JwtVerifier, HugeExpIsClampedToYear9999) {
  auto check = verifier()->verify(mint(R"({"sub":"alice","exp":1e300})"), now);
  EXPECT_EQ(check.error, "");
  EXPECT_EQ(check.grant.expires_ms, std::int64_t{253'402'300'799'000});
}

TEST(JwtVerifier, AudienceAndIssuerWhenConfigured) {
  auto v = verifier({secret, "", "herald", "iss.test"});
  EXPECT_EQ(
      v->verify(mint(R"({"sub":"a","exp":1800000060,"aud":"herald","iss":"iss.test"})"), now).error,
      "");
  EXPECT_EQ(
      v->verify(mint(R"({"sub":"a","exp":1800000060,"aud":["x","herald"],"iss":"iss.test"})"), now)
          .error,
      "");
  EXPECT_NE(v->verify(mint(R"({"sub":"a","exp":1800000060,"iss":"iss.test"})"), now).error, "");
  EXPECT_NE(v->verify(mint(R"({"sub":"a","exp":1800000060,"aud":"herald"})"), now).error, "");
  EXPECT_NE(v->verify(mint(R"({"sub":"a","exp":1800000060,"aud":"herald","iss":"x"})"), now).error,
            "");
}

TEST(JwtVerifier, AnHs256TokenIsRefusedWhereOnlyAPublicKeyIsConfigured) {
  char path[] = "/tmp/herald-jwt-test-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  // A fresh P-256 public key: the token is refused for its alg before any signature check.
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{EVP_EC_gen("P-256"), &EVP_PKEY_free};
  ASSERT_TRUE(key);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio{BIO_new(BIO_s_mem()), &BIO_free};
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio.get(), key.get()), 1);
  char* data = nullptr;
  auto size = BIO_get_mem_data(bio.get(), &data);
  std::string pem_text{data, static_cast<std::size_t>(size)};
  const char* pem = pem_text.c_str();
  ASSERT_EQ(write(fd, pem, std::strlen(pem)), static_cast<ssize_t>(std::strlen(pem)));
  close(fd);
  auto loaded = load_jwt_verifier({"", path, "", ""});
  std::remove(path);
  ASSERT_TRUE(std::holds_alternative<std::shared_ptr<const token_verifier>>(loaded))
      << std::get<std::string>(loaded);
  auto v = std::get<std::shared_ptr<const token_verifier>>(loaded);
  auto check = v->verify(mint(R"({"sub":"a","exp":1800000060})", pem), now);
  EXPECT_NE(check.error.find("HS256"), std::string::npos) << check.error;
}

TEST(JwtVerifier, LoaderNamesTheFlagOnABadFile) {
  auto loaded = load_jwt_verifier({"", "/nonexistent/key.pem", "", ""});
  ASSERT_TRUE(std::holds_alternative<std::string>(loaded));
  EXPECT_NE(std::get<std::string>(loaded).find("--jwt-public-key"), std::string::npos);
}

} // namespace
} // namespace herald
