#include "tools/client/sse_parser.hpp"

#include <gtest/gtest.h>

namespace herald::client {
namespace {

std::vector<sse_event> parse_all(std::string_view text) {
  sse_parser parser;
  std::vector<sse_event> events;
  EXPECT_TRUE(parser.feed(text, events));
  return events;
}

TEST(SseParser, ReadsHeraldEventsAndSkipsRetryAndComments) {
  sse_parser parser;
  std::vector<sse_event> events;
  ASSERT_TRUE(parser.feed("retry: 2000\n\n: heartbeat 1\n\nid: s_1.1\nevent: join\n"
                          "data: {\"type\":\"join\",\"eid\":1}\n\n",
                          events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].id, "s_1.1");
  EXPECT_EQ(events[0].type, "join");
  EXPECT_EQ(events[0].data, R"({"type":"join","eid":1})");
  EXPECT_EQ(parser.retry(), 2000u);
  EXPECT_EQ(parser.comments(), 1u);
}

TEST(SseParser, AssemblesEventsSplitAcrossChunksAtAnyByte) {
  std::string text = "id: a.7\r\nevent: message\r\ndata: {\"x\":1}\r\n\r\nid: a.8\ndata: y\n\n";
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    sse_parser parser;
    std::vector<sse_event> events;
    ASSERT_TRUE(parser.feed(std::string_view{text}.substr(0, cut), events));
    ASSERT_TRUE(parser.feed(std::string_view{text}.substr(cut), events));
    ASSERT_EQ(events.size(), 2u) << "cut at " << cut;
    EXPECT_EQ(events[0].id, "a.7");
    EXPECT_EQ(events[0].data, R"({"x":1})");
    EXPECT_EQ(events[1].id, "a.8");
    EXPECT_EQ(events[1].type, "message") << "the default type";
  }
}

TEST(SseParser, AcceptsBareCarriageReturnLineEnds) {
  auto events = parse_all("event: error\rdata: x\r\r");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "error");
  EXPECT_EQ(events[0].data, "x");
}

TEST(SseParser, JoinsDataLinesWithNewlinesAndKeepsValueSpacesAfterTheFirst) {
  auto events = parse_all("data:a\ndata:  b\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "a\n b");
}

TEST(SseParser, ABlockWithoutDataDispatchesNothing) {
  EXPECT_TRUE(parse_all("id: s.superseded\nevent: superseded\n\n").empty());
  EXPECT_TRUE(parse_all("\n\n\n").empty());
}

TEST(SseParser, UnfinishedBlockWaitsForItsBlankLine) {
  EXPECT_TRUE(parse_all("data: x\n").empty());
}

TEST(SseParser, RefusesALineLongerThanTheLimit) {
  sse_parser parser{8};
  std::vector<sse_event> events;
  EXPECT_TRUE(parser.feed("data: 12", events));
  EXPECT_FALSE(parser.feed("3", events));
}

TEST(SseParser, EachEventStartsFresh) {
  auto events = parse_all("id: s.1\nevent: join\ndata: a\n\ndata: b\n\n");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_FALSE(events[1].id.has_value());
  EXPECT_EQ(events[1].type, "message");
}

} // namespace
} // namespace herald::client
