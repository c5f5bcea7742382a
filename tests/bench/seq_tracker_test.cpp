// The load generator's per-subscriber seq accounting (bench/loadgen/delivery_stats): exact
// counts of unique, duplicate, reordered and given-up seqs, so that a publisher spreading one
// channel over several connections (--spread) is not mistaken for a lossy server.

#include <gtest/gtest.h>

#include "bench/loadgen/delivery_stats.hpp"

namespace herald::bench {
namespace {

TEST(SeqTracker, InOrderSeqsAreAllUniqueAndAdvanceNext) {
  seq_tracker t;
  for (uint64_t seq = 1; seq <= 1000; ++seq)
    EXPECT_TRUE(t.accept(seq));
  EXPECT_EQ(t.next, 1001u);
  EXPECT_EQ(t.unique, 1000u);
  EXPECT_EQ(t.duplicates, 0u);
  EXPECT_EQ(t.reordered, 0u);
  EXPECT_EQ(t.gaps, 0u);
}

TEST(SeqTracker, ReorderedSeqsWithinTheWindowCountOnceAndCloseTheGap) {
  seq_tracker t;
  for (uint64_t seq : {2, 4, 1, 3, 6, 5})
    EXPECT_TRUE(t.accept(seq));
  EXPECT_EQ(t.next, 7u);
  EXPECT_EQ(t.unique, 6u);
  EXPECT_EQ(t.reordered, 3u); // 1 and 3 after 4, 5 after 6: each below the highest so far
  EXPECT_EQ(t.duplicates, 0u);
}

TEST(SeqTracker, ASeqSeenBeforeIsADuplicateWhetherBelowNextOrInTheWindow) {
  seq_tracker t;
  EXPECT_TRUE(t.accept(1));
  EXPECT_TRUE(t.accept(3));
  EXPECT_FALSE(t.accept(1)); // below next
  EXPECT_FALSE(t.accept(3)); // in the window
  EXPECT_EQ(t.duplicates, 2u);
  EXPECT_EQ(t.unique, 2u);
  EXPECT_EQ(t.next, 2u); // 2 is still missing
}

TEST(SeqTracker, AMissingSeqFarBehindIsGivenUpOnAndThenCountsAsADuplicate) {
  seq_tracker t;
  EXPECT_TRUE(t.accept(1));
  // 2 never comes; 3 .. window_size + 3 do: the last one pushes 2 out of the window.
  for (uint64_t seq = 3; seq <= seq_tracker::window_size + 3; ++seq)
    EXPECT_TRUE(t.accept(seq));
  EXPECT_EQ(t.gaps, 1u);
  EXPECT_EQ(t.next, seq_tracker::window_size + 4);
  EXPECT_FALSE(t.accept(2));
  EXPECT_EQ(t.unique, seq_tracker::window_size + 2);
}

TEST(SeqTracker, NextPassesEveryBufferedSeqWhenTheMissingOneArrives) {
  seq_tracker t;
  for (uint64_t seq = 2; seq <= 200; ++seq)
    EXPECT_TRUE(t.accept(seq));
  EXPECT_EQ(t.next, 1u);
  EXPECT_TRUE(t.accept(1));
  EXPECT_EQ(t.next, 201u);
  EXPECT_EQ(t.unique, 200u);
  EXPECT_EQ(t.gaps, 0u);
}

} // namespace
} // namespace herald::bench
