#include "http/metrics_endpoint.hpp"

#include "actors/depth_sampler.hpp"
#include "metrics/exposition.hpp"
#include "metrics/node_metrics.hpp"

namespace herald {

namespace http = boost::beast::http;

void serve_metrics(server_context& ctx, const http_request& req, responder& out, finisher finish) {
  metrics().ready->Set(ctx.draining ? 0 : 1);
  http_response head{http::status::ok, req.version()};
  head.set(http::field::server, "herald");
  head.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  head.set(http::field::cache_control, "no-store");
  head.keep_alive(req.keep_alive());
  auto deadline
      = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.config->metrics_sample_timeout);
  auto sampler = spawn_depth_sampler(ctx.system, ctx.commands.directory, deadline,
                                     [node = ctx.config->node, head = std::move(head),
                                      finish = std::move(finish)](depth_sample sample) mutable {
                                       head.body() = render_metrics(sample, node);
                                       head.prepare_payload();
                                       finish(std::move(head));
                                     });
  out.watch(sampler);
}

} // namespace herald
