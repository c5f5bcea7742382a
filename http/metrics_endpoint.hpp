#pragma once

#include "http/endpoints.hpp"

namespace herald {

/// GET /metrics: samples queue and mailbox depths (a request actor waits for
/// the sample, bounded by metrics-sample-timeout), then answers the
/// Prometheus text exposition.
void serve_metrics(server_context& ctx, const http_request& req, responder& out, finisher finish);

} // namespace herald
