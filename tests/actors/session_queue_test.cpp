#include "actors/session_queue.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "actors/event.hpp"
#include "actors/messages.hpp"

namespace herald {
namespace {

constexpr std::int64_t event_time = 1700000000000;

// A message event whose `seq` tells the test which one it is.
caf::message numbered(std::uint64_t n) {
  return caf::make_message(event_atom::value,
                           make_message_event("lobby", n, "ep", "alice", "{}", event_time));
}

// Renders everything after `cursor` and parses it back.
nlohmann::json render(const session_queue& queue, std::uint64_t cursor = 0,
                      std::size_t max = 1000) {
  std::string out;
  std::uint64_t last = 0;
  queue.render_after(cursor, max, out, last);
  auto parsed = nlohmann::json::parse(out, nullptr, false);
  EXPECT_FALSE(parsed.is_discarded()) << "not JSON: " << out;
  return parsed;
}

std::vector<std::uint64_t> eids_of(const nlohmann::json& events) {
  std::vector<std::uint64_t> out;
  for (const auto& e : events)
    out.push_back(e["eid"].get<std::uint64_t>());
  return out;
}

TEST(SessionQueue, LastEidIsZeroBeforeTheFirstEvent) {
  session_queue queue{10};
  EXPECT_EQ(queue.last_eid(), 0u);
  EXPECT_EQ(queue.size(), 0u);
  EXPECT_FALSE(queue.has_after(0));
}

TEST(SessionQueue, AssignsEidsFromOneIncreasingByOne) {
  session_queue queue{10};
  EXPECT_EQ(queue.push(numbered(1), event_time), 1u);
  EXPECT_EQ(queue.push(numbered(2), event_time), 2u);
  EXPECT_EQ(queue.push(numbered(3), event_time), 3u);
  EXPECT_EQ(queue.last_eid(), 3u);
  EXPECT_EQ(eids_of(render(queue)), (std::vector<std::uint64_t>{1, 2, 3}));
}

TEST(SessionQueue, RendersQueuedEventsAsAJsonArrayWithTheirEids) {
  session_queue queue{10};
  queue.push(numbered(7), event_time);
  queue.push(caf::make_message(event_atom::value, make_join_event("lobby", "bob", event_time)),
             event_time);
  std::string out = "prefix:";
  std::uint64_t last = 0;
  EXPECT_EQ(queue.render_after(0, 10, out, last), 2u);
  EXPECT_EQ(out, "prefix:["
                 R"({"type":"message","eid":1,"group":"lobby","seq":7,"epoch":"ep","from":"alice",)"
                 R"("data":{},"time":1700000000000},)"
                 R"({"type":"join","eid":2,"group":"lobby","user":"bob","time":1700000000000}])");
  EXPECT_EQ(last, 2u);
}

TEST(SessionQueue, RenderAfterStartsAfterTheCursorAndStopsAtMax) {
  session_queue queue{10};
  for (std::uint64_t n = 1; n <= 5; ++n)
    queue.push(numbered(n), event_time);
  std::string out;
  std::uint64_t last = 0;
  EXPECT_EQ(queue.render_after(1, 2, out, last), 2u);
  auto events = nlohmann::json::parse(out);
  EXPECT_EQ(eids_of(events), (std::vector<std::uint64_t>{2, 3}));
  EXPECT_EQ(last, 3u);
}

TEST(SessionQueue, RenderAfterTheLastEidIsAnEmptyArrayAndLeavesLastUnchanged) {
  session_queue queue{10};
  queue.push(numbered(1), event_time);
  queue.push(numbered(2), event_time);
  std::string out;
  std::uint64_t last = 99;
  EXPECT_EQ(queue.render_after(2, 10, out, last), 0u);
  EXPECT_EQ(out, "[]");
  EXPECT_EQ(last, 99u);
}

TEST(SessionQueue, RenderOfAnEmptyQueueIsAnEmptyArray) {
  session_queue queue{10};
  std::string out;
  std::uint64_t last = 5;
  EXPECT_EQ(queue.render_after(0, 10, out, last), 0u);
  EXPECT_EQ(out, "[]");
  EXPECT_EQ(last, 5u);
}

TEST(SessionQueue, RenderAfterDoesNotFreeAnything) {
  session_queue queue{10};
  queue.push(numbered(1), event_time);
  render(queue);
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(eids_of(render(queue)), (std::vector<std::uint64_t>{1}));
}

TEST(SessionQueue, HasAfterTellsWhetherAnEventFollowsTheCursor) {
  session_queue queue{10};
  queue.push(numbered(1), event_time);
  queue.push(numbered(2), event_time);
  EXPECT_TRUE(queue.has_after(0));
  EXPECT_TRUE(queue.has_after(1));
  EXPECT_FALSE(queue.has_after(2));
}

TEST(SessionQueue, AcknowledgeFreesEventsUpToAndIncludingTheCursor) {
  session_queue queue{10};
  for (std::uint64_t n = 1; n <= 4; ++n)
    queue.push(numbered(n), event_time);
  EXPECT_TRUE(queue.acknowledge(2));
  EXPECT_EQ(queue.size(), 2u);
  EXPECT_EQ(eids_of(render(queue, 0)), (std::vector<std::uint64_t>{3, 4}));
}

TEST(SessionQueue, AcknowledgeOfTheLastEidFreesEverythingButKeepsCounting) {
  session_queue queue{10};
  queue.push(numbered(1), event_time);
  queue.push(numbered(2), event_time);
  EXPECT_TRUE(queue.acknowledge(2));
  EXPECT_EQ(queue.size(), 0u);
  EXPECT_FALSE(queue.has_after(0));
  EXPECT_TRUE(queue.acknowledge(2)) << "re-acknowledging the last eid is not an error";
  EXPECT_EQ(queue.push(numbered(3), event_time), 3u) << "eids are never reused";
}

TEST(SessionQueue, AcknowledgeRefusesACursorPastTheLastEidAndFreesNothing) {
  session_queue queue{10};
  queue.push(numbered(1), event_time);
  queue.push(numbered(2), event_time);
  EXPECT_FALSE(queue.acknowledge(3));
  EXPECT_EQ(queue.size(), 2u);
  session_queue empty{10};
  EXPECT_TRUE(empty.acknowledge(0));
  EXPECT_FALSE(empty.acknowledge(1));
}

TEST(SessionQueue, AcknowledgedEventsMakeRoomWithoutOverflow) {
  session_queue queue{3};
  for (std::uint64_t n = 1; n <= 3; ++n)
    queue.push(numbered(n), event_time);
  ASSERT_TRUE(queue.acknowledge(2));
  queue.push(numbered(4), event_time);
  queue.push(numbered(5), event_time);
  auto events = render(queue);
  EXPECT_EQ(eids_of(events), (std::vector<std::uint64_t>{3, 4, 5}));
  for (const auto& e : events)
    EXPECT_EQ(e["type"], "message");
  EXPECT_EQ(queue.dropped_total(), 0u);
}

TEST(SessionQueue, OverflowReplacesTheHeadWithOneOverflowEventCarryingTheNewestRemovedEid) {
  session_queue queue{3};
  for (std::uint64_t n = 1; n <= 3; ++n)
    queue.push(numbered(n), event_time);
  EXPECT_EQ(queue.push(numbered(4), 1234), 4u);
  EXPECT_EQ(queue.size(), 3u);
  std::string out;
  std::uint64_t last = 0;
  queue.render_after(0, 10, out, last);
  auto events = nlohmann::json::parse(out);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].dump(), R"({"dropped":2,"eid":2,"time":1234,"type":"overflow"})");
  EXPECT_EQ(events[1]["eid"], 3);
  EXPECT_EQ(events[1]["seq"], 3);
  EXPECT_EQ(events[2]["eid"], 4);
  EXPECT_EQ(events[2]["seq"], 4);
  EXPECT_EQ(queue.dropped_total(), 2u);
}

TEST(SessionQueue, OverflowMergesWithAnEarlierOverflowAtTheHead) {
  session_queue queue{3};
  for (std::uint64_t n = 1; n <= 5; ++n)
    queue.push(numbered(n), event_time + static_cast<std::int64_t>(n));
  auto events = render(queue);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["type"], "overflow");
  EXPECT_EQ(events[0]["eid"], 3);
  EXPECT_EQ(events[0]["dropped"], 3) << "2 dropped by the first overflow, 1 by the second";
  EXPECT_EQ(events[0]["time"], event_time + 5) << "the time of the latest overflow";
  EXPECT_EQ(eids_of(events), (std::vector<std::uint64_t>{3, 4, 5}));
  EXPECT_EQ(queue.dropped_total(), 3u);
}

TEST(SessionQueue, CapacityCountsTheOverflowEntryAndEidsStayContiguous) {
  for (std::size_t capacity : {2u, 3u, 4u, 7u}) {
    session_queue queue{capacity};
    const std::uint64_t pushed = 50;
    for (std::uint64_t n = 1; n <= pushed; ++n) {
      queue.push(numbered(n), event_time);
      EXPECT_LE(queue.size(), capacity);
    }
    EXPECT_EQ(queue.size(), capacity);
    auto events = render(queue);
    ASSERT_EQ(events.size(), capacity);
    // One overflow, at the head only; the eids after it follow on by one.
    EXPECT_EQ(events[0]["type"], "overflow") << "capacity " << capacity;
    for (std::size_t i = 1; i < events.size(); ++i) {
      EXPECT_EQ(events[i]["type"], "message") << "capacity " << capacity;
      EXPECT_EQ(events[i]["eid"].get<std::uint64_t>(),
                events[i - 1]["eid"].get<std::uint64_t>() + 1);
      EXPECT_EQ(events[i]["seq"], events[i]["eid"]) << "the event pushed with that eid";
    }
    // Nothing is lost silently: dropped + still queued = pushed.
    auto dropped = events[0]["dropped"].get<std::uint64_t>();
    EXPECT_EQ(dropped, events[0]["eid"].get<std::uint64_t>());
    EXPECT_EQ(dropped + (capacity - 1), pushed) << "capacity " << capacity;
    EXPECT_EQ(queue.dropped_total(), dropped);
    EXPECT_EQ(queue.last_eid(), pushed);
  }
}

TEST(SessionQueue, ACursorBeforeTheOverflowStartsAtTheOverflowEvent) {
  session_queue queue{3};
  for (std::uint64_t n = 1; n <= 4; ++n)
    queue.push(numbered(n), event_time);
  // The client last saw eid 1; eid 2 was dropped. It sees the jump at the
  // overflow event, then 3 and 4.
  EXPECT_EQ(eids_of(render(queue, 1)), (std::vector<std::uint64_t>{2, 3, 4}));
  EXPECT_EQ(eids_of(render(queue, 2)), (std::vector<std::uint64_t>{3, 4}));
}

TEST(SessionQueue, AcknowledgeFreesAnOverflowEventAtTheHead) {
  session_queue queue{3};
  for (std::uint64_t n = 1; n <= 4; ++n)
    queue.push(numbered(n), event_time);
  ASSERT_TRUE(queue.acknowledge(2));
  auto events = render(queue);
  EXPECT_EQ(eids_of(events), (std::vector<std::uint64_t>{3, 4}));
  EXPECT_EQ(events[0]["type"], "message");
}

TEST(SessionQueue, ACapacityBelowTwoIsRaisedToTwo) {
  session_queue queue{0};
  EXPECT_EQ(queue.capacity(), 2u);
  for (std::uint64_t n = 1; n <= 3; ++n)
    queue.push(numbered(n), event_time);
  auto events = render(queue);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["type"], "overflow");
  EXPECT_EQ(events[0]["dropped"], 2);
  EXPECT_EQ(events[1]["eid"], 3);
}

} // namespace
} // namespace herald
