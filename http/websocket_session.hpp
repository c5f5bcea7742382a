#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/container/deque.hpp>
#include <caf/all.hpp>

#include "actors/sink_actor.hpp"
#include "http/coalescing_stream.hpp"
#include "http/command_budget.hpp"
#include "http/connection_meter.hpp"
#include "http/responses.hpp"
#include "http/rpc_parser.hpp"
#include "http/server_context.hpp"

namespace herald {

/// One WebSocket connection (subprotocol herald.v1): commands in, replies
/// and the attached session's events out, all as text frames.
///
/// Text frames are read one after another, without pause. Each is a command
/// frame or a batch array, parsed at once and queued (at most
/// `max_pending_frames`; beyond that a frame is answered `rate_limited`).
/// Queued frames run strictly in order, one command actor at a time;
/// `attach` and `listen` are answered here, not by the actor. Events flow
/// session actor → sink actor → this strand; while a frame's commands run
/// they wait, so that a reply precedes the events it brings. Outgoing frames
/// go to the socket through a coalescing_stream: whatever piles up while a
/// socket write is in flight leaves in the next one. Without
/// permessage-deflate the text frames are framed here and appended straight
/// to it; with deflate Beast frames them, one message at a time. A client
/// that lets more than `max-stream-buffer` bytes pile up is closed with 1008
/// and resumes by eid.
///
/// Every handler runs on the connection's strand; actors reach it only by
/// posting there (through a weak_ptr: a late signal finds it gone). The
/// members are defined in two files: websocket_session.cpp (the socket) and
/// websocket_commands.cpp (command frames and the attached session).
/// The close code that tells a client to reconnect (elsewhere): the node drains.
constexpr std::uint16_t close_reconnect_elsewhere = 4000;

/// One text frame waiting to be written; events carry their accept time for
/// the delivery latency metric.
struct outgoing_frame {
  std::string text;
  bool event = false;
  std::int64_t accepted_ns = 0;
};

class websocket_session : public std::enable_shared_from_this<websocket_session>,
                          private flush_observer {
public:
  /// Frames received but not yet answered, the running one included.
  static constexpr std::size_t max_pending_frames = 64;

  /// `early` holds what the client sent after the upgrade request before
  /// the handshake was answered: frames, read before the socket's.
  websocket_session(client_stream&& stream, server_context& ctx, boost::beast::flat_buffer&& early);
  ~websocket_session();

  /// Accepts the upgrade `req` (already checked for Origin) and starts; or
  /// answers 400 `bad_request` when the handshake is malformed or the client
  /// offers only subprotocols other than herald.v1.
  void run(http_request req);

private:
  // One received text frame, answered when every command in it is.
  struct frame_job {
    body_outcome body;
    std::vector<std::string> replies; // rendered reply frames, in order
    std::size_t next = 0;             // the command running or to run
  };

  void do_refuse(http_request req, std::string_view problem);
  void on_refuse(boost::beast::error_code ec, std::size_t);
  void do_accept(http_request req, bool answer_subprotocol);
  void on_accept(boost::beast::error_code ec);
  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t);

  void queue_frame(std::string_view text);
  void run_job();
  void step_job();
  void run_commands(std::vector<command> commands);
  void on_commands(std::vector<reply> replies);
  void finish_job();
  void answer(const reply& r);

  // The signals of one sink on their way from its actor thread to this
  // strand: one post per run of them, not one per signal.
  struct signal_inbox {
    std::mutex mutex;
    std::vector<sink_signal> signals;
  };

  void attach(const std::string& session, std::uint64_t cursor);
  void detach();
  void drain_signals(std::uint64_t generation, signal_inbox& inbox);
  void on_signal(std::uint64_t generation, sink_signal signal);
  void on_attached(const reply& r);
  void on_end(const stream_end& end);
  void close_if_draining();

  bool admit();
  void send_events(stream_batch& batch);
  void send_control(std::string frame);
  void enqueue(std::string frame);
  bool can_frame() const;
  void flush_frames();
  void frame(std::string_view text, bool event, std::int64_t accepted_ns);
  void do_write();
  void on_write(boost::beast::error_code ec, std::size_t);
  void flush_started() override;
  void flush_completed(boost::beast::error_code ec) override;
  std::size_t waiting_bytes() const;
  void arm_heartbeat();
  void on_heartbeat(boost::beast::error_code ec);

  void close_after_flush(std::uint16_t code, const char* reason);
  void do_close(std::uint16_t code, const char* reason);
  void on_close(boost::beast::error_code ec);
  void release();
  void fail(boost::beast::error_code ec, const char* what);
  void close_for_violation(const frame_guard::violation& v);
  void count_buffered();
  client_stream& tcp() { return ws_.next_layer().next_layer(); }

  boost::beast::websocket::stream<coalescing_stream> ws_;
  server_context& ctx_;
  boost::beast::flat_buffer buffer_;
  std::shared_ptr<http_response> refusal_;

  // Boost's deques allocate nothing while empty (std::deque ~600 bytes each at once): most
  // connections are idle, with nothing queued.
  boost::container::deque<frame_job> jobs_;
  command_budget budget_;      // --rate-limit of the commands this socket sends
  std::string client_address_; // who the upgrade came from (max-sessions-per-address)
  caf::actor worker_;
  bool attaching_ = false; // the front job's next command waits for its sink

  std::string session_;
  caf::actor sink_;
  std::uint64_t sink_generation_ = 0; // signals of a replaced sink are stale
  std::vector<sink_signal> draining_; // swapped with an inbox's, so both keep their capacity
  bool corked_ = false;               // draining: the frames leave in one write at the end
  const std::uint64_t connection_id_ = make_connection_id();

  // No permessage-deflate on this socket: text frames are framed here and
  // appended to the coalescing_stream; otherwise Beast writes them.
  bool raw_frames_ = false;
  boost::container::deque<outgoing_frame> outbox_;
  boost::container::deque<outgoing_frame> held_; // stream frames held while a job runs
  std::size_t queued_bytes_ = 0;                 // outbox_ and held_
  outgoing_frame writing_;                       // the frame Beast writes (deflate)
  connection_meter meter_{transport::ws};
  bool write_in_flight_ = false; // Beast writes writing_
  bool wrote_since_heartbeat_ = false;
  boost::asio::steady_timer heartbeat_timer_;

  bool finishing_ = false; // flush, then close with close_code_
  std::uint16_t close_code_ = 1000;
  const char* close_reason_ = "";
  bool closed_ = false; // close sent, or the connection failed
};

} // namespace herald
