#include "actors/session_queue.hpp"

#include "actors/event.hpp"

namespace herald {

session_queue::session_queue(std::size_t capacity) : capacity_(capacity < 2 ? 2 : capacity) {
  // nop
}

std::uint64_t session_queue::push(caf::message message, std::int64_t now) {
  if (entries_.size() >= capacity_)
    make_room(now);
  auto eid = next_eid_++;
  entries_.push_back(entry{eid, std::move(message), 0, 0});
  return eid;
}

// Removes at least two entries from the head (an overflow entry there is
// merged, its count carried) and puts one overflow entry in their place:
// one slot freed, eids still contiguous.
void session_queue::make_room(std::int64_t now) {
  std::uint64_t lost = 0;
  std::uint64_t last_removed = 0;
  std::size_t removed = 0;
  while (removed < 2 && !entries_.empty()) {
    auto& head = entries_.front();
    lost += head.payload.empty() ? head.dropped : 1;
    if (!head.payload.empty())
      ++dropped_total_;
    last_removed = head.eid;
    entries_.pop_front();
    ++removed;
  }
  entries_.push_front(entry{last_removed, caf::message{}, lost, now});
}

bool session_queue::acknowledge(std::uint64_t cursor) {
  if (cursor > last_eid())
    return false;
  while (!entries_.empty() && entries_.front().eid <= cursor)
    entries_.pop_front();
  return true;
}

bool session_queue::has_after(std::uint64_t cursor) const {
  return !entries_.empty() && entries_.back().eid > cursor;
}

void session_queue::render_entry(const entry& e, std::string& out) const {
  if (e.payload.empty()) {
    out += render_overflow(e.eid, e.dropped, e.time);
    return;
  }
  append_with_eid(out, e.payload.get_as<event>(1), e.eid);
}

std::size_t session_queue::render_after(std::uint64_t cursor, std::size_t max, std::string& out,
                                        std::uint64_t& last) const {
  out += '[';
  std::size_t count = 0;
  if (!entries_.empty() && max > 0) {
    // Eids are contiguous from the head, so the first entry after the cursor
    // is found by arithmetic, not by search.
    auto head = entries_.front().eid;
    std::size_t index = cursor < head ? 0 : static_cast<std::size_t>(cursor - head + 1);
    for (; index < entries_.size() && count < max; ++index, ++count) {
      if (count > 0)
        out += ',';
      render_entry(entries_[index], out);
      last = entries_[index].eid;
    }
  }
  out += ']';
  return count;
}

} // namespace herald
