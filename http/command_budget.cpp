#include "http/command_budget.hpp"

#include <algorithm>
#include <cmath>

namespace herald {

command_budget::command_budget(std::size_t per_second, clock::time_point now)
    : per_second_(static_cast<double>(per_second)),
      capacity_(2.0 * static_cast<double>(per_second)), tokens_(capacity_), last_(now) {
  // nop
}

bool command_budget::take(clock::time_point now) {
  if (per_second_ == 0)
    return true;
  if (now > last_) {
    std::chrono::duration<double> elapsed = now - last_;
    tokens_ = std::min(capacity_, tokens_ + elapsed.count() * per_second_);
    last_ = now;
  }
  if (tokens_ < 1.0)
    return false;
  tokens_ -= 1.0;
  return true;
}

} // namespace herald
