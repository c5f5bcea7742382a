#pragma once

#include <cstdint>
#include <string>

#include <boost/container/deque.hpp>
#include <caf/message.hpp>

#include "actors/event.hpp"
#include "actors/messages.hpp"

namespace herald {

/// The type string of overflow events.
const std::string& overflow_type();

/// The ordered queue of one session's pending events. Assigns eids (the first
/// is 1, each next one +1), frees what the client acknowledges, and on
/// overflow replaces the oldest entries with one `overflow` event at the head
/// that carries the eid of the newest entry removed, so eids in the queue stay
/// contiguous and a reader sees them jump exactly at an overflow event.
///
/// Events already handed to a client (`mark_delivered`) but not yet
/// acknowledged are the first to go when the queue is full, silently: the
/// client most likely has them. Only a client that then resumes from before
/// them learns of the loss, from an overflow event made up on the spot.
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

  /// Records that every entry with eid <= `eid` was handed to a client.
  void mark_delivered(std::uint64_t eid);

  /// Returns true if an entry with eid > cursor is queued (or the client
  /// must first be told of events forgotten after its cursor).
  bool has_after(std::uint64_t cursor) const;

  /// Calls `fn(eid, json)` for at most `max` entries after `cursor`, in
  /// order, with each entry rendered as the stream carries it; `type` is the
  /// event's type. Returns how many. `fn(std::uint64_t eid, const
  /// std::string& type, std::string json)`.
  template <class F>
  std::size_t visit_after(std::uint64_t cursor, std::size_t max, F fn) const;

  /// Appends to `out` a JSON array of at most `max` entries after `cursor`
  /// and returns how many; `last` receives the eid of the last one rendered
  /// (unchanged when none).
  std::size_t render_after(std::uint64_t cursor, std::size_t max, std::string& out,
                           std::uint64_t& last) const;

  /// When the event of `eid` was accepted (`event::accepted_ns`); 0 for
  /// events that carry no such time, overflow events, and eids not queued.
  std::int64_t accepted_at(std::uint64_t eid) const;

  /// The last eid ever assigned (0 before the first event).
  std::uint64_t last_eid() const { return next_eid_ - 1; }

  std::size_t size() const { return entries_.size(); }
  std::size_t capacity() const { return capacity_; }

  /// Events dropped by overflow since the queue was made.
  std::uint64_t dropped_total() const { return dropped_total_; }

private:
  struct entry {
    std::uint64_t eid;
    caf::message payload;  // empty for an overflow entry
    std::uint64_t dropped; // overflow entries only
    std::int64_t time;     // overflow entries only
  };

  void make_room(std::int64_t now);
  void render_entry(const entry& e, std::string& out) const;
  const std::string& type_of(const entry& e) const;

  std::size_t capacity_;
  // Boost's deque allocates nothing while empty (std::deque takes ~600 bytes at once): most
  // sessions' queues are empty most of the time, one per connection.
  boost::container::deque<entry> entries_;
  std::uint64_t next_eid_ = 1;
  std::uint64_t dropped_total_ = 0;
  std::uint64_t delivered_up_to_ = 0;
  std::uint64_t forgotten_up_to_ = 0; // delivered entries dropped silently
  std::int64_t forgotten_time_ = 0;
};

template <class F>
std::size_t session_queue::visit_after(std::uint64_t cursor, std::size_t max, F fn) const {
  std::size_t count = 0;
  if (max == 0)
    return 0;
  if (cursor < forgotten_up_to_) {
    // The client resumes from before entries we let go after delivering
    // them: announce the gap where it is.
    fn(forgotten_up_to_, overflow_type(),
       render_overflow(forgotten_up_to_, forgotten_up_to_ - cursor, forgotten_time_));
    ++count;
    cursor = forgotten_up_to_;
  }
  if (entries_.empty())
    return count;
  // Eids are contiguous from the head, so the first entry after the cursor
  // is found by arithmetic, not by search.
  auto head = entries_.front().eid;
  std::size_t index = cursor < head ? 0 : static_cast<std::size_t>(cursor - head + 1);
  for (; index < entries_.size() && count < max; ++index, ++count) {
    std::string json;
    render_entry(entries_[index], json);
    fn(entries_[index].eid, type_of(entries_[index]), std::move(json));
  }
  return count;
}

} // namespace herald
