#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <caf/all.hpp>

#include "actors/sink_actor.hpp"
#include "http/client_stream.hpp"
#include "http/connection_meter.hpp"
#include "http/server_context.hpp"

namespace herald {

/// What an SSE or forever-frame request asked for, validated by the router.
struct stream_plan {
  enum class format { sse, frame };
  format kind = format::sse;
  std::string session; ///< session to resume; empty when entering implicitly
  std::uint64_t cursor = 0;
  std::string callback;   ///< forever-frame: the parent's function
  bool enter = false;     ///< SSE implicit enter (`?user=&groups=`, or `?token=` with auth)
  std::string enter_user; ///< empty with authentication: the token's sub
  std::string enter_token;
  std::string client_address; ///< for the enter's per-address limit
  std::vector<std::string> enter_groups;
  bool resume_of_dead_session = false; ///< enter anew, after saying so
  std::string allow_origin;            ///< Access-Control-Allow-Origin value, if any
};

/// One open stream (SSE or forever-frame) on a connection taken over from
/// its http_session. Events flow session actor → sink actor → this strand;
/// what arrives while a write is in flight goes out in the next write, in
/// one chunk (that batching is where throughput comes from). The sink is
/// paced: after each write this connection reports the newest eid written
/// and the session sends the next window, so a large backlog flows at the
/// reader's pace. A reader that lets live events pile up beyond
/// `max-stream-buffer` is cut off by its session; it resumes by eid.
class stream_session : public std::enable_shared_from_this<stream_session> {
public:
  stream_session(client_stream&& stream, server_context& ctx, stream_plan plan);
  ~stream_session();

  /// Writes the response head and starts streaming.
  void run();

private:
  void enter_then_attach();
  void attach(const std::string& session, std::uint64_t cursor);
  void on_signal(sink_signal signal);
  void on_batch(const stream_batch& batch);
  void on_end(const stream_end& end);
  void write_event(const stream_event& e);
  void write_control(const std::string& id, const std::string& type, const std::string& json);
  void enqueue(std::string_view bytes);
  void do_write();
  void on_write(boost::beast::error_code ec);
  void arm_heartbeat();
  void watch_peer();
  void finish_after_flush();
  void close(const char* reason, close_reason why);
  void count_buffered();

  client_stream stream_;
  server_context& ctx_;
  stream_plan plan_;
  std::string session_;
  caf::actor sink_;
  caf::actor enter_worker_;
  std::string pending_;
  std::string writing_;
  std::uint64_t pending_last_eid_ = 0; // newest event in pending_
  std::uint64_t writing_last_eid_ = 0; // newest event in writing_
  bool write_in_flight_ = false;
  bool finishing_ = false;
  bool closed_ = false;
  connection_meter meter_;
  close_reason finish_reason_ = close_reason::server;
  boost::asio::steady_timer heartbeat_timer_;
  boost::asio::steady_timer age_timer_;
  char peer_probe_[64];
};

} // namespace herald
