#include "bench/loadgen/delivery_stats.hpp"

#include <algorithm>
#include <cstdio>

namespace herald::bench {

namespace {
// A seq beyond this is a corrupt payload, not a message: it must not size a vector.
constexpr uint64_t max_tracked_seq = 64 * 1024 * 1024;
} // namespace

bool seq_tracker::accept(uint64_t seq) {
  if (seq == next && seq > highest) { // in order, nothing pending: the common case
    highest = seq;
    ++next;
    ++unique;
    return true;
  }
  if (seq < next || (seq > next && seq - next <= window_size && window[seq - next - 1])) {
    ++duplicates;
    return false;
  }
  if (seq < highest)
    ++reordered;
  highest = std::max(highest, seq);
  ++unique;
  // A seq more than the window ahead: the lowest missing ones are given up on (gaps).
  while (seq > next + window_size) {
    ++gaps;
    pass_next();
  }
  if (seq == next)
    pass_next();
  else
    window.set(seq - next - 1);
  return true;
}

// `next` is accounted for (received or given up on): move past it and every received seq that
// follows it, keeping bit i = seq next + 1 + i.
void seq_tracker::pass_next() {
  ++next;
  while (window[0]) {
    window >>= 1;
    ++next;
  }
  window >>= 1;
}

void delivery_stats::start(std::vector<uint32_t> subscribers_per_channel) {
  subscribers_per_channel_ = std::move(subscribers_per_channel);
  messages_.assign(subscribers_per_channel_.size(), {});
}

void delivery_stats::record(seq_tracker& tracker, uint32_t channel, const payload_fields& fields,
                            int64_t now) {
  ++delivered_;
  if (fields.channel != channel || channel >= messages_.size() || fields.seq == 0
      || fields.seq > max_tracked_seq) {
    ++malformed_;
    return;
  }
  if (!tracker.accept(fields.seq))
    return;
  if (first_delivery_ns_ == 0)
    first_delivery_ns_ = now;
  last_delivery_ns_ = now;
  auto& slots = messages_[channel];
  if (slots.size() <= fields.seq)
    slots.resize(std::max<std::size_t>(fields.seq + 1, slots.size() * 2));
  auto& slot = slots[fields.seq];
  ++slot.receivers;
  if (fields.warmup)
    return;
  const int64_t latency = now - fields.send_ns;
  latency_.record(latency);
  slot.max_latency = std::max(slot.max_latency, latency);
}

histogram delivery_stats::last_subscriber() const {
  histogram last;
  for (std::size_t channel = 0; channel < messages_.size(); ++channel) {
    const uint32_t wanted = subscribers_per_channel_[channel];
    for (const auto& slot : messages_[channel])
      if (slot.max_latency >= 0 && wanted > 0 && slot.receivers >= wanted)
        last.record(slot.max_latency);
  }
  return last;
}

bool delivery_stats::write_last(const std::string& path) const {
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr)
    return false;
  for (std::size_t channel = 0; channel < messages_.size(); ++channel) {
    const auto& slots = messages_[channel];
    for (std::size_t seq = 1; seq < slots.size(); ++seq)
      if (slots[seq].max_latency >= 0)
        std::fprintf(file, "%zu %zu %lld %u\n", channel, seq,
                     static_cast<long long>(slots[seq].max_latency), slots[seq].receivers);
  }
  return std::fclose(file) == 0;
}

} // namespace herald::bench
