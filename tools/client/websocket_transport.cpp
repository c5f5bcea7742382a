#include "tools/client/websocket_transport.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/buffers_to_string.hpp>

namespace herald::client {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {

constexpr const char* subprotocol = "herald.v1";
constexpr std::uint16_t close_reconnect_elsewhere = 4000;
constexpr std::uint16_t close_slow_consumer = 1008;
constexpr std::size_t max_early_frames = 10000;

// A reply frame carries `id` and `result` or `error`; events and stream
// notices carry `type` instead.
bool is_reply(const json& frame) {
  return frame.is_object() && !frame.contains("type")
         && (frame.contains("result") || frame.contains("error"));
}

} // namespace

websocket_transport::websocket_transport(net::any_io_executor executor, transport_settings settings)
    : settings_(std::move(settings)), resolver_(executor), ws_(executor) {}

void websocket_transport::open(std::function<void(std::optional<link_problem>)> done) {
  open_done_ = std::move(done);
  resolver_.async_resolve(
      settings_.url.host, settings_.url.port,
      beast::bind_front_handler(&websocket_transport::on_resolve, shared_from_this()));
}

void websocket_transport::on_resolve(beast::error_code ec, tcp::resolver::results_type results) {
  if (closed_)
    return;
  if (ec)
    return finish_open(problem_of(ec, "cannot resolve the server's host"));
  beast::get_lowest_layer(ws_).expires_after(settings_.connect_timeout);
  beast::get_lowest_layer(ws_).async_connect(
      results, beast::bind_front_handler(&websocket_transport::on_connect, shared_from_this()));
}

void websocket_transport::on_connect(beast::error_code ec, tcp::endpoint) {
  if (closed_)
    return;
  if (ec)
    return finish_open(problem_of(ec, "cannot connect"));
  // From here on the WebSocket's own timeouts govern the socket. Pings keep a
  // quiet but healthy link alive; silence past idle_timeout means it is dead.
  beast::get_lowest_layer(ws_).expires_never();
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = settings_.connect_timeout;
  timeouts.idle_timeout = settings_.idle_timeout;
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
    req.set(http::field::sec_websocket_protocol, subprotocol);
    req.set(http::field::user_agent, "herald-client");
  }));
  ws_.async_handshake(
      handshake_response_, settings_.url.host_header(), settings_.url.target("/v1/ws"),
      beast::bind_front_handler(&websocket_transport::on_handshake, shared_from_this()));
}

void websocket_transport::on_handshake(beast::error_code ec) {
  if (closed_)
    return;
  if (ec == websocket::error::upgrade_declined) {
    // The server said why in an error body (docs/protocol.md, "Handshake").
    auto status = handshake_response_.result_int();
    auto body = json::parse(handshake_response_.body(), nullptr, false);
    if (body.is_object() && body.contains("error"))
      return finish_open(problem_from_error(body["error"], static_cast<int>(status)));
    return finish_open(
        link_problem{status >= 500 ? problem_kind::lost : problem_kind::refused,
                     "the WebSocket upgrade was refused with HTTP " + std::to_string(status), "",
                     static_cast<int>(status)});
  }
  if (ec)
    return finish_open(problem_of(ec, "WebSocket handshake failed"));
  ws_.text(true);
  open_ = true;
  do_read();
  finish_open(std::nullopt);
}

void websocket_transport::finish_open(std::optional<link_problem> problem) {
  if (problem) {
    failed_ = true;
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }
  if (auto done = std::move(open_done_))
    done(std::move(problem));
}

// --- commands -----------------------------------------------------------------

void websocket_transport::call(json frame, std::function<void(call_outcome)> done) {
  if (!open_) {
    // The link failed already: answer on the executor, as promised.
    net::post(ws_.get_executor(), [self = shared_from_this(), done = std::move(done)] {
      if (!self->closed_)
        done(call_outcome{std::nullopt, make_problem(problem_kind::lost, "not connected")});
    });
    return;
  }
  auto id = next_id_++;
  frame["id"] = id;
  if (frame.value("method", "") == "enter") {
    // The socket streams the session this enter creates from its first
    // event; keep those events for start_stream (see there).
    auto entered = [self = shared_from_this(), done = std::move(done)](call_outcome outcome) {
      if (outcome.reply && outcome.reply->contains("result")) {
        self->entered_session_ = (*outcome.reply)["result"].value("session", "");
        self->early_frames_.clear();
      }
      done(std::move(outcome));
    };
    pending_calls_.emplace(id, std::move(entered));
  } else {
    pending_calls_.emplace(id, std::move(done));
  }
  // Text typed by a person may not be valid UTF-8; send U+FFFD rather than fail.
  outbox_.push_back(frame.dump(-1, ' ', false, json::error_handler_t::replace));
  if (!writing_)
    do_write();
}

void websocket_transport::start_stream(const std::string& session, std::uint64_t cursor,
                                       stream_handlers handlers) {
  stream_ = std::move(handlers);
  if (session == entered_session_ && cursor == 0) {
    // Entered on this very socket, which already streams that session from
    // its start: an attach would only replace the stream with itself.
    net::post(ws_.get_executor(), [self = shared_from_this()] { self->replay_early_frames(); });
    return;
  }
  early_frames_.clear();
  json attach = {{"method", "attach"}, {"params", {{"session", session}, {"cursor", cursor}}}};
  call(std::move(attach), [self = shared_from_this()](call_outcome outcome) {
    self->on_attach_reply(std::move(outcome));
  });
}

void websocket_transport::replay_early_frames() {
  if (closed_ || stream_ended_)
    return;
  stream_->on_started();
  auto frames = std::move(early_frames_);
  early_frames_.clear();
  for (auto& frame : frames) {
    if (closed_ || stream_ended_)
      return;
    on_stream_frame(std::move(frame));
  }
}

void websocket_transport::on_attach_reply(call_outcome outcome) {
  if (stream_ended_)
    return;
  if (outcome.problem) {
    stream_ended_ = true;
    return stream_->on_end(*outcome.problem);
  }
  if (auto error = outcome.reply->find("error"); error != outcome.reply->end()) {
    stream_ended_ = true;
    auto problem = problem_from_error(*error);
    // An attach the server refuses for any other reason will never succeed.
    if (problem.kind == problem_kind::refused)
      problem.kind = problem_kind::failed;
    return stream_->on_end(problem);
  }
  stream_->on_started();
}

// --- reading ------------------------------------------------------------------

void websocket_transport::do_read() {
  ws_.async_read(buffer_,
                 beast::bind_front_handler(&websocket_transport::on_read, shared_from_this()));
}

void websocket_transport::on_read(beast::error_code ec, std::size_t) {
  if (closed_ || failed_)
    return;
  if (ec)
    return fail(problem_of(ec, "the WebSocket connection ended"));
  auto text = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  on_message(text);
  if (!closed_ && !failed_)
    do_read();
}

void websocket_transport::on_message(const std::string& text) {
  auto frame = json::parse(text, nullptr, false);
  if (frame.is_discarded() || !frame.is_object())
    return; // not a Herald frame; nothing sensible to do with it
  if (is_reply(frame)) {
    auto id = frame.find("id");
    auto number = id == frame.end() ? std::nullopt : read_unsigned(*id);
    if (!number)
      return; // an answer to no command of ours
    auto pending = pending_calls_.find(*number);
    if (pending == pending_calls_.end())
      return;
    auto done = std::move(pending->second);
    pending_calls_.erase(pending);
    return done(call_outcome{std::move(frame), std::nullopt});
  }
  on_stream_frame(std::move(frame));
}

void websocket_transport::on_stream_frame(json frame) {
  if (!stream_) {
    // The stream of a session entered on this socket, before start_stream:
    // kept for it. Beyond the bound the link is dropped and the client
    // resumes with attach, which replays them.
    if (entered_session_.empty())
      return;
    if (early_frames_.size() >= max_early_frames)
      return fail(make_problem(problem_kind::lost, "too many events before the stream started"));
    early_frames_.push_back(std::move(frame));
    return;
  }
  if (stream_ended_)
    return;
  auto type = frame.value("type", "");
  if (type == "end") {
    end_reason_ = frame.value("reason", "");
    stream_ended_ = true;
    auto kind = end_reason_ == "superseded" ? problem_kind::superseded : problem_kind::lost;
    return stream_->on_end(make_problem(
        kind, frame.value("message", "the server ended the stream (" + end_reason_ + ")")));
  }
  if (type == "error") {
    stream_ended_ = true;
    auto problem = problem_from_error(frame);
    if (problem.kind == problem_kind::refused)
      problem.kind = problem_kind::lost;
    return stream_->on_end(problem);
  }
  stream_->on_frame(std::move(frame));
}

// --- writing ------------------------------------------------------------------

void websocket_transport::do_write() {
  writing_ = true;
  ws_.async_write(net::buffer(outbox_.front()),
                  beast::bind_front_handler(&websocket_transport::on_write, shared_from_this()));
}

void websocket_transport::on_write(beast::error_code ec, std::size_t) {
  if (closed_ || failed_)
    return;
  writing_ = false;
  if (ec)
    return fail(problem_of(ec, "cannot write to the WebSocket"));
  outbox_.pop_front();
  if (!outbox_.empty())
    do_write();
}

// --- ending -------------------------------------------------------------------

link_problem websocket_transport::problem_of(beast::error_code ec, const char* what) const {
  if (ec == websocket::error::closed) {
    auto reason = ws_.reason();
    std::string text
        = std::string{what} + ": closed by the server with code " + std::to_string(reason.code)
          + (reason.reason.empty()
                 ? ""
                 : " (" + std::string(reason.reason.data(), reason.reason.size()) + ")");
    if (reason.code == close_reconnect_elsewhere)
      return make_problem(problem_kind::reconnect, text);
    if (reason.code == websocket::close_code::normal && end_reason_ == "superseded")
      return make_problem(problem_kind::superseded, text);
    if (reason.code == close_slow_consumer || reason.code == websocket::close_code::normal
        || reason.code == websocket::close_code::going_away)
      return make_problem(problem_kind::lost, text);
    // 1002, 1003, 1007, 1009: the server says this client broke the protocol.
    return make_problem(problem_kind::failed, text);
  }
  if (ec == beast::error::timeout)
    return make_problem(problem_kind::lost, std::string{what} + ": the server went silent");
  return make_problem(problem_kind::lost, std::string{what} + ": " + ec.message());
}

void websocket_transport::fail(link_problem problem) {
  open_ = false;
  failed_ = true;
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
  auto pending = std::move(pending_calls_);
  pending_calls_.clear();
  for (auto& [id, done] : pending)
    if (!closed_) // a callback may close the transport; then the rest stay silent
      done(call_outcome{std::nullopt, problem});
  if (stream_ && !stream_ended_ && !closed_) {
    stream_ended_ = true;
    stream_->on_end(problem);
  }
}

void websocket_transport::close() {
  closed_ = true;
  open_ = false;
  pending_calls_.clear();
  resolver_.cancel();
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
}

} // namespace herald::client
