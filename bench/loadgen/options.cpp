#include "bench/loadgen/options.hpp"

#include <charconv>
#include <cstring>
#include <string_view>

namespace herald::bench {

namespace {

template <class T>
bool parse_number(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

// "http://127.0.0.1:8080" or "127.0.0.1:8080"; IPv4 literals only (loopback benchmarks).
bool parse_url(std::string_view url, options& opts) {
  if (url.substr(0, 7) == "http://")
    url.remove_prefix(7);
  if (auto slash = url.find('/'); slash != std::string_view::npos)
    url = url.substr(0, slash);
  const auto colon = url.rfind(':');
  if (colon == std::string_view::npos)
    return false;
  opts.host = std::string(url.substr(0, colon));
  return parse_number(url.substr(colon + 1), opts.port) && !opts.host.empty();
}

} // namespace

const char* usage_text() {
  return R"(usage: herald-loadgen [flags]

Subscribes N clients to Herald, nginx+nchan or Centrifugo, publishes 100-byte timestamped messages, and
prints one JSON line of results (deliveries, loss, latency percentiles, last-subscriber time).

  --url http://HOST:PORT      server (IPv4) [http://127.0.0.1:8080]
  --dialect herald|nchan|centrifugo
                              URL shapes and frames of the server [herald]; centrifugo:
                              WebSocket JSON protocol only (connect, subscribe), publishing
                              with its HTTP API (POST /api/publish, X-API-Key: --api-key)
  --transport ws|sse|longpoll subscriber transport [ws]
  --role both|sub|pub         subscribe and publish in this process, or only one side [both]
  --subscribers N             subscribers in this process [1]
  --first-index N             global index of the first one (names, channel spread) [0]
  --channels K                channels; subscriber i listens to channel i % K [1]
  --channel-prefix P          channel names are P-<k> [bench]
  --user-prefix P             Herald user names are P-<i> [u]
  --rate R                    messages/s over all channels; 0 = flat out [1000]
  --duration S                seconds of publishing (after warm-up) [5]
  --warmup S                  seconds of publishing left out of latency figures [0]
  --drain S                   after publishing, wait for the last deliveries until S seconds pass
                              without any delivery (a stall), or --drain-max [5]
  --drain-max S               the longest wait for the last deliveries [120]
  --setup-timeout S           seconds for every subscriber to be ready [30]
  --idle                      publish nothing: subscribe, hold for --duration, report
  --pub-connections P         publisher connections; channel k goes over connection k % P [1]
  --pipeline D                requests in flight per publisher connection [1]
  --spread                    every message goes over whichever publisher connection can send
                              (one channel over all P, as a backend with a connection pool
                              publishes); subscribers then see a channel's seqs reordered
                              within the requests in flight, which loss counting allows
  --connect-concurrency C     subscriber handshakes in flight at once [256]
  --expect-subscribers N      nchan: before publishing, wait until /nchan_status counts N
  --final-file PATH           pub: write the last seq of every channel; sub: wait for it
  --last-out PATH             write "channel seq max_latency_ns receivers" per message
  --api-key KEY               Herald publish bearer key; Centrifugo HTTP API key
  --proc N                    process label in the JSON output [0]

Chat mix (BENCHMARKS.md scenario 6; WebSocket only):
  --chat ROOM_SIZE            session i is user <user-prefix>-<i>, in its own user channel and
                              in room <channel-prefix>-<i / ROOM_SIZE>; --rate is then room
                              messages/s over all rooms, round-robin (0 = none)
  --chat-sessions N           sessions over every process (sizes rooms and users; --channels
                              becomes rooms + sessions) [--first-index + --subscribers]
  --user-rate R               direct messages/s over all users, round-robin [0]
  --churn-rate R              reconnects/s over all sessions while publishing; this process
                              does its share, round-robin over its sessions. A reconnect
                              closes the socket and resumes: herald `attach` with the last eid,
                              nchan `last_event_id` with the last message id (ws+meta.nchan) [0]
  Herald: enter {user, groups:[room]}; publish {"group":room,...} and {"user":u,...}.
  nchan: GET /chat?user=U&room=ROOM (bench/nchan.conf multiplexes both); publish /pub?id=.

Latencies are CLOCK_MONOTONIC differences: publisher and subscribers must share one host.
)";
}

const char* to_string(server_dialect dialect) {
  switch (dialect) {
    case server_dialect::herald: return "herald";
    case server_dialect::nchan: return "nchan";
    case server_dialect::centrifugo: return "centrifugo";
  }
  return "?";
}

const char* to_string(sub_transport transport) {
  switch (transport) {
    case sub_transport::ws: return "ws";
    case sub_transport::sse: return "sse";
    case sub_transport::longpoll: return "longpoll";
  }
  return "?";
}

const char* to_string(run_role role) {
  switch (role) {
    case run_role::both: return "both";
    case run_role::sub: return "sub";
    case run_role::pub: return "pub";
  }
  return "?";
}

std::optional<options> parse_options(int argc, char** argv, std::string& error, bool& help) {
  options opts;
  help = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      help = true;
      return std::nullopt;
    }
    if (flag == "--idle" || flag == "--spread") {
      (flag == "--idle" ? opts.idle : opts.spread) = true;
      continue;
    }
    if (i + 1 >= argc) {
      error = "missing value for " + std::string(flag);
      return std::nullopt;
    }
    const std::string_view value = argv[++i];
    bool ok = true;
    if (flag == "--url") {
      ok = parse_url(value, opts);
    } else if (flag == "--dialect") {
      ok = value == "herald" || value == "nchan" || value == "centrifugo";
      opts.dialect = value == "nchan"        ? server_dialect::nchan
                     : value == "centrifugo" ? server_dialect::centrifugo
                                             : server_dialect::herald;
    } else if (flag == "--transport") {
      ok = value == "ws" || value == "sse" || value == "longpoll";
      opts.transport = value == "sse"        ? sub_transport::sse
                       : value == "longpoll" ? sub_transport::longpoll
                                             : sub_transport::ws;
    } else if (flag == "--role") {
      ok = value == "both" || value == "sub" || value == "pub";
      opts.role = value == "sub" ? run_role::sub : value == "pub" ? run_role::pub : run_role::both;
    } else if (flag == "--subscribers") {
      ok = parse_number(value, opts.subscribers);
    } else if (flag == "--first-index") {
      ok = parse_number(value, opts.first_index);
    } else if (flag == "--channels") {
      ok = parse_number(value, opts.channels) && opts.channels > 0;
    } else if (flag == "--channel-prefix") {
      opts.channel_prefix = value;
    } else if (flag == "--user-prefix") {
      opts.user_prefix = value;
    } else if (flag == "--rate") {
      ok = parse_number(value, opts.rate) && opts.rate >= 0;
    } else if (flag == "--duration") {
      ok = parse_number(value, opts.duration_s) && opts.duration_s >= 0;
    } else if (flag == "--warmup") {
      ok = parse_number(value, opts.warmup_s) && opts.warmup_s >= 0;
    } else if (flag == "--drain") {
      ok = parse_number(value, opts.drain_s) && opts.drain_s >= 0;
    } else if (flag == "--drain-max") {
      ok = parse_number(value, opts.drain_max_s) && opts.drain_max_s >= 0;
    } else if (flag == "--setup-timeout") {
      ok = parse_number(value, opts.setup_timeout_s) && opts.setup_timeout_s > 0;
    } else if (flag == "--pub-connections") {
      ok = parse_number(value, opts.pub_connections) && opts.pub_connections > 0;
    } else if (flag == "--pipeline") {
      ok = parse_number(value, opts.pipeline) && opts.pipeline > 0;
    } else if (flag == "--connect-concurrency") {
      ok = parse_number(value, opts.connect_concurrency) && opts.connect_concurrency > 0;
    } else if (flag == "--expect-subscribers") {
      ok = parse_number(value, opts.expect_subscribers);
    } else if (flag == "--final-file") {
      opts.final_file = value;
    } else if (flag == "--last-out") {
      opts.last_out = value;
    } else if (flag == "--api-key") {
      opts.api_key = value;
    } else if (flag == "--chat") {
      ok = parse_number(value, opts.chat_room_size) && opts.chat_room_size > 0;
    } else if (flag == "--chat-sessions") {
      ok = parse_number(value, opts.chat_sessions) && opts.chat_sessions > 0;
    } else if (flag == "--user-rate") {
      ok = parse_number(value, opts.user_rate) && opts.user_rate >= 0;
    } else if (flag == "--churn-rate") {
      ok = parse_number(value, opts.churn_rate) && opts.churn_rate >= 0;
    } else if (flag == "--proc") {
      ok = parse_number(value, opts.proc);
    } else {
      error = "unknown flag " + std::string(flag);
      return std::nullopt;
    }
    if (!ok) {
      error = "bad value for " + std::string(flag) + ": " + std::string(value);
      return std::nullopt;
    }
  }
  if (opts.chat_room_size > 0) {
    if (opts.chat_sessions == 0)
      opts.chat_sessions = opts.first_index + opts.subscribers;
    if (opts.transport != sub_transport::ws || opts.idle) {
      error = "--chat runs over --transport ws and publishes (no --idle)";
      return std::nullopt;
    }
    if (opts.first_index + opts.subscribers > opts.chat_sessions) {
      error = "--chat-sessions is smaller than --first-index + --subscribers";
      return std::nullopt;
    }
    // One seq space for rooms and users: chat_layout numbers them.
    const uint32_t rooms = (opts.chat_sessions + opts.chat_room_size - 1) / opts.chat_room_size;
    opts.channels = rooms + opts.chat_sessions;
  }
  if (opts.dialect == server_dialect::centrifugo
      && (opts.transport != sub_transport::ws || opts.chat_room_size > 0)) {
    error = "--dialect centrifugo subscribes over --transport ws only, without --chat";
    return std::nullopt;
  }
  if (opts.role == run_role::sub && opts.final_file.empty() && !opts.idle) {
    error = "--role sub needs --final-file (or --idle)";
    return std::nullopt;
  }
  return opts;
}

} // namespace herald::bench
