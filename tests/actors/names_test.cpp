#include "actors/names.hpp"

#include <regex>
#include <string>

#include <gtest/gtest.h>

namespace herald {
namespace {

std::string repeat(const std::string& unit, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i)
    out += unit;
  return out;
}

// --- group names -------------------------------------------------------------

TEST(Names, GroupNameAcceptsItsWholeAlphabet) {
  EXPECT_TRUE(is_valid_group_name("lobby"));
  EXPECT_TRUE(is_valid_group_name("Room_1.eu-west:chat/general"));
  EXPECT_TRUE(is_valid_group_name("x"));
}

TEST(Names, GroupNameIsOneTo128Chars) {
  EXPECT_FALSE(is_valid_group_name(""));
  EXPECT_TRUE(is_valid_group_name(std::string(128, 'g')));
  EXPECT_FALSE(is_valid_group_name(std::string(129, 'g')));
}

TEST(Names, GroupNameRefusesCharsOutsideItsAlphabet) {
  for (const char* bad : {"a b", "a@b", "a#b", "a?b", "a\"b", "caf\xC3\xA9", "a\nb", "a,b", "a*b"})
    EXPECT_FALSE(is_valid_group_name(bad)) << bad;
  EXPECT_FALSE(is_valid_group_name(std::string("a\0b", 3)));
}

// --- session ids -------------------------------------------------------------

TEST(Names, SessionIdIsOneTo64CharsOfItsAlphabet) {
  EXPECT_TRUE(is_valid_session_id("node-1_AbC09xyz"));
  EXPECT_TRUE(is_valid_session_id(std::string(64, 's')));
  EXPECT_FALSE(is_valid_session_id(std::string(65, 's')));
  EXPECT_FALSE(is_valid_session_id(""));
}

TEST(Names, SessionIdRefusesGroupOnlyAndOtherChars) {
  for (const char* bad : {"a.b", "a:b", "a/b", "a b", "a+b", "a=b", "\xC3\xA9"})
    EXPECT_FALSE(is_valid_session_id(bad)) << bad;
}

// --- user names --------------------------------------------------------------

TEST(Names, UserNameAcceptsUnicode) {
  EXPECT_TRUE(is_valid_user_name("alice"));
  EXPECT_TRUE(is_valid_user_name("Zoë Ünal"));
  EXPECT_TRUE(is_valid_user_name("\xE7\x8E\x8B\xE5\xB0\x8F\xE6\x98\x8E")); // 王小明
  EXPECT_TRUE(is_valid_user_name("\xF0\x9F\x98\x80"));                     // 😀
  EXPECT_TRUE(is_valid_user_name("a\"b\\c<script>"));
}

TEST(Names, UserNameCountsCodePointsNotBytes) {
  EXPECT_FALSE(is_valid_user_name(""));
  EXPECT_TRUE(is_valid_user_name(std::string(64, 'a')));
  EXPECT_FALSE(is_valid_user_name(std::string(65, 'a')));
  // Two bytes each: 64 code points are 128 bytes and fine; 65 are not.
  EXPECT_TRUE(is_valid_user_name(repeat("\xC3\xA9", 64)));
  EXPECT_FALSE(is_valid_user_name(repeat("\xC3\xA9", 65)));
  // Four bytes each.
  EXPECT_TRUE(is_valid_user_name(repeat("\xF0\x9F\x98\x80", 64)));
  EXPECT_FALSE(is_valid_user_name(repeat("\xF0\x9F\x98\x80", 65)));
  // Three bytes each, plus one ASCII char on the limit.
  EXPECT_TRUE(is_valid_user_name(repeat("\xE2\x82\xAC", 63) + "x"));
  EXPECT_FALSE(is_valid_user_name(repeat("\xE2\x82\xAC", 64) + "x"));
}

TEST(Names, UserNameRefusesControlCharacters) {
  for (const char* bad : {"a\x01", "a\tb", "a\nb", "\rb", "a\x1F", "a\x7F", "\x1B[31m"})
    EXPECT_FALSE(is_valid_user_name(bad)) << static_cast<int>(bad[1]);
  EXPECT_FALSE(is_valid_user_name(std::string("a\0b", 3)));
  EXPECT_TRUE(is_valid_user_name("a b")) << "space is not a control character";
}

TEST(Names, UserNameRefusesC1ControlCharacters) {
  EXPECT_FALSE(is_valid_user_name("a\xC2\x80")); // U+0080
  EXPECT_FALSE(is_valid_user_name("a\xC2\x85")); // U+0085 NEXT LINE
  EXPECT_FALSE(is_valid_user_name("\xC2\x9F"
                                  "b"));        // U+009F
  EXPECT_TRUE(is_valid_user_name("a\xC2\xA0")); // U+00A0 NO-BREAK SPACE is not Cc
  EXPECT_TRUE(is_valid_user_name("\xC2\xA9"));  // ©
}

TEST(Names, UserNameRefusesOverlongEncodings) {
  EXPECT_FALSE(is_valid_user_name("\xC0\xAF"));         // '/' in two bytes
  EXPECT_FALSE(is_valid_user_name("\xC1\xBF"));         // U+007F in two bytes
  EXPECT_FALSE(is_valid_user_name("\xE0\x80\xAF"));     // '/' in three bytes
  EXPECT_FALSE(is_valid_user_name("\xE0\x9F\xBF"));     // U+07FF in three bytes
  EXPECT_FALSE(is_valid_user_name("\xF0\x80\x80\xAF")); // '/' in four bytes
  EXPECT_FALSE(is_valid_user_name("\xF0\x8F\xBF\xBF")); // U+FFFF in four bytes
  EXPECT_FALSE(is_valid_user_name("\xC0\x80"));         // "modified UTF-8" NUL
  // The shortest forms of the same boundaries are fine.
  EXPECT_TRUE(is_valid_user_name("\xDF\xBF"));         // U+07FF
  EXPECT_TRUE(is_valid_user_name("\xE0\xA0\x80"));     // U+0800
  EXPECT_TRUE(is_valid_user_name("\xF0\x90\x80\x80")); // U+10000
}

TEST(Names, UserNameRefusesSurrogatesAndValuesPastTheLastCodePoint) {
  EXPECT_FALSE(is_valid_user_name("\xED\xA0\x80"));             // U+D800
  EXPECT_FALSE(is_valid_user_name("\xED\xBF\xBF"));             // U+DFFF
  EXPECT_FALSE(is_valid_user_name("\xED\xA0\xBD\xED\xB8\x80")); // CESU-8 pair for 😀
  EXPECT_TRUE(is_valid_user_name("\xED\x9F\xBF"));              // U+D7FF
  EXPECT_TRUE(is_valid_user_name("\xEE\x80\x80"));              // U+E000
  EXPECT_TRUE(is_valid_user_name("\xF4\x8F\xBF\xBF"));          // U+10FFFF
  EXPECT_FALSE(is_valid_user_name("\xF4\x90\x80\x80"));         // U+110000
  EXPECT_FALSE(is_valid_user_name("\xF7\xBF\xBF\xBF"));
}

TEST(Names, UserNameRefusesTruncatedSequences) {
  EXPECT_FALSE(is_valid_user_name("a\xC3"));
  EXPECT_FALSE(is_valid_user_name("a\xE2\x82"));
  EXPECT_FALSE(is_valid_user_name("a\xF0\x9F\x98"));
  // Cut short in the middle, followed by more text.
  EXPECT_FALSE(is_valid_user_name("\xE2\x82"
                                  "ab"));
  EXPECT_FALSE(is_valid_user_name("\xF0\x9F"
                                  "abc"));
}

TEST(Names, UserNameRefusesStrayAndImpossibleBytes) {
  EXPECT_FALSE(is_valid_user_name("\x80"));
  EXPECT_FALSE(is_valid_user_name("a\xBF"
                                  "b"));
  EXPECT_FALSE(is_valid_user_name("\xFE"));
  EXPECT_FALSE(is_valid_user_name("\xFF"));
  EXPECT_FALSE(is_valid_user_name("\xF8\x88\x80\x80\x80")); // five-byte form
}

TEST(Names, Utf8CheckAcceptsTheEmptyStringAndPlainAscii) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii \x01\x7F"));
  EXPECT_FALSE(is_valid_utf8("\xC3\x28"));
}

// --- node names and session ids ----------------------------------------------

TEST(Names, SanitizeNodeNameKeepsLettersDigitsAndDashes) {
  EXPECT_EQ(sanitize_node_name("node-1"), "node-1");
  EXPECT_EQ(sanitize_node_name("Herald-EU-2"), "Herald-EU-2");
}

TEST(Names, SanitizeNodeNameTurnsUnderscoresAndDotsIntoDashes) {
  EXPECT_EQ(sanitize_node_name("web_1.example.com"), "web-1-example-com");
}

TEST(Names, SanitizeNodeNameDropsEverythingElse) {
  EXPECT_EQ(sanitize_node_name("h\xC3\xA9llo world!"), "hlloworld");
  EXPECT_EQ(sanitize_node_name("a:b/c"), "abc");
}

TEST(Names, SanitizeNodeNameKeepsAtMost32Chars) {
  EXPECT_EQ(sanitize_node_name(std::string(40, 'n')), std::string(32, 'n'));
  EXPECT_EQ(sanitize_node_name("!!" + std::string(40, 'n')), std::string(32, 'n'));
}

TEST(Names, SanitizeNodeNameFallsBackToNode) {
  EXPECT_EQ(sanitize_node_name(""), "node");
  EXPECT_EQ(sanitize_node_name("!!!"), "node");
}

TEST(Names, SessionIdIsNodeUnderscoreAnd22Base62Chars) {
  auto id = make_session_id("node-1");
  EXPECT_TRUE(std::regex_match(id, std::regex{"node-1_[0-9A-Za-z]{22}"})) << id;
  EXPECT_TRUE(is_valid_session_id(id));
}

TEST(Names, SessionIdOfTheLongestNodeNameIsStillValid) {
  auto id = make_session_id(sanitize_node_name(std::string(100, 'n')));
  EXPECT_EQ(id.size(), 32u + 1u + 22u);
  EXPECT_TRUE(is_valid_session_id(id));
}

TEST(Names, SessionIdsAreFresh) {
  EXPECT_NE(make_session_id("n"), make_session_id("n"));
}

TEST(Names, NodeOfSessionIdIsThePartBeforeTheFirstUnderscore) {
  auto node = sanitize_node_name("web_1.example.com");
  EXPECT_EQ(node_of_session_id(make_session_id(node)), node);
  EXPECT_EQ(node_of_session_id("n1_abc"), "n1");
  EXPECT_EQ(node_of_session_id("noseparator"), "");
  EXPECT_EQ(node_of_session_id("_abc"), "");
}

TEST(Names, EpochIs12LowercaseHexCharsAndFresh) {
  auto epoch = make_epoch();
  EXPECT_TRUE(std::regex_match(epoch, std::regex{"[0-9a-f]{12}"})) << epoch;
  EXPECT_NE(make_epoch(), make_epoch());
}

} // namespace
} // namespace herald
