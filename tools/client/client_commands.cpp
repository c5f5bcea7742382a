// herald::client::client, part two: the command queue and stopping. Part one
// (client.cpp) connects, resumes and reads the stream.

#include <boost/asio/post.hpp>

#include "tools/client/client_impl.hpp"

namespace herald::client {

namespace net = boost::asio;

namespace {

json local_error(const char* code, const std::string& message) {
  return json{{"error", {{"code", code}, {"message", message}}}};
}

} // namespace

void client::impl::submit(std::string method, json params, reply_handler on_reply) {
  auto refuse = [&](const char* code, const std::string& message) {
    net::post(executor_, [self = shared_from_this(), on_reply = std::move(on_reply),
                          reply = local_error(code, message)] {
      if (self->phase_ != phase::stopped && on_reply)
        on_reply(reply);
    });
  };
  if (stopping_ || phase_ == phase::stopped)
    return refuse("not_sent", "the client is stopping");
  if (queue_.size() >= options_.max_queued_commands)
    return refuse("queue_full",
                  std::to_string(queue_.size()) + " commands are already waiting for a connection");
  if (!params.is_object())
    params = json::object();
  queue_.push_back(queued_command{std::move(method), std::move(params), std::move(on_reply)});
  pump();
}

void client::impl::pump() {
  if (phase_ != phase::connected || in_flight_)
    return;
  if (queue_.empty()) {
    if (stopping_ && !exiting_ && echoes_arrived())
      send_exit();
    return;
  }
  in_flight_ = true;
  auto& command = queue_.front();
  auto params = command.params;
  // After a session loss the command goes to the new session.
  params["session"] = state_.session();
  call(command.method, std::move(params), [self = shared_from_this()](const call_outcome& outcome) {
    self->on_command_reply(outcome);
  });
}

void client::impl::on_command_reply(const call_outcome& outcome) {
  if (phase_ == phase::stopped)
    return;
  if (outcome.problem)
    return link_down(*outcome.problem); // the command stays queued
  auto reply = *outcome.reply;
  if (auto error = reply.find("error"); error != reply.end()) {
    auto problem = problem_from_error(*error);
    // Not this command's fault: enter again, then send it to the new session.
    if (problem.kind == problem_kind::unknown_session)
      return link_down(problem);
  }
  in_flight_ = false;
  auto command = std::move(queue_.front());
  queue_.pop_front();
  reply.erase("id");
  if (auto result = reply.find("result"); result != reply.end()) {
    if (command.method == "join")
      state_.joined(*result);
    else if (command.method == "speak")
      note_echo_due(*result);
    else if (command.method == "leave")
      state_.left(command.params.value("group", ""));
  }
  if (command.on_reply)
    command.on_reply(reply);
  if (phase_ != phase::stopped)
    pump();
}

void client::impl::stop() {
  if (stopping_ || phase_ == phase::stopped)
    return;
  stopping_ = true;
  stop_timer_.expires_after(options_.stop_timeout);
  stop_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec)
      self->finish(stop_reason::requested, "stopped before everything was sent");
  });
  if (phase_ == phase::connected)
    return pump();
  if (phase_ == phase::waiting && queue_.empty())
    finish(stop_reason::requested, "stopped while disconnected");
  // Otherwise a connection attempt is under way: the queue goes out when it
  // succeeds, or the stop timer ends the wait.
}

void client::impl::note_echo_due(const json& speak_result) {
  auto groups = speak_result.find("groups");
  if (groups == speak_result.end() || !groups->is_object())
    return;
  for (const auto& [group, value] : groups->items()) {
    auto seq
        = value.is_object() && value.contains("seq") ? read_unsigned(value["seq"]) : std::nullopt;
    // Only members receive their own message back.
    if (seq && state_.groups().count(group) > 0)
      echo_due_[group] = std::max(echo_due_[group], *seq);
  }
}

bool client::impl::echoes_arrived() const {
  for (const auto& [group, seq] : echo_due_) {
    auto position = state_.groups().find(group);
    if (position != state_.groups().end() && position->second.seq < seq)
      return false;
  }
  return true;
}

void client::impl::send_exit() {
  exiting_ = true;
  call("exit", json{{"session", state_.session()}},
       [self = shared_from_this()](const call_outcome&) {
         self->finish(stop_reason::requested, "stopped");
       });
}

void client::impl::finish(stop_reason reason, const std::string& message) {
  if (phase_ == phase::stopped)
    return;
  phase_ = phase::stopped;
  retry_timer_.cancel();
  call_timer_.cancel();
  stop_timer_.cancel();
  if (transport_)
    transport_->close();
  transport_.reset();
  auto unsent = std::move(queue_);
  queue_.clear();
  for (auto& command : unsent)
    if (command.on_reply)
      command.on_reply(local_error("not_sent", "the client stopped before sending this command"));
  if (handlers_.on_stopped)
    handlers_.on_stopped(stop_report{reason, message, unsent.size()});
}

void client::impl::shut_down() {
  handlers_ = client_handlers{};
  for (auto& command : queue_)
    command.on_reply = nullptr;
  finish(stop_reason::requested, "the client was destroyed");
}

} // namespace herald::client
