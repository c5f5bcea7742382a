// websocket_session, part one: the socket — handshake, reads, the write
// queue, heartbeats and closing. Part two (websocket_commands.cpp) runs the
// command frames and the attached session.

#include "http/websocket_session.hpp"

#include <algorithm>

#include <boost/beast/http/write.hpp>

#include "actors/event.hpp"
#include "actors/log.hpp"
#include "actors/names.hpp"
#include "http/drain_watch.hpp"
#include "http/websocket_handshake.hpp"

namespace herald {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace websocket = beast::websocket;

namespace {

// Whether the client could negotiate permessage-deflate: any mention counts,
// so that a list Beast reads differently never gets uncompressed frames
// framed by hand on a deflate socket.
bool offers_deflate(const http_request& req) {
  constexpr std::string_view name = "permessage-deflate";
  auto [first, last] = req.equal_range(http::field::sec_websocket_extensions);
  for (auto field = first; field != last; ++field) {
    auto value = field->value();
    auto hit = std::search(value.begin(), value.end(), name.begin(), name.end(),
                           [](char a, char b) { return (a >= 'A' && a <= 'Z' ? a + 32 : a) == b; });
    if (hit != value.end())
      return true;
  }
  return false;
}

} // namespace

websocket_session::websocket_session(client_stream&& stream, server_context& ctx,
                                     beast::flat_buffer&& early)
    : ws_(std::move(stream)), ctx_(ctx), budget_(ctx.config->rate_limit),
      heartbeat_timer_(ws_.get_executor()) {
  ++ctx_.open_connections;
  ws_.next_layer().preload(std::move(early));
  ws_.next_layer().limit_fragments(ctx_.config->ws_max_fragments);
}

websocket_session::~websocket_session() {
  if (worker_)
    caf::anon_send_exit(worker_, caf::exit_reason::user_shutdown);
  if (sink_)
    caf::anon_send_exit(sink_, caf::exit_reason::user_shutdown);
  --ctx_.open_connections;
}

void websocket_session::run(http_request req) {
  client_address_ = client_address_of(tcp().peer(), req["X-Forwarded-For"], ctx_.proxies);
  std::shared_ptr<flush_observer> observer{shared_from_this(), this};
  ws_.next_layer().observe(observer);
  if (auto problem = handshake_problem(req); !problem.empty())
    return do_refuse(std::move(req), problem);
  auto choice = choose_subprotocol(req);
  if (choice == subprotocol_choice::refused)
    return do_refuse(std::move(req), "Sec-WebSocket-Protocol: this server speaks herald.v1 only");
  do_accept(std::move(req), choice == subprotocol_choice::herald);
}

// --- handshake ---------------------------------------------------------------

// Answers 400 with the error shape and closes; no upgrade.
void websocket_session::do_refuse(http_request req, std::string_view problem) {
  auto res = make_error_response(req, "bad_request", problem);
  res.set(http::field::sec_websocket_version, "13"); // the version we speak (RFC 6455 4.4)
  res.keep_alive(false);
  refusal_ = std::make_shared<http_response>(std::move(res));
  tcp().expires_after(ctx_.config->request_timeout);
  http::async_write(tcp(), *refusal_,
                    beast::bind_front_handler(&websocket_session::on_refuse, shared_from_this()));
}

void websocket_session::on_refuse(beast::error_code ec, std::size_t) {
  if (ec)
    return fail(ec, "refuse");
  closed_ = true;
  beast::error_code ignored;
  tcp().socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  tcp().socket().close(ignored);
}

void websocket_session::do_accept(http_request req, bool answer_subprotocol) {
  // From here on the WebSocket's own timeouts govern the socket.
  tcp().expires_never();
  raw_frames_ = !ctx_.config->ws_deflate || !offers_deflate(req);
  auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
  // Pings after one silent heartbeat; a peer silent for two is dead.
  timeouts.idle_timeout = 2 * ctx_.config->heartbeat;
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.set_option(websocket_deflate_option(*ctx_.config));
  ws_.set_option(
      websocket::stream_base::decorator([answer_subprotocol](websocket::response_type& res) {
        res.set(http::field::server, "herald");
        if (answer_subprotocol)
          res.set(http::field::sec_websocket_protocol, websocket_subprotocol);
      }));
  ws_.read_message_max(websocket_message_limit(*ctx_.config));
  ws_.auto_fragment(false);
  ws_.text(true);
  ws_.async_accept(req,
                   beast::bind_front_handler(&websocket_session::on_accept, shared_from_this()));
}

void websocket_session::on_accept(beast::error_code ec) {
  if (ec)
    return fail(ec, "accept");
  log::debug("websocket open");
  std::weak_ptr<websocket_session> weak = shared_from_this();
  call_on_drain(ctx_, ws_.get_executor(), weak, [weak] {
    if (auto self = weak.lock())
      self->close_if_draining();
  });
  arm_heartbeat();
  do_read();
}

// --- reading -----------------------------------------------------------------

void websocket_session::do_read() {
  ws_.async_read(buffer_,
                 beast::bind_front_handler(&websocket_session::on_read, shared_from_this()));
}

// Beast has already failed the connection (with its close code: 1002, 1007,
// 1009) when a frame breaks the protocol, is not UTF-8 or is too large.
void websocket_session::on_read(beast::error_code ec, std::size_t) {
  if (ec)
    return fail(ec, "read");
  if (closed_)
    return;
  if (!ws_.got_text()) {
    buffer_.consume(buffer_.size());
    meter_.closing(close_reason::error);
    return do_close(websocket::close_code::unknown_data, "text frames only");
  }
  if (!finishing_) {
    auto data = buffer_.data();
    queue_frame(std::string_view{static_cast<const char*>(data.data()), data.size()});
  }
  buffer_.consume(buffer_.size());
  do_read();
}

// --- writing -----------------------------------------------------------------

// Returns false (and closes with 1008) when more than max-stream-buffer
// bytes already wait. What is admitted is admitted whole: one reply, or one
// batch of events (a session pushes at most 256 per batch), so that a resume
// with a backlog is not mistaken for a slow reader.
bool websocket_session::admit() {
  if (finishing_)
    return false;
  auto waiting = waiting_bytes();
  if (waiting <= ctx_.config->max_stream_buffer)
    return true;
  log::info("slow consumer cut off",
            {{"session", redact_session_id(session_)}, {"pending_bytes", std::to_string(waiting)}});
  metrics().slow_consumers->Increment();
  meter_.closing(close_reason::slow_consumer);
  do_close(websocket::close_code::policy_error, "slow consumer");
  return false;
}

void websocket_session::send_events(stream_batch& batch) {
  if (!admit())
    return;
  if (jobs_.empty() && can_frame()) { // the common case: straight to the socket's buffer
    for (const auto& e : batch.events)
      frame(e.json, true, e.accepted_ns);
    if (corked_)
      return; // drain_signals flushes and counts once for all
    flush_frames();
    return count_buffered();
  }
  auto& queue = jobs_.empty() ? outbox_ : held_;
  for (auto& e : batch.events) {
    queued_bytes_ += e.json.size();
    queue.push_back(outgoing_frame{std::move(e.json), true, e.accepted_ns});
  }
  do_write();
}

// A stream-level frame keeps its place among the events.
void websocket_session::send_control(std::string frame) {
  if (!admit())
    return;
  queued_bytes_ += frame.size();
  (jobs_.empty() ? outbox_ : held_).push_back(outgoing_frame{std::move(frame)});
  do_write();
}

void websocket_session::enqueue(std::string frame) {
  if (!admit())
    return;
  queued_bytes_ += frame.size();
  outbox_.push_back(outgoing_frame{std::move(frame)});
  do_write();
}

// Frames may go straight to the coalescing_stream: no deflate, nothing queued
// ahead, and Beast has not begun a close (it marks the stream closing before
// it writes its close frame, which no data frame may follow).
bool websocket_session::can_frame() const {
  return raw_frames_ && outbox_.empty() && !closed_ && ws_.is_open();
}

void websocket_session::flush_frames() {
  if (!corked_ && ws_.next_layer().pending())
    ws_.next_layer().flush();
}

void websocket_session::frame(std::string_view text, bool event, std::int64_t accepted_ns) {
  append_text_frame(ws_.next_layer(), text);
  wrote_since_heartbeat_ = true;
  if (event)
    meter_.event_pending(accepted_ns);
}

void websocket_session::do_write() {
  if (!closed_ && !outbox_.empty()) {
    if (raw_frames_) {
      if (ws_.is_open()) { // else Beast closes: the read ends and fail() clears up
        for (auto& f : outbox_) {
          queued_bytes_ -= f.text.size();
          frame(f.text, f.event, f.accepted_ns);
        }
        outbox_.clear();
        flush_frames();
      }
    } else if (!write_in_flight_) {
      // Beast's write only hands the frame to the coalescing_stream: it
      // completes at once, and the next frame follows into the same buffer.
      writing_ = std::move(outbox_.front());
      outbox_.pop_front();
      queued_bytes_ -= writing_.text.size();
      write_in_flight_ = true;
      ws_.async_write(net::buffer(writing_.text),
                      beast::bind_front_handler(&websocket_session::on_write, shared_from_this()));
    }
  }
  // The close frame follows what the coalescing_stream holds.
  if (finishing_ && !closed_ && outbox_.empty() && !write_in_flight_)
    do_close(close_code_, close_reason_);
  count_buffered();
}

// Deflate only. The frame is in the coalescing_stream now; its event counts
// as pending from here, and flush() makes sure a write starts after this,
// so that it is counted delivered when it really is.
void websocket_session::on_write(beast::error_code ec, std::size_t) {
  write_in_flight_ = false;
  if (ec)
    return fail(ec, "write");
  wrote_since_heartbeat_ = true;
  if (writing_.event)
    meter_.event_pending(writing_.accepted_ns);
  writing_ = outgoing_frame{};
  ws_.next_layer().flush();
  do_write();
}

void websocket_session::flush_started() {
  meter_.write_started();
}

void websocket_session::flush_completed(beast::error_code ec) {
  if (ec)
    return fail(ec, "write");
  meter_.write_completed(); // Beast's pings go through here too: not a frame of ours
  count_buffered();
}

// Queued here, handed to Beast, or held by the coalescing_stream (pending
// or in flight).
std::size_t websocket_session::waiting_bytes() const {
  return queued_bytes_ + (write_in_flight_ ? writing_.text.size() : 0)
         + ws_.next_layer().buffered();
}

void websocket_session::arm_heartbeat() {
  heartbeat_timer_.expires_after(ctx_.config->heartbeat);
  heartbeat_timer_.async_wait(
      beast::bind_front_handler(&websocket_session::on_heartbeat, shared_from_this()));
}

// A heartbeat frame goes out only after a whole interval without any frame.
void websocket_session::on_heartbeat(beast::error_code ec) {
  if (ec || finishing_)
    return; // cancelled: the connection is closing
  if (!wrote_since_heartbeat_ && !write_in_flight_ && !ws_.next_layer().writing()
      && outbox_.empty())
    enqueue("{\"type\":\"heartbeat\",\"time\":" + std::to_string(now_ms()) + "}");
  wrote_since_heartbeat_ = false;
  close_if_draining();
  if (!finishing_)
    arm_heartbeat();
}

// --- closing -----------------------------------------------------------------

// Ends the work of the socket at once but lets what is queued go out first.
void websocket_session::close_after_flush(std::uint16_t code, const char* reason) {
  if (finishing_)
    return;
  finishing_ = true;
  close_code_ = code;
  close_reason_ = reason;
  meter_.closing(code == close_reconnect_elsewhere ? close_reason::drain : close_reason::server);
  heartbeat_timer_.cancel();
  auto keep = std::move(outbox_);
  release();
  outbox_ = std::move(keep); // what is queued still goes out
  for (const auto& frame : outbox_)
    queued_bytes_ += frame.text.size();
  do_write();
}

void websocket_session::do_close(std::uint16_t code, const char* reason) {
  if (closed_)
    return;
  log::debug("websocket closing", {{"code", std::to_string(code)},
                                   {"reason", reason},
                                   {"session", redact_session_id(session_)}});
  closed_ = true;
  finishing_ = true;
  release();
  // A peer that reads nothing never lets the close frame out: cut it off.
  heartbeat_timer_.expires_after(ctx_.config->heartbeat);
  heartbeat_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec)
      return; // the close completed
    beast::error_code ignored;
    self->tcp().socket().close(ignored);
  });
  ws_.async_close(websocket::close_reason{static_cast<websocket::close_code>(code), reason},
                  beast::bind_front_handler(&websocket_session::on_close, shared_from_this()));
}

void websocket_session::on_close(beast::error_code ec) {
  heartbeat_timer_.cancel();
  if (ec)
    return fail(ec, "close");
}

// Drops all work in progress; the session keeps every event for a resume.
void websocket_session::release() {
  if (worker_)
    caf::anon_send_exit(worker_, caf::exit_reason::user_shutdown);
  worker_ = nullptr;
  detach();
  jobs_.clear();
  attaching_ = false;
  outbox_.clear();
  queued_bytes_ = 0;
  count_buffered();
}

// What waits: the queued frames and the write in flight.
void websocket_session::count_buffered() {
  meter_.buffered(waiting_bytes());
}

// Client misbehaviour (bad frames, oversize, silence) is the client's
// business: debug level. operation_aborted only means we closed first.
void websocket_session::fail(beast::error_code ec, const char* what) {
  if (const auto& violation = ws_.next_layer().read_violation();
      violation && !closed_ && std::string_view{what} == "read")
    return close_for_violation(*violation);
  if (ec != net::error::operation_aborted)
    log::debug("websocket ended",
               {{"op", what}, {"error", ec.message()}, {"session", redact_session_id(session_)}});
  bool closing = closed_;
  closed_ = true;
  finishing_ = true;
  release();
  // While our close handshake runs, a failed read is part of it; Beast (or
  // the close guard) ends the socket. Otherwise the connection is dead.
  if (closing && std::string_view{what} == "read")
    return;
  heartbeat_timer_.cancel();
  beast::error_code ignored;
  tcp().socket().close(ignored);
}

// The frame_guard stopped the reads: Beast's stream has failed and sends no
// close frame, so it is written here, behind what is already queued; then
// the socket closes (at the latest after a heartbeat, for a peer that reads nothing).
void websocket_session::close_for_violation(const frame_guard::violation& v) {
  log::debug("websocket refused", {{"reason", v.reason}, {"session", redact_session_id(session_)}});
  meter_.closing(close_reason::error);
  closed_ = true;
  finishing_ = true;
  release();
  append_close_frame(ws_.next_layer(), v.close_code, v.reason);
  auto end = [self = shared_from_this()] {
    beast::error_code ignored;
    self->tcp().socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
    self->tcp().socket().close(ignored);
  };
  heartbeat_timer_.expires_after(ctx_.config->heartbeat);
  heartbeat_timer_.async_wait([end](beast::error_code ec) {
    if (!ec)
      end();
  });
  ws_.next_layer().async_drain([this, end](beast::error_code) {
    heartbeat_timer_.cancel();
    end();
  });
}

} // namespace herald
