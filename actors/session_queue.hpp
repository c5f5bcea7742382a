#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include <caf/message.hpp>

#include "actors/messages.hpp"

namespace herald {

/// The ordered queue of one session's pending events. Assigns eids (the first
/// is 1, each next one +1), frees what the client acknowledges, and on
/// overflow replaces the oldest entries with one `overflow` event at the head
/// that carries the eid of the newest entry removed, so eids in the queue stay
/// contiguous and a reader sees them jump exactly at an overflow event.
///
/// Events are kept as the `caf::message` they arrived in (`(event_atom,
/// event)`): a broadcast is shared by every queue that holds it, not copied.
class session_queue {
public:
  /// `capacity` counts queued entries, an overflow event included; >= 2.
  explicit session_queue(std::size_t capacity);

  /// Queues the event in `message` (which must hold `(event_atom, event)`).
  /// Returns its eid. When the queue was full, returns the eid as well and
  /// the number of events dropped by this push is added to `dropped_total()`.
  std::uint64_t push(caf::message message, std::int64_t now);

  /// Frees every entry with eid <= cursor. Returns false (and frees nothing)
  /// when cursor is past the last eid ever assigned.
  bool acknowledge(std::uint64_t cursor);

  /// Returns true if an entry with eid > cursor is queued.
  bool has_after(std::uint64_t cursor) const;

  /// Appends to `out` a JSON array of at most `max` entries after `cursor`
  /// and returns how many; `last` receives the eid of the last one rendered
  /// (unchanged when none).
  std::size_t render_after(std::uint64_t cursor, std::size_t max, std::string& out,
                           std::uint64_t& last) const;

  /// The last eid ever assigned (0 before the first event).
  std::uint64_t last_eid() const { return next_eid_ - 1; }

  std::size_t size() const { return entries_.size(); }
  std::size_t capacity() const { return capacity_; }

  /// Events dropped by overflow since the queue was made.
  std::uint64_t dropped_total() const { return dropped_total_; }

private:
  struct entry {
    std::uint64_t eid;
    caf::message payload;     // empty for an overflow entry
    std::uint64_t dropped;    // overflow entries only
    std::int64_t time;        // overflow entries only
  };

  void make_room(std::int64_t now);
  void render_entry(const entry& e, std::string& out) const;

  std::size_t capacity_;
  std::deque<entry> entries_;
  std::uint64_t next_eid_ = 1;
  std::uint64_t dropped_total_ = 0;
};

} // namespace herald
