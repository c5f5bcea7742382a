#include "http/stream_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include "actors/command_actor.hpp"
#include "actors/event.hpp"
#include "actors/log.hpp"
#include "actors/names.hpp"
#include "http/jsonp.hpp"
#include "http/responses.hpp"

namespace herald {

namespace beast = boost::beast;
namespace net = boost::asio;

namespace {

// Browsers (old IE and some proxies) buffer the first KiB of an HTML
// response before running any of it.
std::string frame_preamble() {
  std::string out = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>\n<!--";
  out.append(1024, ' ');
  out += "-->\n";
  return out;
}

std::string hex(std::size_t n) {
  char buf[20];
  auto len = std::snprintf(buf, sizeof(buf), "%zx", n);
  return std::string(buf, static_cast<std::size_t>(len));
}

std::string control_json(std::string_view type, std::string_view reason, std::string_view message) {
  return "{\"type\":" + json_quote(type) + ",\"reason\":" + json_quote(reason)
         + ",\"message\":" + json_quote(message) + ",\"time\":" + std::to_string(now_ms()) + "}";
}

} // namespace

stream_session::stream_session(client_stream&& stream, server_context& ctx, stream_plan plan)
    : stream_(std::move(stream)), ctx_(ctx), plan_(std::move(plan)), session_(plan_.session),
      meter_(plan_.kind == stream_plan::format::sse ? transport::sse : transport::stream),
      heartbeat_timer_(stream_.get_executor()), age_timer_(stream_.get_executor()) {
  ++ctx_.open_connections;
}

stream_session::~stream_session() {
  if (sink_)
    caf::anon_send_exit(sink_, caf::exit_reason::user_shutdown);
  if (enter_worker_)
    caf::anon_send_exit(enter_worker_, caf::exit_reason::user_shutdown);
  --ctx_.open_connections;
}

void stream_session::run() {
  stream_.expires_never();
  std::string head = "HTTP/1.1 200 OK\r\nServer: herald\r\n";
  if (plan_.kind == stream_plan::format::sse)
    head += "Content-Type: text/event-stream; charset=utf-8\r\n";
  else
    head += "Content-Type: text/html; charset=utf-8\r\n";
  head += "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\nConnection: keep-alive\r\n"
          "X-Content-Type-Options: nosniff\r\nTransfer-Encoding: chunked\r\n";
  if (!plan_.allow_origin.empty()) {
    head += "Access-Control-Allow-Origin: " + plan_.allow_origin + "\r\n";
    if (plan_.allow_origin != "*")
      head += "Vary: Origin\r\n";
  }
  head += "\r\n";
  // The head goes out as is; everything after it is chunked by do_write.
  writing_ = std::move(head);
  write_in_flight_ = true;
  net::async_write(
      stream_, net::buffer(writing_),
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  if (plan_.kind == stream_plan::format::sse)
    enqueue("retry: " + std::to_string(ctx_.config->sse_retry_ms) + "\n\n");
  else
    enqueue(frame_preamble());
  arm_heartbeat();
  watch_peer();
  if (plan_.kind == stream_plan::format::frame) {
    age_timer_.expires_after(ctx_.config->stream_max_age);
    age_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_ || self->finishing_)
        return;
      self->write_control("", "reconnect",
                          control_json("reconnect", "max_age", "stream reached stream-max-age"));
      self->finish_after_flush();
    });
  }
  if (session_.empty())
    enter_then_attach();
  else
    attach(session_, plan_.cursor);
}

void stream_session::enter_then_attach() {
  command cmd;
  cmd.verb = method::enter;
  cmd.params.user = plan_.enter_user;
  cmd.params.groups = plan_.enter_groups;
  cmd.params.token = plan_.enter_token;
  cmd.params.client_address = plan_.client_address;
  std::weak_ptr<stream_session> weak = shared_from_this();
  auto executor = stream_.get_executor();
  enter_worker_ = spawn_command_actor(
      ctx_.system, ctx_.commands, {std::move(cmd)}, [weak, executor](std::vector<reply> replies) {
        net::post(executor, [weak, r = std::move(replies[0])] {
          auto self = weak.lock();
          if (!self || self->closed_)
            return;
          self->enter_worker_ = nullptr;
          if (!r.ok()) {
            self->write_control("", "error", error_body(r.error_code, r.error_message));
            self->finish_after_flush();
            return;
          }
          auto result = nlohmann::json::parse(r.result_json, nullptr, false);
          self->session_ = result.value("session", std::string{});
          self->write_control(self->session_ + ".0", "session", r.result_json);
          self->attach(self->session_, 0);
        });
      });
}

void stream_session::attach(const std::string& session, std::uint64_t cursor) {
  std::weak_ptr<stream_session> weak = shared_from_this();
  auto executor = stream_.get_executor();
  sink_ = spawn_sink_actor(
      ctx_.system, ctx_.commands.directory, session, cursor,
      [weak, executor](sink_signal signal) {
        net::post(executor, [weak, signal = std::move(signal)]() mutable {
          if (auto self = weak.lock())
            self->on_signal(std::move(signal));
        });
      },
      /*paced=*/true);
}

void stream_session::on_signal(sink_signal signal) {
  if (closed_ || finishing_)
    return;
  switch (signal.what) {
    case sink_signal::kind::attached:
      if (!signal.attach.ok()) {
        // A request that can never succeed (a cursor past the end): the id
        // makes a browser's reconnect be answered 204, so it stops retrying.
        sink_ = nullptr;
        write_control(session_ + ".stop", "error",
                      error_body(signal.attach.error_code, signal.attach.error_message));
        finish_after_flush();
      }
      return;
    case sink_signal::kind::batch: on_batch(signal.batch); return;
    case sink_signal::kind::ended:
      sink_ = nullptr;
      on_end(signal.end);
      return;
  }
}

void stream_session::on_batch(const stream_batch& batch) {
  for (const auto& e : batch.events)
    write_event(e);
}

void stream_session::on_end(const stream_end& end) {
  const auto& reason = end.reason;
  if (reason == "unknown_session" && plan_.enter) {
    // A plain EventSource reconnecting to its enter URL after its session
    // is gone: say so, then start a new session as the URL asks.
    write_control("", "error", error_body("unknown_session", end.message));
    session_.clear();
    enter_then_attach();
    return;
  }
  if (reason == "slow_consumer") {
    log::info("slow consumer cut off", {{"session", redact_session_id(session_)}});
    return close("slow consumer", close_reason::slow_consumer);
  }
  if (reason == "draining")
    finish_reason_ = close_reason::drain;
  if (reason == "superseded") {
    // The id makes the browser's reconnect name this stream as superseded,
    // which is answered 204: a bare EventSource stops for good.
    write_control(session_ + ".superseded", "superseded", control_json("end", reason, end.message));
  } else if (reason == "draining") {
    write_control("", "reconnect", control_json("reconnect", reason, end.message));
  } else if (reason == "unknown_session" || reason == "ended") {
    write_control(session_ + ".gone", "error", error_body("unknown_session", end.message));
  } else {
    write_control("", "error", error_body("internal", end.message));
  }
  finish_after_flush();
}

void stream_session::write_event(const stream_event& e) {
  const auto& [eid, type, json, accepted_ns] = e;
  // Recorded before enqueue(), which may start the write that carries it.
  pending_last_eid_ = eid;
  meter_.event_pending(accepted_ns);
  if (plan_.kind == stream_plan::format::sse) {
    std::string out;
    out.reserve(session_.size() + type.size() + json.size() + 32);
    out += "id: ";
    out += session_;
    out += '.';
    out += std::to_string(eid);
    out += "\nevent: ";
    out += type;
    out += "\ndata: ";
    out += json;
    out += "\n\n";
    enqueue(out);
  } else {
    enqueue("<script>parent." + plan_.callback + "(" + escape_json_for_script(json)
            + ");</script>\n");
  }
}

// Stream-level messages (session, error, superseded, reconnect): on SSE an
// event of that type (with an id only when given), on a forever-frame a
// call with the JSON itself.
void stream_session::write_control(const std::string& id, const std::string& type,
                                   const std::string& json) {
  if (plan_.kind == stream_plan::format::sse) {
    std::string out;
    if (!id.empty())
      out += "id: " + id + "\n";
    out += "event: " + type + "\ndata: " + json + "\n\n";
    enqueue(out);
  } else {
    auto payload = json;
    if (type == "session")
      payload = "{\"type\":\"session\",\"result\":" + json + "}";
    else if (type == "error")
      payload = "{\"type\":\"error\"," + json.substr(1);
    enqueue("<script>parent." + plan_.callback + "(" + escape_json_for_script(payload)
            + ");</script>\n");
  }
}

void stream_session::enqueue(std::string_view bytes) {
  if (closed_)
    return;
  // The session paces what it sends, so this only trips when the socket
  // itself stalls with heartbeats and control messages piling up; one event
  // larger than the bound must still get through.
  if (!pending_.empty() && pending_.size() + bytes.size() > 2 * ctx_.config->max_stream_buffer) {
    log::info("slow consumer cut off", {{"session", redact_session_id(session_)},
                                        {"pending_bytes", std::to_string(pending_.size())}});
    metrics().slow_consumers->Increment();
    close("slow consumer", close_reason::slow_consumer);
    return;
  }
  pending_.append(bytes);
  count_buffered();
  if (!write_in_flight_)
    do_write();
}

void stream_session::do_write() {
  if (closed_ || write_in_flight_)
    return;
  if (pending_.empty() && !finishing_)
    return;
  writing_.clear();
  if (!pending_.empty()) {
    writing_ = hex(pending_.size()) + "\r\n";
    writing_ += pending_;
    writing_ += "\r\n";
    pending_.clear();
  }
  if (finishing_)
    writing_ += "0\r\n\r\n";
  writing_last_eid_ = pending_last_eid_;
  pending_last_eid_ = 0;
  meter_.write_started();
  write_in_flight_ = true;
  count_buffered();
  net::async_write(
      stream_, net::buffer(writing_),
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
}

void stream_session::on_write(beast::error_code ec) {
  write_in_flight_ = false;
  count_buffered();
  if (ec)
    return close("write failed", close_reason::client);
  meter_.write_completed();
  if (finishing_ && pending_.empty() && writing_.ends_with("0\r\n\r\n"))
    return close("finished", finish_reason_);
  if (writing_last_eid_ != 0 && sink_)
    caf::anon_send(sink_, flushed_atom::value, writing_last_eid_);
  writing_last_eid_ = 0;
  do_write();
}

void stream_session::arm_heartbeat() {
  heartbeat_timer_.expires_after(ctx_.config->heartbeat);
  heartbeat_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || self->closed_ || self->finishing_)
      return;
    auto time = std::to_string(now_ms());
    if (self->plan_.kind == stream_plan::format::sse)
      self->enqueue(": heartbeat " + time + "\n\n");
    else
      self->enqueue("<script>parent." + self->plan_.callback
                    + "({\"type\":\"heartbeat\",\"time\":" + time + "});</script>\n");
    self->arm_heartbeat();
  });
}

// A stream's client sends nothing; a read completes only when it goes away.
void stream_session::watch_peer() {
  stream_.async_read_some(net::buffer(peer_probe_),
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            if (ec)
                              return self->close("client closed", close_reason::client);
                            self->watch_peer();
                          });
}

void stream_session::finish_after_flush() {
  finishing_ = true;
  heartbeat_timer_.cancel();
  age_timer_.cancel();
  if (sink_) {
    caf::anon_send_exit(sink_, caf::exit_reason::user_shutdown);
    sink_ = nullptr;
  }
  do_write();
}

// What waits: the pending buffer and the write in flight.
void stream_session::count_buffered() {
  meter_.buffered(pending_.size() + (write_in_flight_ ? writing_.size() : 0));
}

void stream_session::close(const char* reason, close_reason why) {
  if (closed_)
    return;
  closed_ = true;
  meter_.closing(why);
  log::debug("stream closed", {{"session", redact_session_id(session_)}, {"reason", reason}});
  heartbeat_timer_.cancel();
  age_timer_.cancel();
  if (sink_) {
    caf::anon_send_exit(sink_, caf::exit_reason::user_shutdown);
    sink_ = nullptr;
  }
  beast::error_code ignored;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
}

} // namespace herald
