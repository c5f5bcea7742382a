#include "tools/client/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace herald::client {

backoff::backoff(backoff_policy policy, std::uint64_t seed) : policy_(policy), random_(seed) {}

std::chrono::milliseconds backoff::next() {
  auto maximum = static_cast<double>(policy_.maximum.count());
  // Computed in double and capped before converting: factorⁿ overflows no integer.
  auto nominal = std::min(maximum, static_cast<double>(policy_.initial.count())
                                       * std::pow(std::max(policy_.factor, 1.0), attempts_));
  if (attempts_ < 64)
    ++attempts_;
  std::uniform_real_distribution<double> jitter{nominal / 2, nominal};
  return std::chrono::milliseconds{static_cast<std::int64_t>(std::llround(jitter(random_)))};
}

} // namespace herald::client
