#include "http/query_string.hpp"

#include <gtest/gtest.h>

using herald::percent_decode;
using herald::query_string;
using herald::split_target;

TEST(SplitTarget, SeparatesPathFromQuery) {
  auto [path, query] = split_target("/v1/listen?session=a&cursor=3");
  EXPECT_EQ(path, "/v1/listen");
  EXPECT_EQ(query, "session=a&cursor=3");
}

TEST(SplitTarget, WithoutQuestionMarkHasEmptyQuery) {
  auto [path, query] = split_target("/v1/rpc");
  EXPECT_EQ(path, "/v1/rpc");
  EXPECT_EQ(query, "");
}

TEST(SplitTarget, SplitsAtTheFirstQuestionMarkOnly) {
  auto [path, query] = split_target("/v1/rpc?q=a?b");
  EXPECT_EQ(path, "/v1/rpc");
  EXPECT_EQ(query, "q=a?b");
}

TEST(SplitTarget, TrailingQuestionMarkGivesEmptyQuery) {
  auto [path, query] = split_target("/healthz?");
  EXPECT_EQ(path, "/healthz");
  EXPECT_EQ(query, "");
}

TEST(PercentDecode, DecodesEscapesInBothCases) {
  EXPECT_EQ(percent_decode("a%20b%2fc%2Fd"), "a b/c/d");
}

TEST(PercentDecode, ReadsPlusAsSpace) {
  EXPECT_EQ(percent_decode("hello+world"), "hello world");
}

TEST(PercentDecode, EncodedPlusStaysPlus) {
  EXPECT_EQ(percent_decode("1%2B1"), "1+1");
}

TEST(PercentDecode, DecodesMultiByteUtf8) {
  EXPECT_EQ(percent_decode("%C3%A9t%C3%A9"), "\xC3\xA9t\xC3\xA9");
}

TEST(PercentDecode, DecodesNulAndHighBytes) {
  auto decoded = percent_decode("%00%ff");
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, std::string("\x00\xFF", 2));
}

TEST(PercentDecode, LeavesPlainTextAlone) {
  EXPECT_EQ(percent_decode("plain-text_1.2~"), "plain-text_1.2~");
  EXPECT_EQ(percent_decode(""), "");
}

TEST(PercentDecode, RejectsNonHexEscape) {
  EXPECT_FALSE(percent_decode("%zz"));
  EXPECT_FALSE(percent_decode("a%2g"));
  EXPECT_FALSE(percent_decode("%g2"));
}

TEST(PercentDecode, RejectsPercentAtEnd) {
  EXPECT_FALSE(percent_decode("abc%"));
  EXPECT_FALSE(percent_decode("%"));
}

TEST(PercentDecode, RejectsTruncatedEscape) {
  EXPECT_FALSE(percent_decode("abc%4"));
}

TEST(PercentDecode, DoesNotReadPastTheEndOfItsInput) {
  // The hex digits after the cut belong to someone else's memory.
  std::string_view cut = std::string_view{"abc%41"}.substr(0, 5);
  EXPECT_FALSE(percent_decode(cut));
}

TEST(PercentDecode, DoesNotDecodeTwice) {
  EXPECT_EQ(percent_decode("%2541"), "%41");
}

TEST(QueryString, ParsesNamesAndValues) {
  auto q = query_string::parse("session=abc&cursor=12");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->get("session"), "abc");
  EXPECT_EQ(q->get("cursor"), "12");
}

TEST(QueryString, DecodesNamesAndValues) {
  auto q = query_string::parse("q=%7B%22method%22%3A%22ping%22%7D&my%20name=a+b");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->get("q"), R"({"method":"ping"})");
  EXPECT_EQ(q->get("my name"), "a b");
}

TEST(QueryString, FirstOccurrenceWins) {
  auto q = query_string::parse("cursor=1&cursor=2");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->get("cursor"), "1");
}

TEST(QueryString, MissingNameIsAbsent) {
  auto q = query_string::parse("a=1");
  ASSERT_TRUE(q);
  EXPECT_FALSE(q->get("b"));
  EXPECT_FALSE(q->has("b"));
}

TEST(QueryString, NamesAreCaseSensitive) {
  auto q = query_string::parse("Session=a");
  ASSERT_TRUE(q);
  EXPECT_FALSE(q->has("session"));
  EXPECT_TRUE(q->has("Session"));
}

TEST(QueryString, NameWithoutEqualsHasEmptyValue) {
  auto q = query_string::parse("jsonp&a=1");
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->has("jsonp"));
  EXPECT_EQ(q->get("jsonp"), "");
}

TEST(QueryString, EmptyValueIsPresent) {
  auto q = query_string::parse("callback=");
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->has("callback"));
  EXPECT_EQ(q->get("callback"), "");
}

TEST(QueryString, ValueMayContainEquals) {
  auto q = query_string::parse("q=a=b");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->get("q"), "a=b");
}

TEST(QueryString, SkipsEmptyPairs) {
  auto q = query_string::parse("&a=1&&b=2&");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->get("a"), "1");
  EXPECT_EQ(q->get("b"), "2");
  EXPECT_FALSE(q->has(""));
}

TEST(QueryString, SkipsPairsWithEmptyName) {
  auto q = query_string::parse("=1&a=2");
  ASSERT_TRUE(q);
  EXPECT_FALSE(q->has(""));
  EXPECT_EQ(q->get("a"), "2");
}

TEST(QueryString, EmptyQueryHasNothing) {
  auto q = query_string::parse("");
  ASSERT_TRUE(q);
  EXPECT_FALSE(q->has("a"));
}

TEST(QueryString, MalformedEscapeInValueFailsWholeQuery) {
  EXPECT_FALSE(query_string::parse("a=1&b=%zz"));
}

TEST(QueryString, MalformedEscapeInNameFailsWholeQuery) {
  EXPECT_FALSE(query_string::parse("a%=1"));
}

TEST(QueryString, PercentAtEndFailsWholeQuery) {
  EXPECT_FALSE(query_string::parse("a=1%"));
}

TEST(QueryString, MalformedEscapeAfterDuplicateStillFails) {
  // The first occurrence wins, but a broken later one is still an error.
  EXPECT_FALSE(query_string::parse("a=1&a=%x"));
}
