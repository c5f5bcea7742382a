#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "bench/loadgen/chat_layout.hpp"
#include "bench/loadgen/connection.hpp"
#include "bench/loadgen/histogram.hpp"
#include "bench/loadgen/http_reader.hpp"
#include "bench/loadgen/options.hpp"

namespace herald::bench {

/// What every publisher of a process shares.
struct publisher_context {
  const options& opts;
  std::vector<std::string> channel_names;
  std::string host_header;
  chat_layout layout;     // which channels are users (direct messages) in a chat mix
  uint64_t published = 0; // requests answered 2xx
  uint64_t errors = 0;    // requests answered otherwise
  uint64_t closed = 0;    // publisher connections lost
  std::string first_error;
  histogram round_trip; // publish request written → its response read, after warm-up
};

/// One keep-alive publishing connection with up to --pipeline requests in flight. Herald:
/// `POST /v1/publish {"group":ch,"data":"<payload>"}` (a chat mix's user channel:
/// `{"user":u,"data":…}`); nchan: `POST /pub?id=ch` with the payload as body; Centrifugo:
/// `POST /api/publish {"channel":ch,"data":"<payload>"}` with `X-API-Key`. Responses come back
/// in request order; they are counted and timed (the round trip from the payload's send stamp).
class publisher : public connection {
public:
  explicit publisher(publisher_context& context) : context_(context) {}

  /// True when connected and below the pipeline depth.
  bool can_send() const {
    return is_connected() && is_open() && in_flight_ < context_.opts.pipeline;
  }
  uint32_t in_flight() const { return in_flight_; }

  /// Queues one publish request stamped with the current time; call `flush_requests` after a
  /// batch.
  void publish(uint32_t channel, uint64_t seq, bool warmup);
  void flush_requests() { flush(); }

  // http_reader sink
  bool on_head(const http_head& head);
  void on_body(std::string_view piece);
  void on_end();

private:
  void on_connected() override {}
  void on_input() override;
  void on_closed(std::string_view why) override;

  publisher_context& context_;
  http_reader http_;
  uint32_t in_flight_ = 0;
  int status_ = 0;
  std::string body_;    // Centrifugo answers errors with 200 and an "error" body
  std::string request_; // reused buffer
  struct sent_request {
    int64_t send_ns;
    bool warmup;
  };
  std::deque<sent_request> sent_; // in flight, oldest first
};

} // namespace herald::bench
