#include "actors/history_ring.hpp"

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "actors/event.hpp"
#include "actors/messages.hpp"

namespace herald {
namespace {

caf::message message_with_seq(std::uint64_t seq) {
  return caf::make_message(event_atom::value,
                           make_message_event("lobby", seq, "ep", "alice", "null", 1));
}

// A ring holding the messages with seq 1..n (the oldest evicted as needed).
history_ring ring_of(std::size_t capacity, std::uint64_t n) {
  history_ring ring{capacity};
  for (std::uint64_t seq = 1; seq <= n; ++seq)
    ring.push(seq, message_with_seq(seq));
  return ring;
}

std::uint64_t seq_of(const caf::message& msg) {
  return nlohmann::json::parse(render_without_eid(msg.get_as<event>(1)))["seq"];
}

std::vector<std::uint64_t> after(const history_ring& ring, std::uint64_t since, std::size_t limit) {
  std::vector<std::uint64_t> out;
  ring.for_each_after(since, limit, [&](const caf::message& msg) { out.push_back(seq_of(msg)); });
  return out;
}

std::vector<std::uint64_t> newest(const history_ring& ring, std::size_t limit) {
  std::vector<std::uint64_t> out;
  ring.for_each_newest(limit, [&](const caf::message& msg) { out.push_back(seq_of(msg)); });
  return out;
}

using seqs = std::vector<std::uint64_t>;

TEST(HistoryRing, KeepsTheLastCapacityMessagesInSeqOrder) {
  auto ring = ring_of(3, 5);
  EXPECT_EQ(ring.size(), 3u);
  EXPECT_EQ(ring.capacity(), 3u);
  EXPECT_EQ(after(ring, 0, 10), (seqs{3, 4, 5}));
}

TEST(HistoryRing, CoversAfterWhenEveryLaterMessageIsHeld) {
  auto ring = ring_of(3, 5); // holds 3, 4, 5
  EXPECT_TRUE(ring.covers_after(2, 5));
  EXPECT_TRUE(ring.covers_after(4, 5));
  EXPECT_FALSE(ring.covers_after(1, 5)) << "seq 2 is gone";
  EXPECT_FALSE(ring.covers_after(0, 5));
}

TEST(HistoryRing, CoversAfterTheLastSeqEvenWhenEmpty) {
  EXPECT_TRUE(ring_of(3, 5).covers_after(5, 5));
  EXPECT_TRUE(history_ring{3}.covers_after(0, 0)) << "nothing was ever missed";
}

TEST(HistoryRing, DoesNotCoverASinceAheadOfTheLastSeq) {
  EXPECT_FALSE(ring_of(3, 5).covers_after(6, 5));
  EXPECT_FALSE(history_ring{3}.covers_after(1, 0));
}

TEST(HistoryRing, CapacityZeroKeepsNothingAndCoversOnlyTheLastSeq) {
  auto ring = ring_of(0, 4);
  EXPECT_EQ(ring.size(), 0u);
  EXPECT_TRUE(ring.covers_after(4, 4));
  EXPECT_FALSE(ring.covers_after(3, 4));
  EXPECT_TRUE(after(ring, 0, 10).empty());
  EXPECT_TRUE(newest(ring, 10).empty());
}

TEST(HistoryRing, ForEachAfterGivesTheOldestMessagesAfterSinceUpToLimit) {
  auto ring = ring_of(10, 6);
  EXPECT_EQ(after(ring, 2, 10), (seqs{3, 4, 5, 6}));
  EXPECT_EQ(after(ring, 2, 2), (seqs{3, 4}));
  EXPECT_EQ(after(ring, 6, 10), seqs{});
  EXPECT_EQ(after(ring, 0, 0), seqs{});
}

TEST(HistoryRing, ForEachAfterASinceOlderThanTheRingStartsAtTheOldestHeld) {
  auto ring = ring_of(3, 6); // holds 4, 5, 6
  EXPECT_EQ(after(ring, 1, 2), (seqs{4, 5}));
}

TEST(HistoryRing, ForEachNewestGivesTheNewestLimitOldestFirst) {
  auto ring = ring_of(10, 6);
  EXPECT_EQ(newest(ring, 2), (seqs{5, 6}));
  EXPECT_EQ(newest(ring, 6), (seqs{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(newest(ring, 100), (seqs{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(newest(ring, 0), seqs{});
}

TEST(HistoryRing, HoldsTheBroadcastMessageItselfNotACopy) {
  history_ring ring{2};
  auto msg = message_with_seq(1);
  ring.push(1, msg);
  const void* held = nullptr;
  ring.for_each_newest(1, [&](const caf::message& m) { held = m.cvals().get(); });
  EXPECT_EQ(held, msg.cvals().get());
}

} // namespace
} // namespace herald
