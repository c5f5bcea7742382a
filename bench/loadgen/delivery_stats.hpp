#pragma once

#include <bitset>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/loadgen/histogram.hpp"
#include "bench/loadgen/payload.hpp"

namespace herald::bench {

/// Per-subscriber tracking of one channel's seqs, tolerant of reordering: publishes spread
/// over several connections (--spread) reach the server, and so the subscriber, in any order
/// within the requests in flight. `next` is the lowest seq not received yet; `window` holds
/// which of the `window_size` seqs after it arrived already.
struct seq_tracker {
  static constexpr uint64_t window_size = 256;

  uint64_t next = 1;
  uint64_t unique = 0;     // distinct seqs received
  uint64_t duplicates = 0; // a seq received before
  uint64_t reordered = 0;  // a seq received after a higher one
  uint64_t gaps = 0;       // seqs given up on: more than window_size behind the highest one
  uint64_t highest = 0;
  std::bitset<window_size> window; // bit i: seq next + 1 + i received

  /// Takes one received seq; false when it is a duplicate.
  bool accept(uint64_t seq);

private:
  void pass_next();
};

/// What the subscribers of one process saw: counts, the latency of every delivery, and per
/// message the latest of its deliveries (the time to reach its last subscriber).
class delivery_stats {
public:
  /// `subscribers_per_channel[k]` is how many of this process's ready subscribers listen to
  /// channel k; a message counts for the last-subscriber figures once all of them have it.
  void start(std::vector<uint32_t> subscribers_per_channel);

  /// Accounts one received payload for a subscriber of `channel`.
  void record(seq_tracker& tracker, uint32_t channel, const payload_fields& fields, int64_t now);

  /// A payload that did not parse, or named another channel.
  void record_malformed() { ++malformed_; }

  /// Builds the last-subscriber histogram (messages every local subscriber received).
  histogram last_subscriber() const;

  /// Writes "channel seq max_latency_ns receivers" per non-warm-up message; false on an I/O
  /// error.
  bool write_last(const std::string& path) const;

  uint64_t delivered() const { return delivered_; }
  uint64_t malformed() const { return malformed_; }
  int64_t first_delivery_ns() const { return first_delivery_ns_; }
  int64_t last_delivery_ns() const { return last_delivery_ns_; }
  const histogram& latency() const { return latency_; }

private:
  struct message_slot {
    int64_t max_latency = -1; // -1: warm-up or never received
    uint32_t receivers = 0;
  };

  std::vector<uint32_t> subscribers_per_channel_;
  std::vector<std::vector<message_slot>> messages_; // [channel][seq]
  histogram latency_;
  uint64_t delivered_ = 0;
  uint64_t malformed_ = 0;
  int64_t first_delivery_ns_ = 0;
  int64_t last_delivery_ns_ = 0;
};

} // namespace herald::bench
