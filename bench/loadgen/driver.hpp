#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <netinet/in.h>

#include "bench/loadgen/chat_churn.hpp"
#include "bench/loadgen/chat_session.hpp"
#include "bench/loadgen/delivery_stats.hpp"
#include "bench/loadgen/options.hpp"
#include "bench/loadgen/publisher.hpp"
#include "bench/loadgen/subscriber.hpp"

namespace herald::bench {

/// Runs one load generator process through its phases on a single-threaded epoll loop:
///
///   setup ──(ready line on stderr)──► publish ──► drain ──► report (one JSON line on stdout)
///     │                                  ▲
///     └── role sub: wait for --final-file ┘ (written by the role pub process)
///
/// A chat mix (--chat) has chat sessions instead of subscribers, publishes rooms and users at
/// their own rates, and churns sessions while publishing (role sub: from the moment the pub
/// process writes <final-file>.start until the final file appears).
class driver {
public:
  driver(const options& opts, const sockaddr_in& address);
  ~driver();

  /// Runs every phase of the role; returns the process exit code (0 when the run completed,
  /// whatever it measured; 2 when it could not run).
  int run();

private:
  void poll(int timeout_ms);
  bool setup_subscribers();
  bool setup_chat_sessions();
  void start_churn();
  bool connect_publishers();
  bool wait_for_nchan_subscribers();
  void publish_phase();
  void pump_publishers(int64_t now);
  publisher* sender_for(uint32_t channel);
  void publish_due(double rate, uint64_t& sent, uint32_t first, uint32_t count, bool warmup,
                   int64_t now);
  bool write_final_file() const;
  bool read_final_file();
  bool wait_for_final_file();
  void drain();
  bool all_delivered() const;
  void hold_idle();
  void report() const;
  std::string chat_json() const;
  bool chat() const { return opts_.chat_room_size > 0; }

  const options& opts_;
  sockaddr_in address_;
  int epoll_fd_ = -1;
  delivery_stats stats_;
  std::vector<std::string> channel_names_;
  subscriber_context sub_context_;
  publisher_context pub_context_;
  chat_context chat_context_;
  std::vector<std::unique_ptr<chat_session>> sessions_;
  chat_churn churn_;
  uint64_t room_sent_ = 0; // chat: room messages sent
  uint64_t user_sent_ = 0; // chat: direct messages sent
  std::vector<std::unique_ptr<subscriber>> subscribers_;
  std::vector<std::unique_ptr<publisher>> publishers_;
  std::vector<uint64_t> next_seq_;  // per channel, what the publisher sends next
  std::vector<uint64_t> final_seq_; // per channel, the last one published
  std::vector<uint32_t> publisher_channel_cursor_;
  uint32_t spread_cursor_ = 0;
  int64_t setup_start_ = 0;
  int64_t setup_end_ = 0;
  int64_t publish_start_ = 0;
  int64_t publish_end_ = 0;
  uint64_t sent_ = 0;
  uint64_t max_backlog_ = 0;
  bool final_known_ = false;
  bool drained_ = false;
  std::string error_;
};

} // namespace herald::bench
