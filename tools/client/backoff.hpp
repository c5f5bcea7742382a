#pragma once

// How long to wait before the next reconnection attempt.

#include <chrono>
#include <cstdint>
#include <random>

namespace herald::client {

/// Reconnection delays: exponential, capped, with jitter so that many clients
/// cut off by the same event do not all come back in the same instant.
struct backoff_policy {
  std::chrono::milliseconds initial{250};   ///< the first delay (before jitter)
  std::chrono::milliseconds maximum{10000}; ///< no delay exceeds this
  double factor = 2.0;                      ///< growth per failed attempt
};

/// The delays of one run of failed attempts. Attempt n (from 0) waits a
/// uniformly random time in [d/2, d] where d = min(initial · factorⁿ, maximum):
/// at least half the nominal delay, so that a crowd spreads out without ever
/// hammering the server.
class backoff {
public:
  explicit backoff(backoff_policy policy, std::uint64_t seed = std::random_device{}());

  /// Returns the delay before the next attempt and counts the attempt.
  std::chrono::milliseconds next();

  /// Starts over from `initial` (after a connection succeeded).
  void reset() { attempts_ = 0; }

  /// Returns how many delays were handed out since the last reset.
  unsigned attempts() const { return attempts_; }

private:
  backoff_policy policy_;
  std::mt19937_64 random_;
  unsigned attempts_ = 0;
};

} // namespace herald::client
