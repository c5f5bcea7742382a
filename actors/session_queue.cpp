#include "actors/session_queue.hpp"

#include "actors/event.hpp"

namespace herald {

session_queue::session_queue(std::size_t capacity) : capacity_(capacity < 2 ? 2 : capacity) {
  // nop
}

const std::string& overflow_type() {
  static const std::string type = "overflow";
  return type;
}

std::uint64_t session_queue::push(caf::message message, std::int64_t now) {
  if (entries_.size() >= capacity_) {
    if (entries_.front().eid <= delivered_up_to_) {
      forgotten_up_to_ = entries_.front().eid;
      forgotten_time_ = now;
      entries_.pop_front();
    } else {
      make_room(now);
    }
  }
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

void session_queue::mark_delivered(std::uint64_t eid) {
  if (eid > delivered_up_to_)
    delivered_up_to_ = eid;
}

bool session_queue::has_after(std::uint64_t cursor) const {
  return cursor < forgotten_up_to_ || (!entries_.empty() && entries_.back().eid > cursor);
}

std::int64_t session_queue::accepted_at(std::uint64_t eid) const {
  if (entries_.empty() || eid < entries_.front().eid || eid > entries_.back().eid)
    return 0;
  const auto& e = entries_[static_cast<std::size_t>(eid - entries_.front().eid)];
  return e.payload.empty() ? 0 : e.payload.get_as<event>(1).accepted_ns;
}

const std::string& session_queue::type_of(const entry& e) const {
  if (e.payload.empty())
    return overflow_type();
  return e.payload.get_as<event>(1).type;
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
  bool first = true;
  auto count
      = visit_after(cursor, max, [&](std::uint64_t eid, const std::string&, std::string json) {
          if (!first)
            out += ',';
          first = false;
          out += json;
          last = eid;
        });
  out += ']';
  return count;
}

} // namespace herald
