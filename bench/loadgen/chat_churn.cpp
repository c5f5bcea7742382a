#include "bench/loadgen/chat_churn.hpp"

#include <cmath>

namespace herald::bench {

void chat_churn::start(double rate, int64_t now) {
  rate_ = rate;
  start_ = now;
  done_ = 0;
  active_ = rate > 0;
}

void chat_churn::tick(std::vector<std::unique_ptr<chat_session>>& sessions, int64_t now) {
  if (!active_ || sessions.empty())
    return;
  const auto due
      = static_cast<uint64_t>(std::floor(rate_ * static_cast<double>(now - start_) / 1e9));
  while (done_ < due) {
    std::size_t tried = 0;
    while (tried < sessions.size() && !sessions[next_]->can_churn()) {
      next_ = (next_ + 1) % sessions.size();
      ++tried;
    }
    if (tried == sessions.size()) {
      done_ = due; // nobody to churn now; do not save the debt up for a burst
      return;
    }
    sessions[next_]->churn();
    next_ = (next_ + 1) % sessions.size();
    ++done_;
  }
}

} // namespace herald::bench
