#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace herald {

/// A group named in the configuration file. Undeclared groups take their
/// `notify` and `history` from the node-wide settings.
struct declared_group {
  std::string name;
  std::uint64_t bit = 0; ///< 0 when the group has no bit; else a power of two.
  std::string title;
  bool notify = true;
  std::size_t history = 100;
};

enum class log_level { debug, info, warn, error };

/// Every setting of a node, with its default. Each field is named after the
/// flag that sets it (`queue_max` <- `--queue-max`, `HERALD_QUEUE_MAX`, and
/// `"queue-max"` in the config file). The contract fixes the first block; the
/// second block holds the limits the contract leaves to us.
struct settings {
  // --- fixed by the contract -------------------------------------------------
  std::string listen = "0.0.0.0:8080";
  std::string node; ///< defaults to a sanitized host name
  std::string cluster_listen;
  std::vector<std::string> peers;
  std::string peers_dns;
  std::string config;                     ///< path of the JSON config file, if any
  std::vector<std::string> allow_origin;  ///< empty = same origin only
  std::vector<std::string> public_origin; ///< our own origins; empty = trust Host (same origin)
  std::string api_key;
  bool jsonp = false;
  log_level log = log_level::info; ///< `--log-level`
  std::chrono::seconds lease{100};
  std::chrono::seconds max_lease{3600};
  std::size_t queue_max = 1000;
  std::size_t history = 100;
  bool notify_presence = true;
  std::size_t notify_presence_max = 1000;
  bool allow_undeclared_groups = true; ///< `--undeclared-groups allow|refuse`
  std::size_t max_body = 1024 * 1024;
  std::size_t max_data = 64 * 1024;
  std::chrono::seconds heartbeat{15};
  std::chrono::seconds listen_timeout{30};
  std::chrono::seconds drain_timeout{10};
  std::vector<declared_group> groups;
  std::size_t group_replicas = 2; ///< nodes holding each group's seq, epoch and history
  std::string jwt_hs256_secret;   ///< HS256 tokens are verified with it; authentication on
  std::string jwt_public_key;     ///< PEM file: RSA (RS256) or EC P-256 (ES256); authentication on
  std::string jwt_audience;       ///< tokens must name it in `aud`
  std::string jwt_issuer;         ///< tokens must carry it as `iss`
  std::string tls_cert;           ///< PEM certificate chain: --listen serves HTTPS and WSS only
  std::string tls_key;            ///< PEM private key of tls_cert
  std::size_t rate_limit = 200;   ///< commands per second per connection (bursts of 2N); 0 = off
  std::size_t max_sessions_per_user = 16; ///< per node; 0 = no limit

  // --- cluster settings the contract leaves open -------------------------------
  std::size_t cluster_size = 0;                 ///< expected nodes for a majority; 0 = largest view
  std::chrono::seconds peer_heartbeat{1};       ///< BASP heartbeat between nodes
  std::chrono::seconds peer_timeout{3};         ///< a silent peer is dropped after this
  std::chrono::seconds peer_connect_timeout{2}; ///< one attempt to reach a seed
  std::chrono::seconds peers_dns_interval{3};   ///< --peers-dns is resolved again this often
  std::string cluster_secret;                   ///< nodes must share it to join

  // --- limits the contract leaves open ----------------------------------------
  std::chrono::seconds max_listen_timeout{120}; ///< upper bound of `timeout`
  std::size_t max_batch = 100;                  ///< commands in one batch request
  std::size_t listen_batch = 1000;              ///< events in one listen reply
  std::size_t max_groups_per_session = 256;
  std::size_t max_sessions = 100000;           ///< per node
  std::size_t max_groups = 100000;             ///< per node
  std::size_t max_connections = 19000;         ///< open TCP connections per node
  std::size_t max_connections_per_address = 0; ///< per client address; 0 = no limit
  std::size_t max_sessions_per_address = 0;    ///< per client address, per node; 0 = none
  std::vector<std::string> trusted_proxies;    ///< whose X-Forwarded-For names the client
  std::size_t probe_connections = 8; ///< beyond max-connections, kept for /healthz and /readyz
  std::size_t max_header = 8 * 1024; ///< request line + headers
  std::size_t max_requests_per_connection = 100000; ///< keep-alive reuse
  std::size_t publish_batch = 64; ///< pipelined publishes performed by one request actor
  std::chrono::seconds keepalive_timeout{60};     ///< idle keep-alive connection
  std::chrono::seconds request_timeout{30};       ///< to receive one whole request
  std::chrono::seconds group_idle_timeout{300};   ///< empty undeclared group lives on
  std::chrono::seconds idempotency_window{600};   ///< a publish's Idempotency-Key is kept this long
  std::size_t idempotency_keys = 10000;           ///< ...and at most this many per group
  std::chrono::seconds stream_max_age{300};       ///< a forever-frame is recycled after this
  std::size_t max_stream_buffer = 256 * 1024;     ///< bytes waiting per stream; beyond: cut off
  std::size_t sse_retry_ms = 2000;                ///< the SSE `retry:` field
  std::size_t ws_max_frame = 64 * 1024;           ///< largest WebSocket message; beyond: close 1009
  std::size_t ws_max_fragments = 1024;            ///< frames of one WebSocket message; beyond: 1009
  bool ws_deflate = false;                        ///< offer permessage-deflate
  std::size_t ws_max_inflated = 256 * 1024;       ///< largest message after inflating
  std::chrono::seconds metrics_sample_timeout{2}; ///< a scrape waits this long for depths
  std::string web_root; ///< serve / and /herald.js from here, not the built-in copies
  unsigned io_threads = 2;
  unsigned actor_threads = 2;

  /// Returns true when a JWT key is configured: enter then needs a token.
  bool authentication_on() const { return !jwt_hs256_secret.empty() || !jwt_public_key.empty(); }

  /// Returns the declared group of that name, or nullptr.
  const declared_group* find_declared(const std::string& name) const;

  /// Returns the declared group carrying that bit, or nullptr.
  const declared_group* find_declared_bit(std::uint64_t bit) const;
};

/// Returns an empty string when `s` is consistent, else a message naming the
/// first bad setting (e.g. "queue-max must be at least 2").
std::string validate(const settings& s);

} // namespace herald
