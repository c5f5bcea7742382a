#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace herald::bench {

/// A log-linear histogram of non-negative integers (nanoseconds here), in the manner of
/// HdrHistogram: every power of two is cut into 2^sub_bits buckets, so a value is known to
/// within 1/32 (about 3 %) of itself, from 1 ns up to the whole int64 range, in 15 KiB.
/// Histograms of several processes merge exactly by adding their buckets.
class histogram {
public:
  static constexpr int sub_bits = 5;
  static constexpr std::size_t sub_count = std::size_t{1} << sub_bits;
  static constexpr std::size_t bucket_count = (64 - sub_bits + 1) * sub_count;

  /// Records one value; a negative value counts as 0.
  void record(int64_t value);

  /// Adds `count` values of bucket `index` (an index from `to_json`); ignores a bad index.
  void add_bucket(std::size_t index, uint64_t count);

  uint64_t count() const { return count_; }
  int64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / count_; }

  /// Returns the smallest value v such that a fraction `q` (0..1) of the values are ≤ v,
  /// as the upper bound of its bucket capped by the maximum; 0 when empty.
  int64_t percentile(double q) const;

  /// Returns the bucket of a value.
  static std::size_t index_of(uint64_t value);
  /// Returns the largest value that falls in bucket `index`.
  static uint64_t upper_bound_of(std::size_t index);

  /// Returns `{"count":…,"mean":…,"p50":…,"p90":…,"p99":…,"p999":…,"max":…,
  /// "buckets":[[index,count],…]}` (non-empty buckets only).
  std::string to_json() const;

private:
  std::array<uint64_t, bucket_count> buckets_{};
  uint64_t count_ = 0;
  int64_t max_ = 0;
  // Sums of nanosecond latencies fit: 2^63 ns is 292 years.
  int64_t sum_ = 0;
};

} // namespace herald::bench
