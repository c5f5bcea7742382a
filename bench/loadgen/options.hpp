#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace herald::bench {

enum class server_dialect { herald, nchan, centrifugo };
enum class sub_transport { ws, sse, longpoll };
enum class run_role { both, sub, pub };

/// Every setting of one load generator process (`herald-loadgen --help` describes them).
struct options {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  server_dialect dialect = server_dialect::herald;
  sub_transport transport = sub_transport::ws;
  run_role role = run_role::both;
  uint32_t subscribers = 1;
  uint32_t first_index = 0; // global index of this process's first subscriber
  uint32_t channels = 1;
  std::string channel_prefix = "bench";
  std::string user_prefix = "u";
  double rate = 1000; // messages/s over all channels; 0 = flat out
  double duration_s = 5;
  double warmup_s = 0;
  double drain_s = 5;       // stall: no delivery for this long ends the drain
  double drain_max_s = 120; // the drain ends after this at the latest
  double setup_timeout_s = 30;
  bool idle = false; // subscribe, hold for the duration, publish nothing
  uint32_t pub_connections = 1;
  uint32_t pipeline = 1;
  bool spread = false; // every message on whichever publisher connection is free
  uint32_t connect_concurrency = 256;
  uint32_t expect_subscribers = 0; // nchan: wait until /nchan_status counts this many
  uint32_t proc = 0;               // label only
  std::string api_key;
  std::string final_file; // pub writes the per-channel last seq here; sub reads it
  std::string last_out;   // per-message last-subscriber latencies ("chan seq max_ns count")
  // Chat mix (scenario 6): on when chat_room_size > 0. Session i is user <user-prefix>-<i>
  // and a member of room <channel-prefix>-<i / chat_room_size>; --rate is the room rate.
  uint32_t chat_room_size = 0;
  uint32_t chat_sessions = 0; // sessions over every process (sizes rooms and user channels)
  double user_rate = 0;       // direct messages/s over all users, round-robin
  double churn_rate = 0;      // reconnects/s over all sessions; each process does its share
};

/// Parses the command line. Returns nullopt and sets `error` on a bad flag; sets `help` (and
/// returns nullopt) for --help.
std::optional<options> parse_options(int argc, char** argv, std::string& error, bool& help);

/// The usage text.
const char* usage_text();

const char* to_string(server_dialect dialect);
const char* to_string(sub_transport transport);
const char* to_string(run_role role);

} // namespace herald::bench
