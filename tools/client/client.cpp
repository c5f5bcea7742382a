// herald::client::client, part one: connecting, entering, resuming and the
// event stream. Part two (client_commands.cpp) is the command queue and stop.

#include "tools/client/client.hpp"

#include "tools/client/client_impl.hpp"

namespace herald::client {

namespace net = boost::asio;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

const char* to_string(stop_reason reason) {
  switch (reason) {
    case stop_reason::requested: return "requested";
    case stop_reason::unreachable: return "unreachable";
    case stop_reason::refused: return "refused";
    case stop_reason::superseded: return "superseded";
    case stop_reason::failed: return "failed";
  }
  return "unknown";
}

// --- the public face ------------------------------------------------------------

client::client(net::any_io_executor executor, client_options options, client_handlers handlers)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(options), std::move(handlers))) {}

client::~client() {
  impl_->shut_down();
}

void client::start() {
  impl_->start();
}

void client::submit(std::string method, json params, reply_handler on_reply) {
  impl_->submit(std::move(method), std::move(params), std::move(on_reply));
}

void client::stop() {
  impl_->stop();
}

bool client::connected() const {
  return impl_->connected();
}

const resume_state& client::state() const {
  return impl_->state();
}

// --- connecting -------------------------------------------------------------------

client::impl::impl(net::any_io_executor executor, client_options options, client_handlers handlers)
    : executor_(std::move(executor)), options_(std::move(options)), handlers_(std::move(handlers)),
      backoff_(options_.backoff), retry_timer_(executor_), call_timer_(executor_),
      stop_timer_(executor_) {}

void client::impl::connect() {
  phase_ = phase::connecting;
  transport_settings settings{options_.url, options_.idle_timeout, options_.listen_timeout,
                              options_.connect_timeout, options_.call_timeout};
  transport_ = make_transport(options_.transport, executor_, settings);
  transport_->open([self = shared_from_this()](const std::optional<link_problem>& problem) {
    self->on_open(problem);
  });
}

void client::impl::on_open(const std::optional<link_problem>& problem) {
  if (problem)
    return attempt_failed(*problem);
  if (state_.session().empty() || session_lost_)
    return enter();
  if (!pending_rejoins_.empty())
    return rejoin_next();
  open_stream();
}

void client::impl::enter() {
  json params = json::object();
  if (!options_.user.empty())
    params["user"] = options_.user;
  if (!options_.token.empty())
    params["token"] = options_.token;
  bool first = state_.session().empty();
  if (first && !options_.groups.empty())
    params["groups"] = options_.groups;
  if (options_.lease)
    params["lease"] = *options_.lease;
  call("enter", std::move(params),
       [self = shared_from_this()](const call_outcome& outcome) { self->on_enter(outcome); });
}

void client::impl::on_enter(const call_outcome& outcome) {
  if (outcome.problem)
    return attempt_failed(*outcome.problem);
  const auto& reply = *outcome.reply;
  if (auto error = reply.find("error"); error != reply.end())
    return attempt_failed(problem_from_error(*error));
  const auto& result = reply["result"];
  auto session = result.value("session", "");
  if (session.empty())
    return attempt_failed(make_problem(problem_kind::failed, "enter answered no session"));
  bool first = state_.session().empty();
  state_.begin_session(session);
  if (first) {
    state_.entered(result);
  } else {
    // A lost session: its groups are rejoined from where we were.
    session_lost_ = false;
    pending_rejoins_.clear();
    for (const auto& [group, position] : state_.groups())
      pending_rejoins_.push_back(group);
  }
  if (handlers_.on_session)
    handlers_.on_session(result);
  if (phase_ == phase::stopped)
    return;
  rejoin_next();
}

void client::impl::rejoin_next() {
  if (pending_rejoins_.empty())
    return open_stream();
  auto group = pending_rejoins_.front();
  auto since = state_.groups().at(group);
  json params = {{"session", state_.session()},
                 {"group", group},
                 {"since", {{"seq", since.seq}, {"epoch", since.epoch}}}};
  call("join", std::move(params),
       [self = shared_from_this(), group, since](const call_outcome& outcome) {
         self->on_rejoin(group, since, outcome);
       });
}

void client::impl::on_rejoin(const std::string& group, const group_position& since,
                             const call_outcome& outcome) {
  if (outcome.problem)
    return attempt_failed(*outcome.problem);
  const auto& reply = *outcome.reply;
  if (auto error = reply.find("error"); error != reply.end()) {
    auto problem = problem_from_error(*error);
    if (problem.kind != problem_kind::refused)
      return attempt_failed(problem);
    // The group may no longer be used (e.g. undeclared groups now refused):
    // say so and go on with the others.
    pending_rejoins_.pop_front();
    state_.left(group);
    status("cannot rejoin " + group + ": " + problem.message);
    return rejoin_next();
  }
  pending_rejoins_.pop_front();
  const auto& result = reply["result"];
  bool recovered = result.value("recovered", false);
  state_.rejoined(group, result, recovered);
  if (handlers_.on_rejoin)
    handlers_.on_rejoin(rejoin_report{group, recovered, since, result});
  if (phase_ != phase::stopped)
    rejoin_next();
}

void client::impl::open_stream() {
  auto self = shared_from_this();
  transport_->start_stream(state_.session(), state_.last_eid(),
                           stream_handlers{
                               [self] { self->on_stream_started(); },
                               [self](const json& frame) { self->on_frame(frame); },
                               [self](const link_problem& why) {
                                 // Before it started, the stream is part of the attempt.
                                 if (self->phase_ == phase::connecting)
                                   return self->attempt_failed(why);
                                 self->link_down(why);
                               },
                           });
}

void client::impl::on_stream_started() {
  phase_ = phase::connected;
  ever_connected_ = true;
  backoff_.reset();
  disconnected_since_.reset();
  status(std::string{"connected over "} + to_string(options_.transport) + ", session "
         + state_.session() + ", resuming after eid " + std::to_string(state_.last_eid()));
  pump();
}

void client::impl::on_frame(const json& frame) {
  if (frame.value("type", "") == "heartbeat" && !options_.deliver_heartbeats)
    return;
  if (state_.admit(frame) == resume_state::verdict::duplicate)
    return;
  if (handlers_.on_event)
    handlers_.on_event(frame);
  if (stopping_ && phase_ == phase::connected)
    pump(); // maybe the echo stop() waits for
}

// --- failures -------------------------------------------------------------------

void client::impl::attempt_failed(const link_problem& problem) {
  if (phase_ == phase::stopped)
    return;
  if (problem.kind == problem_kind::refused)
    return finish(stop_reason::refused,
                  "the server refused: " + problem.message
                      + (problem.code.empty() ? "" : " (" + problem.code + ")"));
  if (!ever_connected_
      && (problem.kind == problem_kind::lost || problem.kind == problem_kind::reconnect)) {
    // Nobody has seen this client work yet: most likely a wrong URL or a
    // server that is down. Say so now instead of retrying in silence.
    bool answered = problem.http_status != 0 || !problem.code.empty();
    return finish(answered ? stop_reason::refused : stop_reason::unreachable,
                  "cannot reach " + options_.url.to_string() + ": " + problem.message);
  }
  link_down(problem);
}

void client::impl::link_down(const link_problem& problem) {
  if (phase_ == phase::stopped)
    return;
  if (transport_)
    transport_->close();
  transport_.reset();
  ++call_serial_;
  call_timer_.cancel();
  in_flight_ = false; // the command stays at the front of the queue: sent again
  if (exiting_)
    return finish(stop_reason::requested, "stopped");
  switch (problem.kind) {
    case problem_kind::superseded: return finish(stop_reason::superseded, problem.message);
    case problem_kind::failed:
    case problem_kind::refused:
      return finish(problem.kind == problem_kind::refused ? stop_reason::refused
                                                          : stop_reason::failed,
                    problem.message);
    case problem_kind::unknown_session:
      session_lost_ = true;
      status("the session " + state_.session() + " is gone (" + problem.message
             + "); entering again and rejoining its groups");
      break;
    case problem_kind::lost:
    case problem_kind::reconnect: break;
  }
  schedule_reconnect(problem);
}

void client::impl::schedule_reconnect(const link_problem& problem) {
  phase_ = phase::waiting;
  auto now = steady_clock::now();
  if (!disconnected_since_)
    disconnected_since_ = now;
  if (stopping_ && queue_.empty())
    return finish(stop_reason::requested, "stopped while disconnected");
  if (options_.give_up_after.count() > 0 && now - *disconnected_since_ >= options_.give_up_after)
    return finish(stop_reason::unreachable, "no connection to " + options_.url.to_string() + " for "
                                                + std::to_string(options_.give_up_after.count())
                                                + " s; last problem: " + problem.message);
  auto delay = backoff_.next();
  status("disconnected (" + problem.message + "); reconnecting in " + std::to_string(delay.count())
         + " ms");
  retry_timer_.expires_after(delay);
  retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->phase_ != phase::waiting)
      return;
    self->connect();
  });
}

// --- helpers --------------------------------------------------------------------

void client::impl::call(const std::string& method, json params,
                        std::function<void(call_outcome)> done) {
  auto serial = ++call_serial_;
  call_timer_.expires_after(options_.call_timeout);
  call_timer_.async_wait([self = shared_from_this(), serial, method](boost::system::error_code ec) {
    if (ec || serial != self->call_serial_ || self->phase_ == phase::stopped)
      return;
    auto problem = make_problem(problem_kind::lost,
                                "no reply to " + method + " within "
                                    + std::to_string(self->options_.call_timeout.count()) + " s");
    if (self->phase_ == phase::connecting)
      return self->attempt_failed(problem);
    self->link_down(problem);
  });
  json frame = {{"method", method}, {"params", std::move(params)}};
  transport_->call(std::move(frame), [self = shared_from_this(), serial,
                                      done = std::move(done)](const call_outcome& outcome) {
    if (serial == self->call_serial_) {
      ++self->call_serial_;
      self->call_timer_.cancel();
    }
    done(std::move(outcome));
  });
}

void client::impl::status(const std::string& text) const {
  if (handlers_.on_status)
    handlers_.on_status(text);
}

} // namespace herald::client
