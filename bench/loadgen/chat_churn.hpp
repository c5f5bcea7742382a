#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "bench/loadgen/chat_session.hpp"

namespace herald::bench {

/// Paces the chat mix's connect/disconnect churn: `rate` reconnects per second from `start`,
/// round-robin over the sessions that are subscribed at that moment (one still resuming is
/// skipped, not churned twice).
class chat_churn {
public:
  void start(double rate, int64_t now);
  void stop() { active_ = false; }
  bool active() const { return active_; }

  /// Churns the sessions due by `now`.
  void tick(std::vector<std::unique_ptr<chat_session>>& sessions, int64_t now);

private:
  double rate_ = 0;
  int64_t start_ = 0;
  uint64_t done_ = 0;
  std::size_t next_ = 0;
  bool active_ = false;
};

} // namespace herald::bench
