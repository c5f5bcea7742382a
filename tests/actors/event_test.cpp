#include "actors/event.hpp"

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace herald {
namespace {

constexpr std::int64_t t = 1700000000000;

// Parses `text` and fails the test when it is not JSON.
nlohmann::json parsed(const std::string& text) {
  auto value = nlohmann::json::parse(text, nullptr, false);
  EXPECT_FALSE(value.is_discarded()) << "not JSON: " << text;
  return value;
}

TEST(Event, MessageRendersInTheContractsShape) {
  auto e = make_message_event("lobby", 42, "9f2c", "alice", R"({"text":"hi","n":[1,2]})", t);
  EXPECT_EQ(e.type, "message");
  auto text = render_with_eid(e, 17);
  EXPECT_EQ(text, R"({"type":"message","eid":17,"group":"lobby","seq":42,"epoch":"9f2c",)"
                  R"("from":"alice","data":{"text":"hi","n":[1,2]},"time":1700000000000})");
  auto value = parsed(text);
  EXPECT_EQ(value["data"]["n"][1], 2);
}

TEST(Event, DirectRendersInTheContractsShape) {
  auto text = render_with_eid(make_direct_event("alice", "bob", "\"psst\"", t), 18);
  EXPECT_EQ(text, R"({"type":"direct","eid":18,"from":"alice","to":"bob","data":"psst",)"
                  R"("time":1700000000000})");
  parsed(text);
}

TEST(Event, JoinRendersInTheContractsShape) {
  auto text = render_with_eid(make_join_event("lobby", "carol", t), 19);
  EXPECT_EQ(text,
            R"({"type":"join","eid":19,"group":"lobby","user":"carol","time":1700000000000})");
  parsed(text);
}

TEST(Event, LeaveRendersInTheContractsShapeWithItsReason) {
  for (const char* reason : {"leave", "exit", "expired"}) {
    auto text = render_with_eid(make_leave_event("lobby", "carol", reason, t), 20);
    EXPECT_EQ(text, std::string{R"({"type":"leave","eid":20,"group":"lobby","user":"carol",)"}
                        + R"("reason":")" + reason + R"(","time":1700000000000})");
    EXPECT_EQ(parsed(text)["reason"], reason);
  }
}

TEST(Event, OverflowRendersInTheContractsShape) {
  auto text = render_overflow(21, 130, t);
  EXPECT_EQ(text, R"({"type":"overflow","eid":21,"dropped":130,"time":1700000000000})");
  parsed(text);
}

TEST(Event, HistoryRenderingHasNoEid) {
  auto text = render_without_eid(make_message_event("lobby", 3, "ep", "bob", "null", t));
  EXPECT_EQ(text, R"({"type":"message","group":"lobby","seq":3,"epoch":"ep","from":"bob",)"
                  R"("data":null,"time":1700000000000})");
  EXPECT_FALSE(parsed(text).contains("eid"));
}

TEST(Event, AppendWithEidAppendsToWhatIsThere) {
  std::string out = "[";
  append_with_eid(out, make_join_event("g", "u", 5), 1);
  EXPECT_EQ(out, R"([{"type":"join","eid":1,"group":"g","user":"u","time":5})");
}

TEST(Event, QuotesAndBackslashesInNamesAreEscaped) {
  auto e = make_message_event("lobby", 1, "ep", "a\"b\\c", "1", t);
  auto text = render_with_eid(e, 1);
  EXPECT_NE(text.find(R"("from":"a\"b\\c")"), std::string::npos) << text;
  EXPECT_EQ(parsed(text)["from"], "a\"b\\c");
  auto join = parsed(render_with_eid(make_join_event("g", "\"}],{", t), 2));
  EXPECT_EQ(join["user"], "\"}],{");
  EXPECT_EQ(join["time"], t) << "a name cannot end the object early";
}

TEST(Event, ControlCharactersInNamesAreEscaped) {
  auto text = render_with_eid(make_join_event("g", "a\nb\x01", t), 1);
  EXPECT_NE(text.find(R"("user":"a\nb\u0001")"), std::string::npos) << text;
  EXPECT_EQ(parsed(text)["user"], "a\nb\x01");
}

TEST(Event, UnicodeInNamesStaysUtf8AndRoundTrips) {
  const std::string user = "Zo\xC3\xAB \xF0\x9F\x98\x80 \xE2\x80\xA8";
  auto text = render_with_eid(make_leave_event("g", user, "exit", t), 1);
  EXPECT_NE(text.find("\"user\":\"" + user + "\""), std::string::npos) << text;
  EXPECT_EQ(parsed(text)["user"], user);
}

TEST(Event, InvalidUtf8InANameIsReplacedNotThrown) {
  std::string text;
  EXPECT_NO_THROW(text = render_with_eid(make_join_event("g", "bad\xC3(", t), 1));
  EXPECT_EQ(parsed(text)["user"], "bad\xEF\xBF\xBD(") << "U+FFFD in place of the broken byte";
}

TEST(Event, JsonQuoteQuotesAndEscapes) {
  EXPECT_EQ(json_quote(""), "\"\"");
  EXPECT_EQ(json_quote("lobby"), "\"lobby\"");
  EXPECT_EQ(json_quote("a\"b"), R"("a\"b")");
  EXPECT_EQ(json_quote("</script>"), "\"</script>\"");
}

TEST(Event, NowIsMillisecondsSinceTheUnixEpoch) {
  // After 2020-01-01 in ms, and not in microseconds (which would be ~1000x).
  auto now = now_ms();
  EXPECT_GT(now, 1577836800000);
  EXPECT_LT(now, 1577836800000 * 100);
}

} // namespace
} // namespace herald
