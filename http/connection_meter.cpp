#include "http/connection_meter.hpp"

namespace herald {

connection_meter::connection_meter(transport t) : transport_(t) {
  metrics().connection_moved(transport::longpoll, t);
}

connection_meter::~connection_meter() {
  buffered(0);
  metrics().connection_closed(transport_, reason_);
}

void connection_meter::closing(close_reason why) {
  if (reason_given_)
    return;
  reason_ = why;
  reason_given_ = true;
}

void connection_meter::buffered(std::size_t bytes) {
  if (bytes == buffered_)
    return;
  auto delta = static_cast<double>(bytes) - static_cast<double>(buffered_);
  metrics().write_buffer_bytes->Increment(delta);
  buffered_ = bytes;
}

void connection_meter::event_pending(std::int64_t accepted_ns) {
  ++pending_events_;
  if (accepted_ns != 0)
    pending_accepted_.push_back(accepted_ns);
}

void connection_meter::write_started() {
  writing_events_ += pending_events_;
  pending_events_ = 0;
  writing_accepted_.insert(writing_accepted_.end(), pending_accepted_.begin(),
                           pending_accepted_.end());
  pending_accepted_.clear();
}

void connection_meter::write_completed() {
  if (writing_events_ == 0)
    return;
  metrics().events_delivered[static_cast<std::size_t>(transport_)]->Increment(
      static_cast<double>(writing_events_));
  writing_events_ = 0;
  if (writing_accepted_.empty())
    return;
  auto now = now_ns();
  for (auto accepted : writing_accepted_)
    latencies_.add(accepted, now);
  latencies_.flush(transport_);
  writing_accepted_.clear();
}

} // namespace herald
