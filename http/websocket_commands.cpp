// websocket_session, part two: command frames and the attached session.
// Part one (websocket_session.cpp) holds the socket: handshake, reads,
// the write queue, heartbeats and closing.

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "actors/command_actor.hpp"
#include "actors/event.hpp"
#include "http/websocket_session.hpp"

namespace herald {

namespace net = boost::asio;
namespace websocket = boost::beast::websocket;

namespace {

// Close codes beyond RFC 6455's (docs/protocol.md, "WebSocket").

// A stream-level frame: {"type":…,"<key>":…,"message":…,"time":…}.
std::string stream_frame(std::string_view type, std::string_view key, std::string_view value,
                         std::string_view message) {
  return "{\"type\":" + json_quote(type) + ",\"" + std::string{key} + "\":" + json_quote(value)
         + ",\"message\":" + json_quote(message) + ",\"time\":" + std::to_string(now_ms()) + "}";
}

} // namespace

// --- commands ----------------------------------------------------------------

void websocket_session::queue_frame(std::string_view text) {
  auto body = parse_rpc_body(text, *ctx_.config);
  // --rate-limit counts commands as they arrive; those beyond it are answered,
  // in their place, without being performed.
  for (auto& item : body.commands)
    item.cmd.params.client_address = client_address_;
  for (auto& item : body.commands)
    if (!item.failure && !budget_.take())
      item.failure = make_failure("rate_limited",
                                  "more than " + std::to_string(ctx_.config->rate_limit)
                                      + " commands per second on this connection (rate-limit); "
                                        "not performed, retry later");
  if (jobs_.size() < max_pending_frames) {
    jobs_.push_back(frame_job{std::move(body), {}, 0});
    if (jobs_.size() == 1)
      run_job();
    return;
  }
  // Answered at once, so possibly ahead of earlier frames: ids correlate.
  auto limited = make_failure("rate_limited", "more than " + std::to_string(max_pending_frames)
                                                  + " frames wait on this socket");
  if (body.failure || !body.batch) {
    const auto& cmd = body.commands.empty() ? command{} : body.commands.front().cmd;
    return enqueue(render_reply_frame(cmd.id, cmd.has_id, limited));
  }
  std::string frame = "[";
  for (const auto& item : body.commands) {
    if (frame.size() > 1)
      frame += ',';
    frame += render_reply_frame(item.cmd.id, item.cmd.has_id, limited);
  }
  enqueue(frame + "]");
}

void websocket_session::run_job() {
  while (!jobs_.empty() && !worker_ && !attaching_ && !finishing_)
    step_job();
}

// Advances the front job as far as it goes without waiting; finishes it when
// every command is answered.
void websocket_session::step_job() {
  auto& job = jobs_.front();
  if (job.body.failure) {
    answer(*job.body.failure);
    return finish_job();
  }
  const auto& items = job.body.commands;
  while (job.next < items.size()) {
    const auto& item = items[job.next];
    if (item.failure) {
      answer(*item.failure);
      continue;
    }
    if (item.cmd.verb == method::listen) {
      answer(make_failure("bad_request", "listen: the socket already streams; use attach"));
      continue;
    }
    if (item.cmd.verb == method::attach) {
      attaching_ = true;
      return attach(item.cmd.params.session, item.cmd.params.cursor);
    }
    // The run of commands the actor can take, up to and including an enter:
    // its session's stream attaches before anything after it runs.
    std::vector<command> run;
    for (auto i = job.next; i < items.size(); ++i) {
      const auto& next = items[i];
      if (next.failure || next.cmd.verb == method::listen || next.cmd.verb == method::attach)
        break;
      run.push_back(next.cmd);
      if (next.cmd.verb == method::enter)
        break;
    }
    return run_commands(std::move(run));
  }
  finish_job();
}

void websocket_session::run_commands(std::vector<command> commands) {
  std::weak_ptr<websocket_session> weak = shared_from_this();
  auto executor = ws_.get_executor();
  worker_
      = spawn_command_actor(ctx_.system, ctx_.commands, std::move(commands),
                            [weak, executor](std::vector<reply> replies) {
                              net::post(executor, [weak, replies = std::move(replies)]() mutable {
                                if (auto self = weak.lock())
                                  self->on_commands(std::move(replies));
                              });
                            });
}

void websocket_session::on_commands(std::vector<reply> replies) {
  if (finishing_ || jobs_.empty())
    return; // the job was dropped while its actor worked
  worker_ = nullptr;
  auto& job = jobs_.front();
  for (auto& r : replies) {
    if (job.next >= job.body.commands.size())
      break;
    bool entered = job.body.commands[job.next].cmd.verb == method::enter && r.ok();
    answer(r);
    if (!entered)
      continue;
    // Like SSE's implicit enter: the socket now carries the new session.
    auto result = nlohmann::json::parse(r.result_json, nullptr, false);
    if (result.is_object() && result.contains("session") && result["session"].is_string())
      attach(result["session"].get<std::string>(), 0);
  }
  run_job();
}

void websocket_session::answer(const reply& r) {
  auto& job = jobs_.front();
  if (job.body.failure) {
    job.replies.push_back(render_reply_frame({}, false, r));
    return;
  }
  const auto& cmd = job.body.commands[job.next].cmd;
  job.replies.push_back(render_reply_frame(cmd.id, cmd.has_id, r));
  ++job.next;
}

// Sends the job's reply (a batch as one array), then the events held for it.
void websocket_session::finish_job() {
  auto job = std::move(jobs_.front());
  jobs_.pop_front();
  std::string frame;
  if (job.body.batch && !job.body.failure) {
    frame = "[";
    for (const auto& r : job.replies) {
      if (frame.size() > 1)
        frame += ',';
      frame += r;
    }
    frame += "]";
  } else if (!job.replies.empty()) {
    frame = std::move(job.replies.front());
  }
  enqueue(std::move(frame));
  if (finishing_)
    return;
  while (!held_.empty()) {
    outbox_.push_back(std::move(held_.front()));
    held_.pop_front();
  }
  do_write();
  close_if_draining();
}

// --- the attached session ------------------------------------------------------

void websocket_session::attach(const std::string& session, std::uint64_t cursor) {
  detach();
  session_ = session;
  std::weak_ptr<websocket_session> weak = shared_from_this();
  auto executor = ws_.get_executor();
  auto generation = sink_generation_;
  auto inbox = std::make_shared<signal_inbox>();
  sink_ = spawn_sink_actor(
      ctx_.system, ctx_.commands.directory, session, cursor,
      [weak, executor, generation, inbox](sink_signal signal) {
        bool idle;
        {
          std::lock_guard lock{inbox->mutex};
          idle = inbox->signals.empty();
          inbox->signals.push_back(std::move(signal));
        }
        // A drain is already posted otherwise, and takes this signal too.
        if (idle)
          net::post(executor, [weak, generation, inbox] {
            if (auto self = weak.lock())
              self->drain_signals(generation, *inbox);
          });
      },
      /*paced=*/false, stream_owner{connection_id_, generation});
}

// Drops the current sink; the session keeps every event for the next attach.
void websocket_session::detach() {
  if (sink_)
    caf::anon_send_exit(sink_, caf::exit_reason::user_shutdown);
  sink_ = nullptr;
  ++sink_generation_;
  session_.clear();
  for (const auto& e : held_)
    queued_bytes_ -= e.text.size();
  held_.clear();
}

// Under load a connection's events arrive faster than one post each can be
// served: they gather in the inbox, and their frames leave in one write.
void websocket_session::drain_signals(std::uint64_t generation, signal_inbox& inbox) {
  {
    std::lock_guard lock{inbox.mutex};
    draining_.swap(inbox.signals);
  }
  corked_ = true;
  for (auto& signal : draining_)
    on_signal(generation, std::move(signal));
  draining_.clear();
  corked_ = false;
  flush_frames();
  count_buffered();
}

void websocket_session::on_signal(std::uint64_t generation, sink_signal signal) {
  if (generation != sink_generation_ || finishing_)
    return; // a replaced sink, or the socket is closing
  switch (signal.what) {
    case sink_signal::kind::attached: return on_attached(signal.attach);
    case sink_signal::kind::batch: return send_events(signal.batch);
    case sink_signal::kind::ended: sink_ = nullptr; return on_end(signal.end);
  }
}

void websocket_session::on_attached(const reply& r) {
  if (!r.ok())
    detach(); // the sink has quit
  if (attaching_) {
    attaching_ = false;
    answer(r);
    return run_job();
  }
  if (!r.ok()) // the stream an enter started
    send_control(stream_frame("error", "code", r.error_code, r.error_message));
}

void websocket_session::on_end(const stream_end& end) {
  if (attaching_) { // ended before it attached: the attach fails
    attaching_ = false;
    detach();
    auto code = end.reason == "draining"   ? "unavailable"
                : end.reason == "internal" ? "internal"
                                           : "unknown_session";
    answer(make_failure(code, end.message));
    return run_job();
  }
  if (end.reason == "superseded") {
    enqueue(stream_frame("end", "reason", end.reason, end.message));
    return close_after_flush(websocket::close_code::normal, "superseded");
  }
  if (end.reason == "draining") {
    detach();
    // Commands already received are answered first (close_if_draining waits
    // for them): a client must not lose the reply of a speak it sent.
    if (!ctx_.draining)
      return close_after_flush(close_reconnect_elsewhere, "reconnect elsewhere");
    return close_if_draining();
  }
  // The session is gone (exit, lease expiry); the socket stays usable.
  auto code = end.reason == "internal" ? "internal" : "unknown_session";
  detach();
  send_control(stream_frame("error", "code", code, end.message));
  close_if_draining();
}

// A socket without a session hears of a drain from nobody else.
void websocket_session::close_if_draining() {
  if (ctx_.draining && !sink_ && jobs_.empty() && !finishing_)
    close_after_flush(close_reconnect_elsewhere, "reconnect elsewhere");
}

} // namespace herald
