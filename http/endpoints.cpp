#include "http/endpoints.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "actors/commands.hpp"
#include "actors/event.hpp"
#include "actors/names.hpp"
#include "http/jsonp.hpp"
#include "http/query_string.hpp"
#include "http/rpc_parser.hpp"

namespace herald {

namespace http = boost::beast::http;

namespace {

// Renders the answers to a parsed body: one reply frame, or an array of them.
struct rendered {
  unsigned status;
  std::string body;
};

rendered render_replies(const body_outcome& parsed, const std::vector<reply>& replies) {
  if (!parsed.batch) {
    const auto& cmd = parsed.commands[0].cmd;
    return {status_of(replies[0].error_code), render_reply_frame(cmd.id, cmd.has_id, replies[0])};
  }
  std::string body = "[";
  for (std::size_t i = 0; i < replies.size(); ++i) {
    if (i > 0)
      body += ',';
    const auto& cmd = parsed.commands[i].cmd;
    body += render_reply_frame(cmd.id, cmd.has_id, replies[i]);
  }
  body += ']';
  return {200, std::move(body)};
}

http_response make_jsonp_response(const http_request& req, std::string_view callback,
                                  std::string_view json) {
  http_response res{http::status::ok, req.version()};
  res.set(http::field::server, "herald");
  res.set(http::field::content_type, "application/javascript; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  res.keep_alive(req.keep_alive());
  res.body() = wrap_jsonp(callback, json);
  res.prepare_payload();
  return res;
}

reply over_rate(const server_context& ctx) {
  return make_failure("rate_limited", "more than " + std::to_string(ctx.config->rate_limit)
                                          + " commands per second on this connection "
                                            "(rate-limit); not performed, retry later");
}

// Retry-After on an answer that holds a rate_limited reply. One second: the
// budget refills at least one command a second (--rate-limit is whole).
http_response with_retry_after(http_response res, const std::vector<reply>& replies) {
  for (const auto& r : replies)
    if (r.error_code == "rate_limited") {
      res.set(http::field::retry_after, "1");
      break;
    }
  return res;
}

// Runs the usable commands of `parsed` in one request actor; unusable ones
// keep their parse failure in place, and those beyond the connection's
// --rate-limit are answered rate_limited without being performed. `answer`
// gets one reply per command.
void run_commands(server_context& ctx, responder& out, std::shared_ptr<body_outcome> parsed,
                  std::function<void(std::vector<reply>)> answer) {
  std::vector<command> runnable;
  for (auto& outcome : parsed->commands) {
    if (!outcome.failure && !out.budget().take())
      outcome.failure = over_rate(ctx);
    if (!outcome.failure)
      runnable.push_back(outcome.cmd);
  }
  auto merge = [parsed, answer = std::move(answer)](std::vector<reply> results) {
    std::vector<reply> all;
    all.reserve(parsed->commands.size());
    std::size_t next = 0;
    for (const auto& outcome : parsed->commands)
      all.push_back(outcome.failure ? *outcome.failure : std::move(results[next++]));
    answer(std::move(all));
  };
  if (runnable.empty()) {
    merge({});
    return;
  }
  out.watch(spawn_command_actor(ctx.system, ctx.commands, std::move(runnable), std::move(merge)));
}

std::optional<std::uint64_t> parse_unsigned(std::string_view s) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty())
    return std::nullopt;
  return value;
}

std::optional<double> parse_seconds(const std::string& s) {
  if (s.empty())
    return std::nullopt;
  char* end = nullptr;
  double value = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(value) || value < 0)
    return std::nullopt;
  return value;
}

bool iequals_ascii(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x))
                  == std::tolower(static_cast<unsigned char>(y));
         });
}

// The auth scheme is case-insensitive (RFC 9110 11.1); the key is not.
bool bearer_matches(std::string_view header, const std::string& key) {
  constexpr std::string_view scheme = "bearer";
  if (header.size() <= scheme.size() || !iequals_ascii(header.substr(0, scheme.size()), scheme)
      || header[scheme.size()] != ' ')
    return false;
  auto start = header.find_first_not_of(' ', scheme.size());
  auto credentials = start == std::string_view::npos ? std::string_view{} : header.substr(start);
  if (credentials.size() != key.size())
    return false;
  // Constant time in the key's length, so timing does not reveal a prefix.
  unsigned char diff = 0;
  for (std::size_t i = 0; i < key.size(); ++i)
    diff |= static_cast<unsigned char>(credentials[i] ^ key[i]);
  return diff == 0;
}

// A body we parse as JSON must say it is JSON. The form and text/plain types
// are what a cross-site <form> or a "simple" fetch can send without a CORS
// preflight; refusing them keeps other sites from driving these endpoints
// with a visitor's network position. Parameters (`; charset=utf-8`) are fine.
bool is_json_content_type(std::string_view value) {
  auto media_type = value.substr(0, value.find(';'));
  auto first = media_type.find_first_not_of(" \t");
  if (first == std::string_view::npos)
    return false;
  media_type = media_type.substr(first, media_type.find_last_not_of(" \t") - first + 1);
  return iequals_ascii(media_type, "application/json");
}

constexpr std::string_view json_content_type_required = "Content-Type: must be application/json";

} // namespace

// Every command learns who sent it; enter counts it (max-sessions-per-address).
void stamp_client(body_outcome& parsed, const std::string& address) {
  for (auto& outcome : parsed.commands)
    outcome.cmd.params.client_address = address;
}

void serve_rpc_post(server_context& ctx, const http_request& req, responder& out, finisher finish) {
  if (!is_json_content_type(req[http::field::content_type])) {
    finish(make_error_response(req, "bad_request", json_content_type_required));
    return;
  }
  auto parsed = std::make_shared<body_outcome>(parse_rpc_body(req.body(), *ctx.config));
  stamp_client(*parsed, out.client_address(req));
  if (parsed->failure) {
    finish(make_error_response(req, parsed->failure->error_code, parsed->failure->error_message));
    return;
  }
  auto version = req.version();
  auto keep_alive = req.keep_alive();
  run_commands(ctx, out, parsed, [parsed, version, keep_alive, finish](std::vector<reply> replies) {
    auto [status, body] = render_replies(*parsed, replies);
    http_request shape{http::verb::post, "/", version};
    shape.keep_alive(keep_alive);
    finish(with_retry_after(make_json_response(shape, status, std::move(body)), replies));
  });
}

void serve_rpc_jsonp(server_context& ctx, const http_request& req, std::string_view query,
                     responder& out, finisher finish) {
  if (!ctx.config->jsonp) {
    finish(make_error_response(req, "forbidden", "JSONP is off (start the node with --jsonp)"));
    return;
  }
  auto params = query_string::parse(query);
  if (!params) {
    finish(make_error_response(req, "bad_request", "query: malformed %-escape"));
    return;
  }
  auto callback = params->get("callback");
  if (callback && !is_valid_callback(*callback)) {
    finish(make_error_response(req, "bad_request",
                               "callback: must match ^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$"));
    return;
  }
  auto q = params->get("q");
  if (!q || q->empty()) {
    finish(make_error_response(req, "bad_request", "q: required (a url-encoded command)"));
    return;
  }
  auto parsed = std::make_shared<body_outcome>(parse_rpc_body(*q, *ctx.config));
  stamp_client(*parsed, out.client_address(req));
  if (parsed->failure) {
    // An unusable `q` is the caller's bug, not a reply to hand the callback.
    finish(make_error_response(req, parsed->failure->error_code,
                               "q: " + parsed->failure->error_message));
    return;
  }
  auto version = req.version();
  auto keep_alive = req.keep_alive();
  run_commands(
      ctx, out, parsed,
      [parsed, version, keep_alive, callback, finish](std::vector<reply> replies) {
        auto [status, body] = render_replies(*parsed, replies);
        http_request shape{http::verb::get, "/", version};
        shape.keep_alive(keep_alive);
        if (callback)
          finish(with_retry_after(make_jsonp_response(shape, *callback, body), replies));
        else
          finish(with_retry_after(make_json_response(shape, status, std::move(body)), replies));
      });
}

void serve_listen(server_context& ctx, const http_request& req, std::string_view query,
                  responder& out, finisher finish) {
  auto params = query_string::parse(query);
  if (!params) {
    finish(make_error_response(req, "bad_request", "query: malformed %-escape"));
    return;
  }
  auto callback = params->get("callback");
  if (callback && !ctx.config->jsonp) {
    finish(make_error_response(req, "forbidden", "JSONP is off (start the node with --jsonp)"));
    return;
  }
  if (callback && !is_valid_callback(*callback)) {
    finish(make_error_response(req, "bad_request",
                               "callback: must match ^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$"));
    return;
  }
  command cmd;
  cmd.verb = method::listen;
  auto session = params->get("session");
  if (!session)
    session = params->get("chatId");
  if (!session || !is_valid_session_id(*session)) {
    finish(
        make_error_response(req, "bad_request", "session: required, 1-64 chars of [A-Za-z0-9_-]"));
    return;
  }
  cmd.params.session = *session;
  if (auto cursor = params->get("cursor")) {
    auto value = parse_unsigned(*cursor);
    if (!value) {
      finish(make_error_response(req, "bad_request", "cursor: must be a non-negative integer"));
      return;
    }
    cmd.params.cursor = *value;
  }
  if (auto timeout = params->get("timeout")) {
    auto value = parse_seconds(*timeout);
    if (!value) {
      finish(make_error_response(req, "bad_request", "timeout: must be a number of seconds >= 0"));
      return;
    }
    cmd.params.timeout = *value;
  }
  auto version = req.version();
  auto keep_alive = req.keep_alive();
  auto answer = [version, keep_alive, callback, finish](std::vector<reply> replies) {
    const auto& r = replies[0];
    auto body = r.ok() ? r.result_json : error_body(r.error_code, r.error_message);
    http_request shape{http::verb::get, "/", version};
    shape.keep_alive(keep_alive);
    if (callback)
      finish(with_retry_after(make_jsonp_response(shape, *callback, body), replies));
    else
      finish(with_retry_after(make_json_response(shape, status_of(r.error_code), std::move(body)),
                              replies));
  };
  if (!out.budget().take()) {
    answer({over_rate(ctx)});
    return;
  }
  out.watch(spawn_command_actor(ctx.system, ctx.commands, {std::move(cmd)}, std::move(answer)));
}

// An Idempotency-Key header value (draft-ietf-httpapi-idempotency-key-header: a
// structured-field string, so "…" is accepted as well as a bare token).
namespace {

std::optional<std::string> parse_idempotency_key(std::string_view value) {
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
    value = value.substr(1, value.size() - 2);
  if (value.empty() || value.size() > 255)
    return std::nullopt;
  for (char c : value)
    if (c < 0x21 || c > 0x7e || c == '"' || c == '\\')
      return std::nullopt;
  return std::string{value};
}

} // namespace

void serve_publish(server_context& ctx, const http_request& req, responder& out, finisher finish) {
  const auto& config = *ctx.config;
  if (!config.api_key.empty() && !bearer_matches(req[http::field::authorization], config.api_key)) {
    finish(make_error_response(req, "unauthorized", "Authorization: Bearer <api key> required"));
    return;
  }
  if (!is_json_content_type(req[http::field::content_type])) {
    finish(make_error_response(req, "bad_request", json_content_type_required));
    return;
  }
  auto body = parse_json_text(req.body());
  if (body.is_discarded() || !body.is_object()) {
    finish(make_error_response(req, "bad_request", "body must be a JSON object"));
    return;
  }
  auto fail = [&](std::string_view code, std::string_view message) {
    finish(make_error_response(req, code, message));
  };
  publish_request request;
  if (!body.contains("data"))
    return fail("bad_request", "data: required");
  if (!nests_within(body["data"], max_data_depth))
    return fail("bad_request",
                "data: nests deeper than " + std::to_string(max_data_depth) + " levels");
  request.data = body["data"].dump();
  if (request.data.size() > config.max_data)
    return fail("too_large", "data: " + std::to_string(request.data.size())
                                 + " bytes exceeds max-data " + std::to_string(config.max_data));
  if (body.contains("from")) {
    if (!body["from"].is_string() || !is_valid_user_name(body["from"].get<std::string>()))
      return fail("bad_request", "from: must be a string of 1-64 characters");
    request.from = body["from"].get<std::string>();
  }
  bool to_groups = body.contains("group") || body.contains("groups");
  bool to_user = body.contains("user");
  if (to_groups == to_user)
    return fail("bad_request", "give either group/groups or user");
  if (to_user) {
    if (!body["user"].is_string() || !is_valid_user_name(body["user"].get<std::string>()))
      return fail("bad_request", "user: must be a string of 1-64 characters");
    request.user = body["user"].get<std::string>();
  } else {
    std::vector<nlohmann::json> names;
    if (body.contains("group"))
      names.push_back(body["group"]);
    if (body.contains("groups")) {
      if (!body["groups"].is_array() || body["groups"].empty())
        return fail("bad_request", "groups: must be a non-empty array of group names");
      for (const auto& g : body["groups"])
        names.push_back(g);
    }
    for (const auto& name : names) {
      if (!name.is_string() || !is_valid_group_name(name.get<std::string>()))
        return fail("bad_request", "group: names are 1-128 chars of [A-Za-z0-9_.:/-]");
      auto value = name.get<std::string>();
      if (!config.allow_undeclared_groups && config.find_declared(value) == nullptr)
        return fail("not_found", "group \"" + value + "\" is not declared");
      if (std::find(request.groups.begin(), request.groups.end(), value) == request.groups.end())
        request.groups.push_back(std::move(value));
    }
  }
  if (auto key = req["Idempotency-Key"]; !key.empty()) {
    auto parsed = parse_idempotency_key(key);
    if (!parsed)
      return fail("bad_request", "Idempotency-Key: 1-255 visible ASCII characters, optionally "
                                 "in double quotes");
    if (to_user)
      return fail("bad_request", "Idempotency-Key: applies to group publishes, not to user");
    request.idempotency_key = std::move(*parsed);
  }
  auto version = req.version();
  auto keep_alive = req.keep_alive();
  out.publish(std::move(request), [version, keep_alive, finish](const reply& r) {
    http_request shape{http::verb::post, "/", version};
    shape.keep_alive(keep_alive);
    finish(make_json_response(shape, status_of(r.error_code),
                              r.ok() ? r.result_json : error_body(r.error_code, r.error_message)));
  });
}

} // namespace herald
