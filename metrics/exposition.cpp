#include "metrics/exposition.hpp"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <utility>

#include "metrics/node_metrics.hpp"
#include "metrics/process_stats.hpp"

namespace herald {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(std::string name, std::string help, MetricType type) {
  return MetricFamily{std::move(name), std::move(help), type, {}};
}

ClientMetric gauge_metric(double value, std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = value;
  return m;
}

ClientMetric histogram_metric(const depth_distribution& d,
                              std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < d.bounds.size(); ++i) {
    cumulative += d.counts[i];
    m.histogram.bucket.push_back({cumulative, d.bounds[i]});
  }
  m.histogram.bucket.push_back({d.total, std::numeric_limits<double>::infinity()});
  m.histogram.sample_count = d.total;
  m.histogram.sample_sum = static_cast<double>(d.sum);
  return m;
}

void add_depths(std::vector<MetricFamily>& out, const depth_sample& s) {
  auto queue = family("herald_session_queue_depth_events",
                      "Events queued per session, over all sessions at the last scrape (a "
                      "snapshot: use histogram_quantile without rate)",
                      MetricType::Histogram);
  queue.metric.push_back(histogram_metric(s.session_queue));
  out.push_back(std::move(queue));
  auto queue_max = family("herald_session_queue_depth_max_events",
                          "The deepest session queue at the last scrape", MetricType::Gauge);
  queue_max.metric.push_back(gauge_metric(static_cast<double>(s.session_queue.max)));
  out.push_back(std::move(queue_max));

  auto mailbox = family("herald_mailbox_depth_messages",
                        "Messages waiting in actor mailboxes, sampled at the last scrape, by "
                        "actor kind (a snapshot: use histogram_quantile without rate)",
                        MetricType::Histogram);
  mailbox.metric.push_back(histogram_metric(s.session_mailbox, {{"actor", "session"}}));
  mailbox.metric.push_back(histogram_metric(s.group_mailbox, {{"actor", "group"}}));
  out.push_back(std::move(mailbox));
  auto mailbox_max
      = family("herald_mailbox_depth_max_messages",
               "The deepest actor mailbox at the last scrape, by actor kind", MetricType::Gauge);
  mailbox_max.metric.push_back(
      gauge_metric(static_cast<double>(s.session_mailbox.max), {{"actor", "session"}}));
  mailbox_max.metric.push_back(
      gauge_metric(static_cast<double>(s.group_mailbox.max), {{"actor", "group"}}));
  mailbox_max.metric.push_back(
      gauge_metric(static_cast<double>(s.directory_mailbox), {{"actor", "directory"}}));
  out.push_back(std::move(mailbox_max));
}

void add_process(std::vector<MetricFamily>& out) {
  auto stats = read_process_stats();
  if (!stats)
    return;
  auto add = [&](std::string name, std::string help, MetricType type, double value) {
    auto f = family(std::move(name), std::move(help), type);
    ClientMetric m;
    if (type == MetricType::Counter)
      m.counter.value = value;
    else
      m.gauge.value = value;
    f.metric.push_back(std::move(m));
    out.push_back(std::move(f));
  };
  add("herald_process_cpu_seconds_total", "CPU time of the process (user + system)",
      MetricType::Counter, stats->cpu_seconds);
  add("herald_process_resident_memory_bytes", "Resident memory of the process", MetricType::Gauge,
      static_cast<double>(stats->resident_bytes));
  add("herald_process_virtual_memory_bytes", "Virtual memory of the process", MetricType::Gauge,
      static_cast<double>(stats->virtual_bytes));
  add("herald_process_open_fds", "Open file descriptors", MetricType::Gauge,
      static_cast<double>(stats->open_fds));
  add("herald_process_max_fds", "The file descriptor limit (RLIMIT_NOFILE)", MetricType::Gauge,
      static_cast<double>(stats->max_fds));
  add("herald_process_threads", "Threads of the process", MetricType::Gauge,
      static_cast<double>(stats->threads));
  add("herald_process_start_time_seconds", "When the process started, since the Unix epoch",
      MetricType::Gauge, stats->start_time_seconds);
}

} // namespace

std::string render_metrics(const depth_sample& sample, std::string_view node) {
  auto families = metrics().registry.Collect();
  auto info = family("herald_build_info", "Always 1; the labels name the build and the node",
                     MetricType::Gauge);
  info.metric.push_back(gauge_metric(
      1, {{"version", HERALD_VERSION}, {"commit", HERALD_COMMIT}, {"node", std::string{node}}}));
  families.push_back(std::move(info));
  add_depths(families, sample);
  if (sample.unanswered > 0)
    metrics().sample_timeouts->Increment(static_cast<double>(sample.unanswered));
  add_process(families);
  return prometheus::TextSerializer{}.Serialize(families);
}

} // namespace herald
