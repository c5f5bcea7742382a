#pragma once

// Herald's metrics: one Prometheus registry per process, because a process is
// one node. The counters and up/down gauges here are bumped where things
// happen (atomics, no locks); queue and mailbox depths are sampled only when
// /metrics is scraped (see metrics/exposition.hpp).

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace herald {

/// How a connection carries events. A plain HTTP connection (commands,
/// long-polls, publishes) counts as `longpoll` until it turns into a stream.
enum class transport : std::size_t { longpoll, sse, ws, stream };
inline constexpr std::size_t transport_count = 4;
std::string_view name_of(transport t);

/// Why a connection closed.
enum class close_reason : std::size_t {
  client,        ///< the peer closed or reset it
  timeout,       ///< idle keep-alive, or a request that never completed
  error,         ///< a network error, or a protocol violation by the peer
  rejected,      ///< beyond max-connections
  server,        ///< the server ended it: Connection: close, max age, session ended, superseded
  slow_consumer, ///< more than max-stream-buffer bytes waiting
  drain,         ///< SIGTERM
};
inline constexpr std::size_t close_reason_count = 7;
std::string_view name_of(close_reason r);

/// The path classes of herald_http_requests_total.
enum class path_class : std::size_t {
  rpc,
  listen,
  sse,
  stream,
  ws,
  publish,
  health,
  metrics,
  static_file,
  other
};
inline constexpr std::size_t path_class_count = 10;
std::string_view name_of(path_class p);
path_class classify_path(std::string_view path);

/// Upper bounds of herald_delivery_latency_seconds: 100 µs to 10 s.
const std::vector<double>& latency_buckets();

/// Adds up the latencies of one written batch, so the histogram's lock is
/// taken once per batch instead of once per event.
class latency_batch {
public:
  /// `accepted_ns`: system-clock nanoseconds when the publish was accepted.
  void add(std::int64_t accepted_ns, std::int64_t now_ns);
  /// Adds the batch to the histogram of `t` and clears it.
  void flush(transport t);
  bool empty() const { return count_ == 0; }

private:
  std::vector<double> buckets_;
  double sum_ = 0;
  std::size_t count_ = 0;
};

/// System-clock nanoseconds since the epoch: comparable between nodes, unlike
/// steady_clock, so a latency can start on one node and end on another.
std::int64_t now_ns();

struct node_metrics {
  node_metrics();
  node_metrics(const node_metrics&) = delete;
  node_metrics& operator=(const node_metrics&) = delete;

  prometheus::Registry registry;

  // Connections.
  std::array<prometheus::Gauge*, transport_count> connections_open{};
  prometheus::Counter* connections_accepted = nullptr;
  std::array<std::array<prometheus::Counter*, close_reason_count>, transport_count>
      connections_closed{};
  prometheus::Gauge* write_buffer_bytes = nullptr;

  // Sessions and groups (exact: updated where they change).
  prometheus::Gauge* sessions = nullptr;
  prometheus::Gauge* groups = nullptr;
  prometheus::Gauge* group_members = nullptr;
  prometheus::Gauge* longpolls_pending = nullptr;

  // Traffic.
  prometheus::Counter* group_messages_published = nullptr;
  prometheus::Counter* direct_messages_published = nullptr;
  std::array<prometheus::Counter*, transport_count> events_delivered{};
  prometheus::Counter* events_dropped = nullptr;
  prometheus::Counter* leases_expired = nullptr;
  prometheus::Counter* slow_consumers = nullptr;
  std::array<prometheus::Histogram*, transport_count> delivery_latency{};

  // HTTP.
  prometheus::Family<prometheus::Counter>* http_requests = nullptr;
  // The counter of each (path class, status 100-599), made on first use: the
  // family's Add takes a lock and builds a label map, too much per request.
  std::array<std::array<std::atomic<prometheus::Counter*>, 500>, path_class_count>
      http_request_counters{};
  std::array<prometheus::Histogram*, path_class_count> request_duration{};

  // Sampling itself.
  prometheus::Counter* sample_timeouts = nullptr;
  prometheus::Gauge* ready = nullptr;

  // Cluster (cluster/membership.cpp).
  prometheus::Gauge* cluster_nodes = nullptr;
  prometheus::Family<prometheus::Gauge>* cluster_peer_up = nullptr;
  prometheus::Family<prometheus::Counter>* cluster_peer_changes = nullptr;

  /// Counts one answered HTTP request (status 101 for a WebSocket upgrade,
  /// 200 for an SSE or forever-frame stream that started).
  void count_request(path_class path, unsigned status, double seconds);

  void connection_opened(transport t);
  void connection_moved(transport from, transport to);
  void connection_closed(transport t, close_reason why);
};

/// The process's metrics (created on first use, lives until exit).
node_metrics& metrics();

} // namespace herald
