#pragma once

// The client's machinery, shared by client.cpp (connecting, resuming, the
// stream) and client_commands.cpp (the command queue and stopping).
//
//              start()
//                 |
//                 v
//   +------> connecting --(open, enter?, rejoin*, start_stream)--> connected
//   |             |                                                   |
//   |   first attempt fails:                              stream ends, command
//   |   stop (unreachable/refused)                        fails or times out
//   |             |                                                   |
//   +-- waiting <-+----------------(lost, reconnect, unknown_session)-+
//   (backoff)                      superseded, failed, refused: stopped
//
// stop(): drain the queue while connected, wait for the echo of our own
// messages, `exit`, stopped.

#include <deque>
#include <map>

#include <boost/asio/steady_timer.hpp>

#include "tools/client/client.hpp"

namespace herald::client {

class client::impl : public std::enable_shared_from_this<client::impl> {
public:
  impl(boost::asio::any_io_executor executor, client_options options, client_handlers handlers);

  void start() { connect(); }
  void submit(std::string method, json params, reply_handler on_reply);
  void stop();
  void shut_down(); // the owner is going away: silence, no handler runs again

  bool connected() const { return phase_ == phase::connected; }
  const resume_state& state() const { return state_; }

private:
  enum class phase { connecting, connected, waiting, stopped };

  struct queued_command {
    std::string method;
    json params;
    reply_handler on_reply;
  };

  // client.cpp: connecting and the stream.
  void connect();
  void on_open(const std::optional<link_problem>& problem);
  void enter();
  void on_enter(const call_outcome& outcome);
  void rejoin_next();
  void on_rejoin(const std::string& group, const group_position& since,
                 const call_outcome& outcome);
  void open_stream();
  void on_stream_started();
  void on_frame(const json& frame);
  void attempt_failed(const link_problem& problem);
  void link_down(const link_problem& problem);
  void schedule_reconnect(const link_problem& problem);
  void call(const std::string& method, json params, std::function<void(call_outcome)> done);
  void status(const std::string& text) const;

  // client_commands.cpp: the queue and stopping.
  void pump();
  void on_command_reply(const call_outcome& outcome);
  void note_echo_due(const json& speak_result);
  bool echoes_arrived() const;
  void send_exit();
  void finish(stop_reason reason, const std::string& message);

  boost::asio::any_io_executor executor_;
  client_options options_;
  client_handlers handlers_;
  resume_state state_;
  backoff backoff_;
  std::shared_ptr<transport> transport_;
  phase phase_ = phase::connecting;

  bool ever_connected_ = false;             // a first attempt that fails ends the client
  bool session_lost_ = false;               // enter again before anything else
  std::deque<std::string> pending_rejoins_; // groups still to rejoin after a loss
  std::optional<std::chrono::steady_clock::time_point> disconnected_since_;

  std::deque<queued_command> queue_;
  bool in_flight_ = false; // queue_.front() was sent and awaits its reply
  bool stopping_ = false;
  bool exiting_ = false; // `exit` was sent: the session's end is expected
  // The seq of our last message to each joined group: stop() waits (bounded)
  // for it to come back, so that a script that speaks and quits sees its words.
  std::map<std::string, std::uint64_t> echo_due_;

  boost::asio::steady_timer retry_timer_;
  boost::asio::steady_timer call_timer_;
  std::uint64_t call_serial_ = 0; // a timer that fires after its reply is stale
  boost::asio::steady_timer stop_timer_;
};

} // namespace herald::client
