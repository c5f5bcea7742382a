#include "http/cors.hpp"

#include <gtest/gtest.h>

using herald::cors_policy;
using verdict = herald::cors_policy::verdict;

TEST(CorsPolicy, NoOriginIsNeitherAllowedNorRefused) {
  cors_policy same_origin{{}};
  cors_policy listed{{"http://a.example"}};
  EXPECT_EQ(same_origin.check("", "127.0.0.1:8080"), verdict::no_origin);
  EXPECT_EQ(listed.check("", "127.0.0.1:8080"), verdict::no_origin);
}

TEST(CorsPolicy, NoOriginGetsNoHeaderUnlessWildcard) {
  EXPECT_EQ(cors_policy{{}}.allow_origin_value("", "h:80"), "");
  EXPECT_EQ(cors_policy{{"http://a.example"}}.allow_origin_value("", "h:80"), "");
  EXPECT_EQ(cors_policy{{"*"}}.allow_origin_value("", "h:80"), "*");
}

TEST(CorsPolicy, EmptyListAllowsSameOrigin) {
  cors_policy policy{{}};
  EXPECT_EQ(policy.check("http://127.0.0.1:8080", "127.0.0.1:8080"), verdict::allowed);
  EXPECT_EQ(policy.allow_origin_value("http://127.0.0.1:8080", "127.0.0.1:8080"),
            "http://127.0.0.1:8080");
}

TEST(CorsPolicy, EmptyListRefusesOtherHost) {
  cors_policy policy{{}};
  EXPECT_EQ(policy.check("http://evil.example:8080", "127.0.0.1:8080"), verdict::refused);
  EXPECT_EQ(policy.allow_origin_value("http://evil.example:8080", "127.0.0.1:8080"), "");
}

TEST(CorsPolicy, EmptyListRefusesOtherPort) {
  cors_policy policy{{}};
  EXPECT_EQ(policy.check("http://127.0.0.1:9090", "127.0.0.1:8080"), verdict::refused);
}

TEST(CorsPolicy, SameOriginComparesCaseInsensitively) {
  cors_policy policy{{}};
  EXPECT_EQ(policy.check("HTTP://Chat.Example.COM:8080", "chat.example.com:8080"),
            verdict::allowed);
  EXPECT_EQ(policy.check("http://chat.example.com:8080", "CHAT.example.com:8080"),
            verdict::allowed);
}

TEST(CorsPolicy, SameOriginTreatsDefaultHttpPortAsAbsent) {
  cors_policy policy{{}};
  EXPECT_EQ(policy.check("http://example.com", "example.com:80"), verdict::allowed);
  EXPECT_EQ(policy.check("http://example.com:80", "example.com"), verdict::allowed);
}

TEST(CorsPolicy, SameOriginTreatsDefaultHttpsPortAsAbsent) {
  cors_policy policy{{}};
  EXPECT_EQ(policy.check("https://example.com", "example.com:443"), verdict::allowed);
  EXPECT_EQ(policy.check("https://example.com:443", "example.com"), verdict::allowed);
}

TEST(CorsPolicy, DefaultPortDependsOnScheme) {
  cors_policy policy{{}};
  EXPECT_EQ(policy.check("https://example.com", "example.com:80"), verdict::refused);
  EXPECT_EQ(policy.check("http://example.com", "example.com:443"), verdict::refused);
}

TEST(CorsPolicy, SameOriginHandlesIpv6Literals) {
  cors_policy policy{{}};
  EXPECT_EQ(policy.check("http://[::1]:8080", "[::1]:8080"), verdict::allowed);
  EXPECT_EQ(policy.check("http://[::1]", "[::1]:80"), verdict::allowed);
  EXPECT_EQ(policy.check("http://[::1]:8080", "[::2]:8080"), verdict::refused);
}

TEST(CorsPolicy, SameOriginRefusesMissingHost) {
  cors_policy policy{{}};
  EXPECT_EQ(policy.check("http://127.0.0.1:8080", ""), verdict::refused);
}

TEST(CorsPolicy, SameOriginRefusesMalformedOrigin) {
  cors_policy policy{{}};
  EXPECT_EQ(policy.check("127.0.0.1:8080", "127.0.0.1:8080"), verdict::refused);
  EXPECT_EQ(policy.check("http://", ""), verdict::refused);
  EXPECT_EQ(policy.check("http://127.0.0.1:8080/path", "127.0.0.1:8080"), verdict::refused);
  EXPECT_EQ(policy.check("http://user@127.0.0.1:8080", "user@127.0.0.1:8080"), verdict::refused);
}

TEST(CorsPolicy, SameOriginRefusesNonWebSchemes) {
  cors_policy policy{{}};
  EXPECT_EQ(policy.check("ftp://127.0.0.1:8080", "127.0.0.1:8080"), verdict::refused);
}

TEST(CorsPolicy, NullOriginRefusedWithoutWildcard) {
  EXPECT_EQ(cors_policy{{}}.check("null", "null"), verdict::refused);
  EXPECT_EQ(cors_policy{{"null"}}.check("null", "h"), verdict::refused);
  EXPECT_EQ(cors_policy{{"http://a.example"}}.allow_origin_value("null", "h"), "");
}

TEST(CorsPolicy, NullOriginAllowedWithWildcard) {
  EXPECT_EQ(cors_policy{{"*"}}.check("null", "h"), verdict::allowed);
}

TEST(CorsPolicy, WildcardAllowsAnyOriginWithStar) {
  cors_policy policy{{"*"}};
  EXPECT_TRUE(policy.is_wildcard());
  EXPECT_EQ(policy.check("http://anything.example", "127.0.0.1:8080"), verdict::allowed);
  EXPECT_EQ(policy.allow_origin_value("http://anything.example", "127.0.0.1:8080"), "*");
}

TEST(CorsPolicy, WildcardAmongOtherEntriesStillWins) {
  cors_policy policy{{"http://a.example", "*"}};
  EXPECT_TRUE(policy.is_wildcard());
  EXPECT_EQ(policy.check("http://b.example", "h"), verdict::allowed);
}

TEST(CorsPolicy, ListIsNotWildcard) {
  EXPECT_FALSE(cors_policy{{"http://a.example"}}.is_wildcard());
  EXPECT_FALSE(cors_policy{{}}.is_wildcard());
}

TEST(CorsPolicy, ListAllowsListedOriginAndEchoesIt) {
  cors_policy policy{{"http://a.example", "https://b.example:8443"}};
  EXPECT_EQ(policy.check("https://b.example:8443", "127.0.0.1:8080"), verdict::allowed);
  EXPECT_EQ(policy.allow_origin_value("https://b.example:8443", "127.0.0.1:8080"),
            "https://b.example:8443");
}

TEST(CorsPolicy, ListRefusesUnlistedOrigin) {
  cors_policy policy{{"http://a.example"}};
  EXPECT_EQ(policy.check("http://c.example", "127.0.0.1:8080"), verdict::refused);
  EXPECT_EQ(policy.allow_origin_value("http://c.example", "127.0.0.1:8080"), "");
}

TEST(CorsPolicy, ListReplacesSameOriginRule) {
  cors_policy policy{{"http://a.example"}};
  EXPECT_EQ(policy.check("http://127.0.0.1:8080", "127.0.0.1:8080"), verdict::refused);
}

TEST(CorsPolicy, ListComparesSchemeAndHostCaseInsensitively) {
  cors_policy policy{{"http://Example.com:8080"}};
  EXPECT_EQ(policy.check("http://example.com:8080", "h"), verdict::allowed);
  EXPECT_EQ(policy.check("HTTP://EXAMPLE.COM:8080", "h"), verdict::allowed);
}

TEST(CorsPolicy, ListEchoesOriginAsSent) {
  cors_policy policy{{"http://example.com:8080"}};
  EXPECT_EQ(policy.allow_origin_value("http://Example.com:8080", "h"), "http://Example.com:8080");
}

TEST(CorsPolicy, ListIgnoresTrailingSlashOfEntry) {
  cors_policy policy{{"http://example.com:8080/"}};
  EXPECT_EQ(policy.check("http://example.com:8080", "h"), verdict::allowed);
}

TEST(CorsPolicy, ListComparesSchemeAndPortExactly) {
  cors_policy policy{{"http://example.com:8080"}};
  EXPECT_EQ(policy.check("https://example.com:8080", "h"), verdict::refused);
  EXPECT_EQ(policy.check("http://example.com:8081", "h"), verdict::refused);
  EXPECT_EQ(policy.check("http://example.com", "h"), verdict::refused);
  EXPECT_EQ(policy.check("http://sub.example.com:8080", "h"), verdict::refused);
}
