#include "bench/loadgen/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace herald::bench {

std::size_t histogram::index_of(uint64_t value) {
  const int exponent = std::bit_width(value) - 1;
  if (exponent < sub_bits)
    return static_cast<std::size_t>(value);
  const int shift = exponent - sub_bits;
  const uint64_t mantissa = value >> shift; // in [sub_count, 2 * sub_count)
  return static_cast<std::size_t>(shift + 1) * sub_count + (mantissa - sub_count);
}

uint64_t histogram::upper_bound_of(std::size_t index) {
  if (index < 2 * sub_count)
    return index;
  const std::size_t shift = index / sub_count - 1;
  const uint64_t mantissa = index % sub_count + sub_count;
  return ((mantissa + 1) << shift) - 1;
}

void histogram::record(int64_t value) {
  const uint64_t v = value < 0 ? 0 : static_cast<uint64_t>(value);
  ++buckets_[index_of(v)];
  ++count_;
  sum_ += static_cast<int64_t>(v);
  max_ = std::max(max_, static_cast<int64_t>(v));
}

void histogram::add_bucket(std::size_t index, uint64_t count) {
  if (index >= bucket_count || count == 0)
    return;
  buckets_[index] += count;
  count_ += count;
  const auto upper = static_cast<int64_t>(std::min<uint64_t>(upper_bound_of(index), INT64_MAX));
  sum_ += upper * static_cast<int64_t>(count);
  max_ = std::max(max_, upper);
}

int64_t histogram::percentile(double q) const {
  if (count_ == 0)
    return 0;
  const auto rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += buckets_[i];
    if (seen >= rank)
      return std::min(static_cast<int64_t>(std::min<uint64_t>(upper_bound_of(i), INT64_MAX)), max_);
  }
  return max_;
}

std::string histogram::to_json() const {
  std::string out
      = "{\"count\":" + std::to_string(count_)
        + ",\"mean\":" + std::to_string(static_cast<int64_t>(mean())) + ",\"p50\":"
        + std::to_string(percentile(0.5)) + ",\"p90\":" + std::to_string(percentile(0.9))
        + ",\"p99\":" + std::to_string(percentile(0.99)) + ",\"p999\":"
        + std::to_string(percentile(0.999)) + ",\"max\":" + std::to_string(max_) + ",\"buckets\":[";
  bool first = true;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    if (buckets_[i] == 0)
      continue;
    out += first ? "[" : ",[";
    first = false;
    out += std::to_string(i) + "," + std::to_string(buckets_[i]) + "]";
  }
  out += "]}";
  return out;
}

} // namespace herald::bench
