#include "http/jsonp.hpp"

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using herald::escape_json_for_script;
using herald::is_valid_callback;
using herald::wrap_jsonp;

namespace {

const std::string line_separator = "\xE2\x80\xA8";      // U+2028
const std::string paragraph_separator = "\xE2\x80\xA9"; // U+2029

} // namespace

TEST(JsonpCallback, AcceptsPlainAndDottedNames) {
  EXPECT_TRUE(is_valid_callback("cb"));
  EXPECT_TRUE(is_valid_callback("jQuery123_456"));
  EXPECT_TRUE(is_valid_callback("window.herald.on_reply"));
  EXPECT_TRUE(is_valid_callback("_"));
  EXPECT_TRUE(is_valid_callback("$"));
}

TEST(JsonpCallback, AcceptsDollarFollowedByDot) {
  EXPECT_TRUE(is_valid_callback("$.a"));
}

TEST(JsonpCallback, RejectsEmptyName) {
  EXPECT_FALSE(is_valid_callback(""));
}

TEST(JsonpCallback, RejectsLeadingDigit) {
  EXPECT_FALSE(is_valid_callback("1abc"));
}

TEST(JsonpCallback, RejectsLeadingDot) {
  EXPECT_FALSE(is_valid_callback(".a"));
}

TEST(JsonpCallback, RejectsHyphen) {
  EXPECT_FALSE(is_valid_callback("a-b"));
}

TEST(JsonpCallback, RejectsScriptInjection) {
  EXPECT_FALSE(is_valid_callback("alert(1);cb"));
  EXPECT_FALSE(is_valid_callback("cb</script>"));
  EXPECT_FALSE(is_valid_callback("a b"));
  EXPECT_FALSE(is_valid_callback("a[0]"));
  EXPECT_FALSE(is_valid_callback(std::string("a\0b", 3)));
}

TEST(JsonpCallback, RejectsNonAsciiLetters) {
  EXPECT_FALSE(is_valid_callback("caf\xC3\xA9"));
}

TEST(JsonpCallback, Accepts64CharactersRejects65) {
  EXPECT_TRUE(is_valid_callback("a" + std::string(63, 'b')));
  EXPECT_FALSE(is_valid_callback("a" + std::string(64, 'b')));
}

TEST(WrapJsonp, WrapsJsonInACall) {
  EXPECT_EQ(wrap_jsonp("cb", R"({"id":1,"result":{}})"), R"(cb({"id":1,"result":{}});)");
}

TEST(WrapJsonp, EscapesLineAndParagraphSeparators) {
  auto json = "[\"a" + line_separator + "b" + paragraph_separator + "c\"]";
  EXPECT_EQ(wrap_jsonp("f", json), R"(f(["a\u2028b\u2029c"]);)");
}

TEST(WrapJsonp, LeavesHtmlCharactersAndOtherUnicodeAlone) {
  // U+2027 shares the first two bytes with U+2028 and must pass unchanged.
  auto json = "[\"<&>\xE2\x80\xA7\xC3\xA9\"]";
  EXPECT_EQ(wrap_jsonp("f", json), "f(" + std::string{json} + ");");
}

TEST(WrapJsonp, EscapedPayloadStillParsesToTheSameValue) {
  nlohmann::json value = {{"text", "x" + line_separator + "y"}};
  auto wrapped = wrap_jsonp("f", value.dump());
  auto inner = wrapped.substr(2, wrapped.size() - 4);
  EXPECT_EQ(nlohmann::json::parse(inner), value);
}

TEST(EscapeJsonForScript, EscapesAngleBracketsAndAmpersand) {
  EXPECT_EQ(escape_json_for_script(R"(["</script><!--&"])"),
            R"(["\u003c/script\u003e\u003c!--\u0026"])");
}

TEST(EscapeJsonForScript, EscapesLineAndParagraphSeparators) {
  auto json = "\"" + line_separator + paragraph_separator + "\"";
  EXPECT_EQ(escape_json_for_script(json), R"("\u2028\u2029")");
}

TEST(EscapeJsonForScript, LeavesOtherTextAlone) {
  std::string json = R"({"a":[1,2.5,true,null],"b":"caf)"
                     "\xC3\xA9"
                     R"("})";
  EXPECT_EQ(escape_json_for_script(json), json);
}

TEST(EscapeJsonForScript, HandlesTruncatedSeparatorPrefixAtEnd) {
  // A lone E2 80 at the end is not U+2028 and must not be read past.
  std::string text = "ab\xE2\x80";
  EXPECT_EQ(escape_json_for_script(text), text);
}

TEST(EscapeJsonForScript, KeepsTheJsonValueEquivalent) {
  nlohmann::json value = {{"html", "<b>a & b</b>" + paragraph_separator}, {"n", 1}};
  auto escaped = escape_json_for_script(value.dump());
  EXPECT_EQ(escaped.find_first_of("<>&"), std::string::npos);
  EXPECT_EQ(escaped.find(paragraph_separator), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(escaped), value);
}
