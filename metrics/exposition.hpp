#pragma once

#include <string>
#include <string_view>

#include "metrics/depth_sample.hpp"

namespace herald {

/// The Prometheus text exposition (format 0.0.4) served at /metrics: the
/// registry of metrics(), build info, process figures read now, and the depth
/// distributions of `sample`. Depth histograms are snapshots, not cumulative:
/// query them with histogram_quantile() directly, without rate().
std::string render_metrics(const depth_sample& sample, std::string_view node);

} // namespace herald
