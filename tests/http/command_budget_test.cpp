#include "http/command_budget.hpp"

#include <gtest/gtest.h>

namespace herald {
namespace {

using namespace std::chrono_literals;

TEST(CommandBudget, BurstOfTwiceTheRateThenRefusal) {
  auto t0 = command_budget::clock::time_point{} + 1h;
  command_budget budget{5, t0};
  for (int i = 0; i < 10; ++i)
    EXPECT_TRUE(budget.take(t0)) << i;
  EXPECT_FALSE(budget.take(t0));
}

TEST(CommandBudget, RefillsAtTheRateUpToTheBurst) {
  auto t0 = command_budget::clock::time_point{} + 1h;
  command_budget budget{5, t0};
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(budget.take(t0));
  EXPECT_FALSE(budget.take(t0 + 100ms));
  EXPECT_TRUE(budget.take(t0 + 200ms)); // 5/s: one back after 200 ms
  EXPECT_FALSE(budget.take(t0 + 200ms));
  auto later = t0 + 1h; // a long pause refills only the burst
  for (int i = 0; i < 10; ++i)
    EXPECT_TRUE(budget.take(later)) << i;
  EXPECT_FALSE(budget.take(later));
}

TEST(CommandBudget, ZeroMeansNoLimit) {
  command_budget budget{0};
  for (int i = 0; i < 100000; ++i)
    ASSERT_TRUE(budget.take());
}

TEST(CommandBudget, ATimeGoingBackwardsGivesNothing) {
  auto t0 = command_budget::clock::time_point{} + 1h;
  command_budget budget{1, t0};
  ASSERT_TRUE(budget.take(t0));
  ASSERT_TRUE(budget.take(t0));
  EXPECT_FALSE(budget.take(t0 - 10s));
}

} // namespace
} // namespace herald
