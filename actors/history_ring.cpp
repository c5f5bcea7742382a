#include "actors/history_ring.hpp"

namespace herald {

void history_ring::push(std::uint64_t seq, caf::message message) {
  if (capacity_ == 0)
    return;
  if (entries_.size() == capacity_)
    entries_.pop_front();
  entries_.emplace_back(seq, std::move(message));
}

bool history_ring::covers_after(std::uint64_t since, std::uint64_t last_seq) const {
  if (since > last_seq)
    return false;
  if (since == last_seq)
    return true;
  return !entries_.empty() && entries_.front().first <= since + 1;
}

} // namespace herald
