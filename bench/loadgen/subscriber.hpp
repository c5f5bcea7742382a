#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bench/loadgen/connection.hpp"
#include "bench/loadgen/delivery_stats.hpp"
#include "bench/loadgen/http_reader.hpp"
#include "bench/loadgen/options.hpp"
#include "bench/loadgen/websocket_codec.hpp"

namespace herald::bench {

/// What every subscriber of a process shares.
struct subscriber_context {
  const options& opts;
  delivery_stats& stats;
  std::vector<std::string> channel_names;
  std::string host_header; // "127.0.0.1:8080"
  uint32_t ready = 0;
  uint32_t failed = 0;       // closed or refused before ready
  uint32_t disconnected = 0; // closed after ready
  uint32_t handshaking = 0;  // connects in flight (bounded by --connect-concurrency)
  std::string first_error;
};

/// One subscriber: a connection that subscribes to one channel in the server's dialect over
/// one transport, then feeds every payload it receives to the stats.
///
///   herald ws:       GET /v1/ws (herald.v1) → 101 → enter{user,groups:[ch]} → reply → events
///   herald sse:      GET /v1/sse?user=&groups=ch → event "session" → events
///   herald longpoll: POST /v1/rpc enter → GET /v1/listen?session=&cursor=&timeout= …
///   nchan ws|sse:    GET /sub?id=ch (upgrade | Accept: text/event-stream) → messages
///   nchan longpoll:  GET /sub?id=ch, then again with If-Modified-Since/If-None-Match
///   centrifugo ws:   GET /connection/websocket → 101 → connect → subscribe{channel} → pushes
class subscriber : public connection {
public:
  subscriber(subscriber_context& context, uint32_t global_index, uint32_t channel);

  uint32_t channel() const { return channel_; }
  bool is_ready() const { return ready_; }
  const seq_tracker& tracker() const { return tracker_; }

  // http_reader sink
  bool on_head(const http_head& head);
  void on_body(std::string_view piece);
  void on_end();
  // ws_reader sink
  void on_ws_message(ws_opcode opcode, std::string_view payload);

private:
  enum class phase { connecting, upgrading, entering, streaming, polling };

  void on_connected() override;
  void on_input() override;
  void on_closed(std::string_view why) override;

  void become_ready();
  void fail(std::string_view why);
  void send_listen();
  void handle_sse_bytes(std::string_view bytes);
  void handle_sse_event();
  void handle_centrifugo_frame(std::string_view frame);
  /// Finds every `"data":"<payload>` in a Herald event text and records it.
  void record_herald_events(std::string_view text);
  void record_payload(std::string_view text);

  subscriber_context& context_;
  uint32_t index_;
  uint32_t channel_;
  phase phase_ = phase::connecting;
  bool ready_ = false;
  http_reader http_;
  ws_reader ws_;
  int status_ = 0;
  std::string body_;      // long-poll and enter replies
  std::string sse_;       // SSE bytes not yet split into lines
  std::string sse_event_; // current SSE event name
  std::string sse_data_;  // current SSE data
  std::string session_;   // herald long-poll
  uint64_t cursor_ = 0;   // herald long-poll
  std::string etag_;      // nchan long-poll
  std::string last_modified_;
  seq_tracker tracker_;
};

} // namespace herald::bench
