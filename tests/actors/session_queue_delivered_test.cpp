// Overflow once events were handed to a stream (issue 3): delivered events go
// first and silently; a client resuming from before them is told.

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "actors/event.hpp"
#include "actors/messages.hpp"
#include "actors/session_queue.hpp"

namespace herald {
namespace {

caf::message numbered(std::uint64_t n) {
  return caf::make_message(event_atom::value,
                           make_message_event("lobby", n, "ep", "alice", "{}", 1700000000000));
}

struct seen {
  std::uint64_t eid;
  std::string type;
  nlohmann::json json;
};

std::vector<seen> visit(const session_queue& queue, std::uint64_t cursor) {
  std::vector<seen> out;
  queue.visit_after(cursor, 1000, [&](std::uint64_t eid, const std::string& type, std::string j) {
    out.push_back({eid, type, nlohmann::json::parse(j)});
  });
  return out;
}

TEST(SessionQueueDelivered, DeliveredEventsGoFirstWithoutAnOverflowEvent) {
  session_queue queue{3};
  for (std::uint64_t n = 1; n <= 3; ++n)
    queue.push(numbered(n), 0);
  queue.mark_delivered(2);
  queue.push(numbered(4), 0); // eid 1 (delivered) makes room
  queue.push(numbered(5), 0); // eid 2 (delivered) makes room
  auto after = visit(queue, 2);
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[0].eid, 3u);
  EXPECT_EQ(after[0].type, "message");
  EXPECT_EQ(after[2].eid, 5u);
}

TEST(SessionQueueDelivered, AResumeFromBeforeForgottenEventsStartsWithAnOverflow) {
  session_queue queue{3};
  for (std::uint64_t n = 1; n <= 3; ++n)
    queue.push(numbered(n), 0);
  queue.mark_delivered(3);
  queue.push(numbered(4), 0);
  queue.push(numbered(5), 0);
  // The client never got eids 1 and 2 after all: it resumes from 0.
  auto after = visit(queue, 0);
  ASSERT_EQ(after.size(), 4u);
  EXPECT_EQ(after[0].type, "overflow");
  EXPECT_EQ(after[0].eid, 2u);
  EXPECT_EQ(after[0].json["dropped"], 2);
  EXPECT_EQ(after[1].eid, 3u);
  EXPECT_EQ(after[3].eid, 5u);
  EXPECT_TRUE(queue.has_after(0));
}

TEST(SessionQueueDelivered, UndeliveredEventsStillOverflowVisibly) {
  session_queue queue{3};
  for (std::uint64_t n = 1; n <= 3; ++n)
    queue.push(numbered(n), 0);
  queue.mark_delivered(1);
  queue.push(numbered(4), 0); // drops delivered eid 1 silently
  queue.push(numbered(5), 0); // nothing delivered left: eids 2 and 3 overflow
  auto after = visit(queue, 1);
  ASSERT_FALSE(after.empty());
  EXPECT_EQ(after[0].type, "overflow");
  EXPECT_EQ(after[0].eid, 3u);
  EXPECT_EQ(after[0].json["dropped"], 2);
  EXPECT_EQ(queue.dropped_total(), 2u);
}

TEST(SessionQueueDelivered, RenderAfterUsesTheSameOrderAsVisitAfter) {
  session_queue queue{2};
  queue.push(numbered(1), 0);
  queue.push(numbered(2), 0);
  queue.mark_delivered(2);
  queue.push(numbered(3), 0);
  std::string out;
  std::uint64_t last = 0;
  auto n = queue.render_after(0, 10, out, last);
  auto parsed = nlohmann::json::parse(out);
  ASSERT_EQ(n, 3u);
  EXPECT_EQ(parsed[0]["type"], "overflow");
  EXPECT_EQ(parsed[0]["eid"], 1);
  EXPECT_EQ(parsed[1]["eid"], 2);
  EXPECT_EQ(parsed[2]["eid"], 3);
  EXPECT_EQ(last, 3u);
}

} // namespace
} // namespace herald
