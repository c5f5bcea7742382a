#include "http/stream_endpoints.hpp"

#include <charconv>

#include <boost/beast/websocket/rfc6455.hpp>

#include "actors/event.hpp"
#include "actors/names.hpp"
#include "actors/token_grant.hpp"
#include "http/jsonp.hpp"
#include "http/query_string.hpp"
#include "http/stream_session.hpp"
#include "http/websocket_session.hpp"

namespace herald {

namespace http = boost::beast::http;

namespace {

std::optional<std::uint64_t> parse_cursor(std::string_view s) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size())
    return std::nullopt;
  return value;
}

// Splits "a,b,,c" into names, dropping empty ones.
std::vector<std::string> split_names(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto part = text.substr(0, comma);
    if (!part.empty())
      out.emplace_back(part);
    if (comma == std::string_view::npos)
      break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

void start_stream(server_context& ctx, responder& out, stream_plan plan) {
  // Bytes behind a stream request are a pipelined request nobody will answer: dropped.
  out.hand_over(
      [&ctx, plan = std::move(plan)](client_stream&& stream, boost::beast::flat_buffer&&) mutable {
        std::make_shared<stream_session>(std::move(stream), ctx, std::move(plan))->run();
      });
}

// An implicit enter with authentication on: the token is checked before the
// stream starts, so that a refusal is an HTTP 401/403 an EventSource gives up
// on rather than an error event it would reconnect after, forever. The enter
// command checks it again (cheap) and binds the session to it.
std::optional<reply> refuse_implicit_enter(const server_context& ctx, const stream_plan& plan) {
  const auto& tokens = ctx.commands.tokens;
  if (!tokens)
    return std::nullopt;
  auto check = tokens->verify(plan.enter_token, now_ms() / 1000);
  if (!check.error.empty())
    return make_failure("unauthorized", check.error);
  if (!plan.enter_user.empty() && plan.enter_user != check.grant.user)
    return make_failure("forbidden", "user: must be the token's sub");
  for (const auto& name : plan.enter_groups)
    if (!group_permitted(check.grant.groups_limited, check.grant.group_patterns, name))
      return make_failure("forbidden",
                          "group \"" + name + "\" is outside the token's groups claim");
  return std::nullopt;
}

http_response no_content(const http_request& req) {
  http_response res{http::status::no_content, req.version()};
  res.set(http::field::server, "herald");
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

} // namespace

void serve_sse(server_context& ctx, const http_request& req, std::string_view query, responder& out,
               const finisher& finish) {
  std::string origin{req[http::field::origin]};
  std::string host{req[http::field::host]};
  if (!origin.empty() && ctx.cors.check(origin, host) == cors_policy::verdict::refused) {
    finish(make_error_response(req, "forbidden", "origin is not allowed (--allow-origin)"));
    return;
  }
  auto params = query_string::parse(query);
  if (!params) {
    finish(make_error_response(req, "bad_request", "query: malformed %-escape"));
    return;
  }
  auto fail = [&](std::string_view code, std::string_view message) {
    finish(make_error_response(req, code, message));
  };
  stream_plan plan;
  plan.kind = stream_plan::format::sse;
  plan.allow_origin = ctx.cors.allow_origin_value(origin, host);
  auto user = params->get("user");
  auto token = params->get("token");
  if (user || (token && ctx.commands.tokens)) {
    if (user && !is_valid_user_name(*user))
      return fail("bad_request", "user: must be 1-64 characters");
    plan.enter_user = user.value_or("");
    plan.enter_token = token.value_or("");
    plan.client_address = out.client_address(req);
    plan.enter = true;
    for (auto& name : split_names(params->get("groups").value_or(""))) {
      if (!is_valid_group_name(name))
        return fail("bad_request", "groups: names are 1-128 chars of [A-Za-z0-9_.:/-]");
      if (!ctx.config->allow_undeclared_groups && ctx.config->find_declared(name) == nullptr)
        return fail("not_found", "groups: group \"" + name + "\" is not declared");
      plan.enter_groups.push_back(std::move(name));
    }
  }
  // Last-Event-ID (as the browser sends it back) wins over session/cursor.
  std::string last_event_id{req["Last-Event-ID"]};
  if (last_event_id.empty())
    last_event_id = params->get("lastEventId").value_or("");
  if (!last_event_id.empty()) {
    auto dot = last_event_id.find('.');
    auto session = last_event_id.substr(0, dot);
    auto suffix = dot == std::string::npos ? std::string{} : last_event_id.substr(dot + 1);
    if (!is_valid_session_id(session))
      return fail("bad_request", "Last-Event-ID: expected <session>.<eid>");
    if (suffix == "superseded" || suffix == "stop" || (suffix == "gone" && !plan.enter)) {
      // This stream was told it ended for good; 204 makes EventSource stop.
      finish(no_content(req));
      return;
    }
    if (suffix == "gone") {
      if (auto refused = refuse_implicit_enter(ctx, plan))
        return fail(refused->error_code, refused->error_message);
      start_stream(ctx, out, std::move(plan)); // enter anew, as the URL asks
      return;
    }
    auto cursor = parse_cursor(suffix);
    if (!cursor)
      return fail("bad_request", "Last-Event-ID: expected <session>.<eid>");
    plan.session = session;
    plan.cursor = *cursor;
    start_stream(ctx, out, std::move(plan));
    return;
  }
  if (auto session = params->get("session")) {
    if (!is_valid_session_id(*session))
      return fail("bad_request", "session: 1-64 chars of [A-Za-z0-9_-]");
    plan.session = *session;
    if (auto cursor = params->get("cursor")) {
      auto value = parse_cursor(*cursor);
      if (!value)
        return fail("bad_request", "cursor: must be a non-negative integer");
      plan.cursor = *value;
    }
    start_stream(ctx, out, std::move(plan));
    return;
  }
  if (!plan.enter)
    return fail("bad_request", "session: required (or user= and groups= to enter)");
  if (auto refused = refuse_implicit_enter(ctx, plan))
    return fail(refused->error_code, refused->error_message);
  start_stream(ctx, out, std::move(plan));
}

void serve_forever_frame(server_context& ctx, const http_request& req, std::string_view query,
                         responder& out, const finisher& finish) {
  auto params = query_string::parse(query);
  if (!params) {
    finish(make_error_response(req, "bad_request", "query: malformed %-escape"));
    return;
  }
  auto fail = [&](std::string_view code, std::string_view message) {
    finish(make_error_response(req, code, message));
  };
  stream_plan plan;
  plan.kind = stream_plan::format::frame;
  auto callback = params->get("callback");
  if (!callback || !is_valid_callback(*callback))
    return fail("bad_request", "callback: required, ^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$");
  plan.callback = *callback;
  auto session = params->get("session");
  if (!session || !is_valid_session_id(*session))
    return fail("bad_request", "session: required, 1-64 chars of [A-Za-z0-9_-]");
  plan.session = *session;
  if (auto cursor = params->get("cursor")) {
    auto value = parse_cursor(*cursor);
    if (!value)
      return fail("bad_request", "cursor: must be a non-negative integer");
    plan.cursor = *value;
  }
  start_stream(ctx, out, std::move(plan));
}

void serve_websocket(server_context& ctx, http_request req, responder& out,
                     const finisher& finish) {
  if (!boost::beast::websocket::is_upgrade(req)) {
    finish(make_error_response(req, "bad_request", "expected a WebSocket upgrade"));
    return;
  }
  std::string origin{req[http::field::origin]};
  std::string host{req[http::field::host]};
  if (!origin.empty() && ctx.cors.check(origin, host) == cors_policy::verdict::refused) {
    finish(make_error_response(req, "forbidden", "origin is not allowed (--allow-origin)"));
    return;
  }
  out.hand_over([&ctx, req = std::move(req)](client_stream&& stream,
                                             boost::beast::flat_buffer&& early) mutable {
    std::make_shared<websocket_session>(std::move(stream), ctx, std::move(early))
        ->run(std::move(req));
  });
}

} // namespace herald
