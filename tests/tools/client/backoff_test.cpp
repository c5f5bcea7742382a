#include "tools/client/backoff.hpp"

#include <gtest/gtest.h>

namespace herald::client {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, GrowsExponentiallyWithJitterInTheUpperHalf) {
  backoff delays{backoff_policy{milliseconds{100}, milliseconds{100000}, 2.0}, 42};
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto nominal = 100 << attempt;
    auto delay = delays.next().count();
    EXPECT_GE(delay, nominal / 2) << "attempt " << attempt;
    EXPECT_LE(delay, nominal) << "attempt " << attempt;
  }
  EXPECT_EQ(delays.attempts(), 8u);
}

TEST(Backoff, NeverExceedsTheCapEvenAfterManyAttempts) {
  backoff delays{backoff_policy{milliseconds{250}, milliseconds{10000}, 2.0}, 7};
  for (int attempt = 0; attempt < 1000; ++attempt) {
    auto delay = delays.next();
    EXPECT_LE(delay, milliseconds{10000});
    EXPECT_GE(delay, milliseconds{125});
  }
  // Late delays sit between half the cap and the cap.
  EXPECT_GE(delays.next(), milliseconds{5000});
}

TEST(Backoff, ResetStartsOverFromTheInitialDelay) {
  backoff delays{backoff_policy{milliseconds{100}, milliseconds{10000}, 2.0}, 3};
  for (int i = 0; i < 10; ++i)
    delays.next();
  delays.reset();
  EXPECT_EQ(delays.attempts(), 0u);
  EXPECT_LE(delays.next(), milliseconds{100});
}

TEST(Backoff, JitterSpreadsClientsWithDifferentSeeds) {
  backoff_policy policy{milliseconds{1000}, milliseconds{1000}, 2.0};
  backoff first{policy, 1};
  backoff second{policy, 2};
  bool differ = false;
  for (int i = 0; i < 10; ++i)
    differ = differ || first.next() != second.next();
  EXPECT_TRUE(differ);
}

} // namespace
} // namespace herald::client
