#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include <caf/message.hpp>

namespace herald {

/// The last `capacity` messages of a group, in seq order, kept as the shared
/// `(event_atom, event)` messages that were broadcast.
class history_ring {
public:
  explicit history_ring(std::size_t capacity) : capacity_(capacity) {}

  /// Records the message with `seq` (one more than the previous one).
  void push(std::uint64_t seq, caf::message message);

  /// Returns true if every message with seq in (since, last_seq] is held.
  bool covers_after(std::uint64_t since, std::uint64_t last_seq) const;

  /// Calls `fn(const caf::message&)` for every held message with seq > since,
  /// in order, at most `limit` of them (the oldest first).
  template <class F>
  void for_each_after(std::uint64_t since, std::size_t limit, F fn) const {
    std::size_t n = 0;
    for (const auto& [seq, msg] : entries_) {
      if (n == limit)
        break;
      if (seq > since) {
        fn(msg);
        ++n;
      }
    }
  }

  /// Calls `fn` for the newest `limit` messages, oldest first.
  template <class F>
  void for_each_newest(std::size_t limit, F fn) const {
    std::size_t skip = entries_.size() > limit ? entries_.size() - limit : 0;
    for (std::size_t i = skip; i < entries_.size(); ++i)
      fn(entries_[i].second);
  }

  std::size_t size() const { return entries_.size(); }
  std::size_t capacity() const { return capacity_; }

private:
  std::size_t capacity_;
  std::deque<std::pair<std::uint64_t, caf::message>> entries_;
};

} // namespace herald
