#pragma once

#include <chrono>
#include <cstddef>

namespace herald {

/// `--rate-limit`: the commands one connection may send, as a token bucket
/// that refills `per_second` tokens a second up to twice that (the burst).
/// Used on its connection's strand only.
class command_budget {
public:
  using clock = std::chrono::steady_clock;

  /// `per_second` 0 means no limit.
  explicit command_budget(std::size_t per_second, clock::time_point now = clock::now());

  /// Takes one command's token; false (and nothing taken) when there is none.
  bool take(clock::time_point now = clock::now());

private:
  double per_second_;
  double capacity_;
  double tokens_;
  clock::time_point last_;
};

} // namespace herald
