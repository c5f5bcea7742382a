#include "metrics/exposition.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "metrics/depth_sample.hpp"
#include "metrics/node_metrics.hpp"
#include "metrics/process_stats.hpp"

namespace herald {
namespace {

double sample_value(const std::string& text, const std::string& series) {
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(series + " ", 0) == 0)
      return std::stod(line.substr(series.size() + 1));
  ADD_FAILURE() << "no series " << series;
  return -1;
}

TEST(DepthDistribution, BucketsAreInclusiveUpperBoundsAndTrackTheMaximum) {
  depth_distribution d{{0, 1, 5}};
  for (auto depth : {0u, 1u, 2u, 5u, 6u, 100u})
    d.add(depth);
  EXPECT_EQ(d.counts, (std::vector<std::uint64_t>{1, 1, 2, 2}));
  EXPECT_EQ(d.total, 6u);
  EXPECT_EQ(d.sum, 114u);
  EXPECT_EQ(d.max, 100u);
}

TEST(ClassifyPath, NamesEveryKnownPathAndLumpsTheRest) {
  EXPECT_EQ(classify_path("/v1/rpc"), path_class::rpc);
  EXPECT_EQ(classify_path("/v1/ws"), path_class::ws);
  EXPECT_EQ(classify_path("/readyz"), path_class::health);
  EXPECT_EQ(classify_path("/herald.js"), path_class::static_file);
  EXPECT_EQ(classify_path("/v1/rpc/"), path_class::other);
  EXPECT_EQ(classify_path("/x?y"), path_class::other);
  EXPECT_EQ(name_of(path_class::static_file), "static");
}

TEST(LatencyBatch, OneFlushAddsEveryLatencyToTheTransportsHistogram) {
  auto collect = [] {
    return metrics().delivery_latency[static_cast<std::size_t>(transport::stream)]->Collect();
  };
  auto before = collect().histogram;
  latency_batch batch;
  std::int64_t now = 10'000'000'000;
  batch.add(now - 50'000, now);        // 50 µs: the first bucket (<= 100 µs)
  batch.add(now - 2'000'000'000, now); // 2 s
  batch.add(now + 1'000, now);         // accepted "after" now (clock step): counted as 0
  EXPECT_FALSE(batch.empty());
  batch.flush(transport::stream);
  EXPECT_TRUE(batch.empty());
  auto after = collect().histogram;
  EXPECT_EQ(after.sample_count - before.sample_count, 3u);
  EXPECT_NEAR(after.sample_sum - before.sample_sum, 2.00005, 1e-9);
  EXPECT_EQ(after.bucket[0].cumulative_count - before.bucket[0].cumulative_count, 2u);
  // 2 s falls in the 2.5 s bucket, not the 1 s one.
  auto at = [](const auto& h, double bound) {
    for (const auto& b : h.bucket)
      if (b.upper_bound == bound)
        return b.cumulative_count;
    return std::uint64_t{0};
  };
  EXPECT_EQ(at(after, 1) - at(before, 1), 2u);
  EXPECT_EQ(at(after, 2.5) - at(before, 2.5), 3u);
}

TEST(ProcessStats, ReadsThisProcess) {
  auto stats = read_process_stats();
  ASSERT_TRUE(stats.has_value());
  EXPECT_GT(stats->resident_bytes, 1024u * 1024u);
  EXPECT_GE(stats->virtual_bytes, stats->resident_bytes);
  EXPECT_GE(stats->open_fds, 3u); // stdin, stdout, stderr
  EXPECT_GE(stats->max_fds, stats->open_fds);
  EXPECT_GE(stats->threads, 1u);
  EXPECT_GT(stats->start_time_seconds, 1.6e9);
}

TEST(RenderMetrics, EveryFamilyHasHelpAndTypeAndTheSampleIsRendered) {
  depth_sample sample;
  sample.session_queue.add(3);
  sample.session_queue.add(700);
  sample.session_mailbox.add(0);
  sample.group_mailbox.add(12);
  sample.directory_mailbox = 4;
  auto text = render_metrics(sample, "node-a");
  std::set<std::string> help, type;
  std::regex comment{R"(^# (HELP|TYPE) (\S+) (.+)$)"};
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, comment))
      (m[1] == "HELP" ? help : type).insert(m[2]);
  }
  EXPECT_EQ(help, type);
  for (const auto& name : help)
    EXPECT_EQ(name.rfind("herald_", 0), 0u) << name;
  for (const char* name : {"herald_sessions", "herald_connections_open", "herald_build_info",
                           "herald_session_queue_depth_events", "herald_process_open_fds"})
    EXPECT_TRUE(help.count(name)) << name;
  EXPECT_EQ(sample_value(text, "herald_session_queue_depth_events_count"), 2);
  EXPECT_EQ(sample_value(text, "herald_session_queue_depth_events_bucket{le=\"5\"}"), 1);
  EXPECT_EQ(sample_value(text, "herald_session_queue_depth_events_bucket{le=\"1000\"}"), 2);
  EXPECT_EQ(sample_value(text, "herald_session_queue_depth_max_events"), 700);
  EXPECT_EQ(sample_value(text, "herald_mailbox_depth_max_messages{actor=\"group\"}"), 12);
  EXPECT_EQ(sample_value(text, "herald_mailbox_depth_max_messages{actor=\"directory\"}"), 4);
  EXPECT_NE(text.find("node=\"node-a\""), std::string::npos);
}

} // namespace
} // namespace herald
