#pragma once

#include <atomic>

namespace herald {

/// What the cluster layer tells the HTTP layer, process-wide like metrics():
/// `/readyz` stays false until every seed was tried once (docs/cluster.md).
struct cluster_status {
  std::atomic<bool> seeds_tried{true};
};

inline cluster_status& cluster() {
  static cluster_status status;
  return status;
}

} // namespace herald
