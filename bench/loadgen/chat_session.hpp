#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <netinet/in.h>

#include "bench/loadgen/chat_layout.hpp"
#include "bench/loadgen/delivery_stats.hpp"
#include "bench/loadgen/histogram.hpp"
#include "bench/loadgen/options.hpp"

namespace herald::bench {

/// What every chat session of a process shares.
struct chat_context {
  chat_context(const options& o, delivery_stats& s, const std::vector<std::string>& names,
               std::string host, int epoll, const sockaddr_in& to)
      : opts(o), stats(s), channel_names(names), layout(o), host_header(std::move(host)),
        epoll_fd(epoll), address(to) {}

  const options& opts;
  delivery_stats& stats;
  const std::vector<std::string>& channel_names;
  chat_layout layout;
  std::string host_header;
  int epoll_fd = -1;
  sockaddr_in address{};
  uint32_t ready = 0;         // sessions that subscribed once
  uint32_t failed = 0;        // closed or refused before their first subscription
  uint32_t lost = 0;          // a resume failed: the session stops counting deliveries
  uint32_t handshaking = 0;   // first connects in flight (bounded by --connect-concurrency)
  uint64_t reconnects = 0;    // resumes completed
  uint64_t server_closes = 0; // the server closed a streaming socket (then it resumes too)
  histogram reconnect_ns;     // from closing the old socket to the resumed subscription
  std::string first_error;
};

/// One chat-mix subscriber (--chat): a client of two channels, its room and its user channel,
/// over one WebSocket at a time. Churn closes the socket and opens a new one that resumes
/// where the old one stopped, so every message still arrives exactly once:
///
///   herald: GET /v1/ws (herald.v1) → enter{user, groups:[room]} → reply {session} → events
///           resume: GET /v1/ws → attach{session, cursor: last eid seen} → reply → events
///   nchan:  GET /chat?user=U&room=R (ws+meta.nchan: every frame carries its message id)
///           resume: the same with last_event_id=<last message id seen>
///
/// One seq tracker per channel keeps loss exact across resumes.
class chat_session {
public:
  chat_session(chat_context& context, uint32_t index);
  ~chat_session();
  chat_session(const chat_session&) = delete;
  chat_session& operator=(const chat_session&) = delete;

  /// Opens the first connection.
  void open();
  /// True while subscribed (not connecting, resuming or lost).
  bool can_churn() const { return state_ == state::streaming; }
  /// Closes the socket and resumes on a new one.
  void churn();

  bool is_ready() const { return ever_ready_; }
  bool is_lost() const { return state_ == state::lost; }
  uint32_t room_channel() const { return room_channel_; }
  uint32_t user_channel() const { return user_channel_; }
  const seq_tracker& room() const { return room_; }
  const seq_tracker& user() const { return user_; }

private:
  class link;
  friend class link;
  enum class state { connecting, resuming, streaming, lost };

  void connect();
  // From the current link:
  void on_upgraded();
  void on_text(std::string_view text);
  void on_link_closed(std::string_view why);

  void on_herald_text(std::string_view text);
  void on_nchan_text(std::string_view text);
  void record_payload(std::string_view text);
  void subscribed();
  void fail(std::string_view why);
  void give_up();
  std::string upgrade_request() const;

  chat_context& context_;
  uint32_t index_;
  uint32_t room_channel_;
  uint32_t user_channel_;
  state state_ = state::connecting;
  bool ever_ready_ = false;
  seq_tracker room_;
  seq_tracker user_;
  std::string session_;       // herald session id
  uint64_t last_eid_ = 0;     // herald: the resume cursor
  std::string last_id_;       // nchan: the last message id (multiplexed form)
  int64_t churned_at_ns_ = 0; // when the old socket was closed
  std::unique_ptr<link> link_;
  // The link closed before the current one: an epoll batch already fetched may still name it,
  // so it lives until the next churn.
  std::unique_ptr<link> retired_;
};

} // namespace herald::bench
