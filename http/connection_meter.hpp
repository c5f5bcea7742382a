#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "metrics/node_metrics.hpp"

namespace herald {

/// The metrics of one streaming connection (SSE, forever-frame, WebSocket),
/// kept on its strand: it counts the connection open under its transport
/// (moved from `longpoll`, as every connection starts as plain HTTP), tracks
/// the bytes waiting in its buffers, counts events delivered and their
/// latency when a write completes, and counts the close with its reason.
class connection_meter {
public:
  explicit connection_meter(transport t);
  connection_meter(const connection_meter&) = delete;
  connection_meter& operator=(const connection_meter&) = delete;
  ~connection_meter();

  /// The first reason given is the one counted (default: the client left).
  void closing(close_reason why);

  /// The bytes now waiting to be written (queued plus in flight).
  void buffered(std::size_t bytes);

  /// An event entered the pending buffer; `accepted_ns` as in stream_event.
  void event_pending(std::int64_t accepted_ns);

  /// The pending buffer became the write in flight.
  void write_started();

  /// The write in flight completed: its events are delivered.
  void write_completed();

private:
  transport transport_;
  close_reason reason_ = close_reason::client;
  bool reason_given_ = false;
  std::size_t buffered_ = 0;
  std::size_t pending_events_ = 0;
  std::size_t writing_events_ = 0;
  std::vector<std::int64_t> pending_accepted_;
  std::vector<std::int64_t> writing_accepted_;
  latency_batch latencies_; // kept, so its buckets are allocated once per connection
};

} // namespace herald
