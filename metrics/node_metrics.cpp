#include "metrics/node_metrics.hpp"

#include <algorithm>
#include <chrono>
#include <string>

namespace herald {

namespace {

constexpr std::array<std::string_view, transport_count> transport_names{"longpoll", "sse", "ws",
                                                                        "stream"};
constexpr std::array<std::string_view, close_reason_count> close_reason_names{
    "client", "timeout", "error", "rejected", "server", "slow_consumer", "drain"};
constexpr std::array<std::string_view, path_class_count> path_class_names{
    "rpc", "listen", "sse", "stream", "ws", "publish", "health", "metrics", "static", "other"};

const prometheus::Histogram::BucketBoundaries& request_buckets() {
  // Long-polls wait up to 120 s, so the tail goes that far.
  static const prometheus::Histogram::BucketBoundaries buckets{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
      0.25,   0.5,     1,      2.5,   5,      10,    30,   60,    120};
  return buckets;
}

std::string label(std::string_view text) {
  return std::string{text};
}

} // namespace

std::string_view name_of(transport t) {
  return transport_names[static_cast<std::size_t>(t)];
}

std::string_view name_of(close_reason r) {
  return close_reason_names[static_cast<std::size_t>(r)];
}

std::string_view name_of(path_class p) {
  return path_class_names[static_cast<std::size_t>(p)];
}

path_class classify_path(std::string_view path) {
  if (path == "/v1/rpc")
    return path_class::rpc;
  if (path == "/v1/listen")
    return path_class::listen;
  if (path == "/v1/sse")
    return path_class::sse;
  if (path == "/v1/stream")
    return path_class::stream;
  if (path == "/v1/ws")
    return path_class::ws;
  if (path == "/v1/publish")
    return path_class::publish;
  if (path == "/healthz" || path == "/readyz")
    return path_class::health;
  if (path == "/metrics")
    return path_class::metrics;
  if (path == "/" || path == "/herald.js")
    return path_class::static_file;
  return path_class::other;
}

const std::vector<double>& latency_buckets() {
  static const std::vector<double> buckets{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                           0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                           1,      2.5,     5,      10};
  return buckets;
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void latency_batch::add(std::int64_t accepted_ns, std::int64_t now) {
  const auto& bounds = latency_buckets();
  if (buckets_.empty())
    buckets_.assign(bounds.size() + 1, 0.0);
  // A clock step between nodes can make this negative: count it as zero.
  double seconds = static_cast<double>(std::max<std::int64_t>(0, now - accepted_ns)) / 1e9;
  auto bucket = std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin();
  buckets_[static_cast<std::size_t>(bucket)] += 1;
  sum_ += seconds;
  ++count_;
}

void latency_batch::flush(transport t) {
  if (count_ == 0)
    return;
  metrics().delivery_latency[static_cast<std::size_t>(t)]->ObserveMultiple(buckets_, sum_);
  std::fill(buckets_.begin(), buckets_.end(), 0.0);
  sum_ = 0;
  count_ = 0;
}

node_metrics::node_metrics() {
  using namespace prometheus;
  auto& open = BuildGauge()
                   .Name("herald_connections_open")
                   .Help("Open client connections, by transport (plain HTTP counts as longpoll)")
                   .Register(registry);
  auto& closed = BuildCounter()
                     .Name("herald_connections_closed_total")
                     .Help("Client connections closed, by transport and reason")
                     .Register(registry);
  auto& delivered = BuildCounter()
                        .Name("herald_events_delivered_total")
                        .Help("Events handed to clients, by transport")
                        .Register(registry);
  auto& latency
      = BuildHistogram()
            .Name("herald_delivery_latency_seconds")
            .Help("From a publish accepted by its group to the event written to a client socket")
            .Register(registry);
  for (std::size_t t = 0; t < transport_count; ++t) {
    Labels by_transport{{"transport", label(transport_names[t])}};
    connections_open[t] = &open.Add(by_transport);
    events_delivered[t] = &delivered.Add(by_transport);
    delivery_latency[t] = &latency.Add(by_transport, latency_buckets());
    for (std::size_t r = 0; r < close_reason_count; ++r)
      connections_closed[t][r] = &closed.Add(
          {{"transport", label(transport_names[t])}, {"reason", label(close_reason_names[r])}});
  }
  connections_accepted = &BuildCounter()
                              .Name("herald_connections_accepted_total")
                              .Help("Client TCP connections accepted")
                              .Register(registry)
                              .Add({});
  write_buffer_bytes = &BuildGauge()
                            .Name("herald_write_buffer_bytes")
                            .Help("Bytes waiting in client connections' write buffers")
                            .Register(registry)
                            .Add({});
  sessions = &BuildGauge()
                  .Name("herald_sessions")
                  .Help("Sessions on this node")
                  .Register(registry)
                  .Add({});
  groups
      = &BuildGauge().Name("herald_groups").Help("Groups on this node").Register(registry).Add({});
  group_members = &BuildGauge()
                       .Name("herald_group_members")
                       .Help("Memberships (session in group) summed over all groups of this node")
                       .Register(registry)
                       .Add({});
  longpolls_pending = &BuildGauge()
                           .Name("herald_longpolls_pending")
                           .Help("Long-poll requests waiting for events")
                           .Register(registry)
                           .Add({});
  auto& published = BuildCounter()
                        .Name("herald_messages_published_total")
                        .Help("Messages published: sequenced by a group, or sent to a user")
                        .Register(registry);
  group_messages_published = &published.Add({{"kind", "group"}});
  direct_messages_published = &published.Add({{"kind", "direct"}});
  events_dropped = &BuildCounter()
                        .Name("herald_events_dropped_total")
                        .Help("Events dropped from full session queues (announced by overflow)")
                        .Register(registry)
                        .Add({});
  leases_expired = &BuildCounter()
                        .Name("herald_leases_expired_total")
                        .Help("Sessions ended because their lease passed")
                        .Register(registry)
                        .Add({});
  slow_consumers = &BuildCounter()
                        .Name("herald_slow_consumers_total")
                        .Help("Streams cut off because more than max-stream-buffer bytes waited")
                        .Register(registry)
                        .Add({});
  http_requests = &BuildCounter()
                       .Name("herald_http_requests_total")
                       .Help("HTTP requests answered, by path class and status")
                       .Register(registry);
  auto& duration = BuildHistogram()
                       .Name("herald_http_request_duration_seconds")
                       .Help("From a request read to its answer (long-polls include the wait)")
                       .Register(registry);
  for (std::size_t p = 0; p < path_class_count; ++p)
    request_duration[p] = &duration.Add({{"path", label(path_class_names[p])}}, request_buckets());
  sample_timeouts = &BuildCounter()
                         .Name("herald_metrics_sample_timeouts_total")
                         .Help("Actors that did not answer a scrape's depth sample in time")
                         .Register(registry)
                         .Add({});
  ready = &BuildGauge()
               .Name("herald_ready")
               .Help("1 while the node accepts new sessions, 0 while it drains")
               .Register(registry)
               .Add({});
  cluster_nodes = &BuildGauge()
                       .Name("herald_cluster_nodes")
                       .Help("Nodes this node sees, itself included")
                       .Register(registry)
                       .Add({});
  cluster_nodes->Set(1);
  cluster_peer_up = &BuildGauge()
                         .Name("herald_cluster_peer_up")
                         .Help("1 while the peer node is connected, 0 after it was lost")
                         .Register(registry);
  cluster_peer_changes = &BuildCounter()
                              .Name("herald_cluster_peer_changes_total")
                              .Help("Peers that joined, left (drained) or were lost")
                              .Register(registry);
}

void node_metrics::count_request(path_class path, unsigned status, double seconds) {
  auto p = static_cast<std::size_t>(path);
  if (status < 100 || status > 599)
    status = 500; // never produced; keeps the index in range
  auto& slot = http_request_counters[p][status - 100];
  auto* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    // Two threads may both get here: Add returns the same counter for the
    // same labels, so either store is right.
    counter = &http_requests->Add(
        {{"path", label(path_class_names[p])}, {"status", std::to_string(status)}});
    slot.store(counter, std::memory_order_release);
  }
  counter->Increment();
  request_duration[p]->Observe(seconds);
}

void node_metrics::connection_opened(transport t) {
  connections_accepted->Increment();
  connections_open[static_cast<std::size_t>(t)]->Increment();
}

void node_metrics::connection_moved(transport from, transport to) {
  connections_open[static_cast<std::size_t>(from)]->Decrement();
  connections_open[static_cast<std::size_t>(to)]->Increment();
}

void node_metrics::connection_closed(transport t, close_reason why) {
  connections_open[static_cast<std::size_t>(t)]->Decrement();
  connections_closed[static_cast<std::size_t>(t)][static_cast<std::size_t>(why)]->Increment();
}

node_metrics& metrics() {
  static node_metrics instance;
  return instance;
}

} // namespace herald
