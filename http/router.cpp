#include "http/router.hpp"

#include "actors/cluster_status.hpp"

#include <array>
#include <chrono>
#include <string_view>

#include "http/endpoints.hpp"
#include "http/metrics_endpoint.hpp"
#include "http/query_string.hpp"
#include "http/static_files.hpp"
#include "http/stream_endpoints.hpp"
#include "metrics/node_metrics.hpp"

namespace herald {

namespace http = boost::beast::http;

namespace {

struct known_path {
  std::string_view path;
  std::string_view allow; // for 405 and preflight answers
};

constexpr std::array<known_path, 11> known_paths{{
    {"/metrics", "GET, HEAD"},
    {"/", "GET, HEAD"},
    {"/herald.js", "GET, HEAD"},
    {"/v1/rpc", "GET, POST, OPTIONS"},
    {"/v1/sse", "GET, OPTIONS"},
    {"/v1/stream", "GET, OPTIONS"},
    {"/v1/ws", "GET"},
    {"/v1/listen", "GET, OPTIONS"},
    {"/v1/publish", "POST, OPTIONS"},
    {"/healthz", "GET, OPTIONS"},
    {"/readyz", "GET, OPTIONS"},
}};

// Counts each request once, when it is answered or becomes a stream, with
// its path class, status and duration.
class metered_responder final : public responder {
public:
  metered_responder(std::shared_ptr<responder> inner, path_class path)
      : inner_(std::move(inner)), path_(path), start_(std::chrono::steady_clock::now()) {}

  void respond(http_response res) override {
    count(res.result_int());
    inner_->respond(std::move(res));
  }

  void watch(caf::actor worker) override { inner_->watch(std::move(worker)); }

  void publish(publish_request request, std::function<void(const reply&)> answer) override {
    inner_->publish(std::move(request), std::move(answer));
  }

  command_budget& budget() override { return inner_->budget(); }
  std::string client_address(const http_request& req) override {
    return inner_->client_address(req);
  }

  void hand_over(stream_handoff next) override {
    count(path_ == path_class::ws ? 101 : 200);
    inner_->hand_over(std::move(next));
  }

private:
  void count(unsigned status) {
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
    metrics().count_request(path_, status, elapsed.count());
  }

  std::shared_ptr<responder> inner_;
  path_class path_;
  std::chrono::steady_clock::time_point start_;
};

const known_path* find_path(std::string_view path) {
  for (const auto& p : known_paths)
    if (p.path == path)
      return &p;
  return nullptr;
}

void add_cors(const server_context& ctx, std::string_view origin, std::string_view host,
              http_response& res) {
  auto value = ctx.cors.allow_origin_value(origin, host);
  if (value.empty())
    return;
  res.set(http::field::access_control_allow_origin, value);
  if (!ctx.cors.is_wildcard())
    res.set(http::field::vary, "Origin");
}

http_response preflight(const server_context& ctx, const http_request& req, const known_path& path,
                        std::string_view origin, std::string_view host) {
  if (!origin.empty() && ctx.cors.check(origin, host) == cors_policy::verdict::refused)
    return make_error_response(req, "forbidden", "origin is not allowed (--allow-origin)");
  http_response res{http::status::no_content, req.version()};
  res.set(http::field::server, "herald");
  res.set(http::field::allow, path.allow);
  if (!origin.empty()) {
    res.set(http::field::access_control_allow_methods, path.allow);
    res.set(http::field::access_control_allow_headers,
            "Content-Type, Authorization, Last-Event-ID");
    res.set(http::field::access_control_max_age, "600");
  }
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

} // namespace

void route(server_context& ctx, http_request req, std::shared_ptr<responder> connection) {
  auto [path, query] = split_target(req.target());
  std::shared_ptr<responder> out
      = std::make_shared<metered_responder>(std::move(connection), classify_path(path));
  std::string origin{req[http::field::origin]};
  std::string host{req[http::field::host]};
  bool head = req.method() == http::verb::head;
  finisher finish = [&ctx, out, origin, host, head](http_response res) {
    add_cors(ctx, origin, host, res);
    // The headers of a GET, no body. A 304 or 204 has no body to measure, so
    // it gets no Content-Length.
    if (head && res.result() != http::status::not_modified
        && res.result() != http::status::no_content) {
      auto length = res.body().size();
      res.body().clear();
      res.content_length(length);
    }
    out->respond(std::move(res));
  };
  const auto* known = find_path(path);
  if (known == nullptr) {
    finish(make_error_response(req, "not_found", "no such path: " + std::string{path}));
    return;
  }
  if (req.method() == http::verb::options) {
    auto res = preflight(ctx, req, *known, origin, host);
    if (res.result() == http::status::no_content)
      add_cors(ctx, origin, host, res);
    out->respond(std::move(res));
    return;
  }
  auto method_not_allowed = [&] {
    auto res = make_json_response(
        req, 405,
        error_body("bad_request",
                   std::string{req.method_string()} + " is not allowed on " + std::string{path}));
    res.set(http::field::allow, known->allow);
    finish(std::move(res));
  };
  if (path == "/metrics") {
    if (req.method() != http::verb::get && req.method() != http::verb::head)
      return method_not_allowed();
    serve_metrics(ctx, req, *out, finish);
  } else if (is_static_path(path)) {
    if (req.method() != http::verb::get && req.method() != http::verb::head)
      return method_not_allowed();
    finish(serve_static(req, path, ctx.config->web_root));
  } else if (path == "/healthz") {
    if (req.method() != http::verb::get && req.method() != http::verb::head)
      return method_not_allowed();
    finish(make_json_response(req, 200, "{\"ok\":true}"));
  } else if (path == "/readyz") {
    if (req.method() != http::verb::get && req.method() != http::verb::head)
      return method_not_allowed();
    if (ctx.draining)
      finish(make_json_response(req, 503,
                                "{\"ready\":false,\"error\":{\"code\":\"unavailable\",\"message\":"
                                "\"node is draining\"}}"));
    else if (metrics().sessions->Value() >= static_cast<double>(ctx.config->max_sessions))
      // A full node must not be sent new clients: their enter would be refused.
      finish(make_json_response(req, 503,
                                "{\"ready\":false,\"error\":{\"code\":\"unavailable\",\"message\":"
                                "\"node is full (max-sessions); enter elsewhere\"}}"));
    else if (ctx.open_connections > ctx.config->max_connections)
      finish(make_json_response(req, 503,
                                "{\"ready\":false,\"error\":{\"code\":\"unavailable\",\"message\":"
                                "\"node is at max-connections\"}}"));
    else if (!cluster().seeds_tried)
      finish(make_json_response(req, 503,
                                "{\"ready\":false,\"error\":{\"code\":\"unavailable\",\"message\":"
                                "\"joining the cluster: not every seed was tried yet\"}}"));
    else
      finish(make_json_response(req, 200, "{\"ready\":true}"));
  } else if (path == "/v1/rpc") {
    if (req.method() == http::verb::post)
      serve_rpc_post(ctx, req, *out, finish);
    else if (req.method() == http::verb::get)
      serve_rpc_jsonp(ctx, req, query, *out, finish);
    else
      method_not_allowed();
  } else if (path == "/v1/listen") {
    if (req.method() != http::verb::get)
      return method_not_allowed();
    serve_listen(ctx, req, query, *out, finish);
  } else if (path == "/v1/sse") {
    if (req.method() != http::verb::get)
      return method_not_allowed();
    serve_sse(ctx, req, query, *out, finish);
  } else if (path == "/v1/stream") {
    if (req.method() != http::verb::get)
      return method_not_allowed();
    serve_forever_frame(ctx, req, query, *out, finish);
  } else if (path == "/v1/ws") {
    if (req.method() != http::verb::get)
      return method_not_allowed();
    serve_websocket(ctx, std::move(req), *out, finish);
  } else if (path == "/v1/publish") {
    if (req.method() != http::verb::post)
      return method_not_allowed();
    serve_publish(ctx, req, *out, finish);
  }
}

} // namespace herald
