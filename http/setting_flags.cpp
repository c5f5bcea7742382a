#include "http/setting_flags.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <utility>

namespace herald {

namespace {

using json = nlohmann::json;
using std::chrono::seconds;

// Timers add durations to now() in nanoseconds; capping at ~3 years keeps
// that sum far from overflowing while allowing any sensible value.
constexpr std::uint64_t max_duration_seconds = 100'000'000;

constexpr std::uint64_t max_size = std::numeric_limits<std::size_t>::max();

using s = settings;
const flag_spec contract_flags[] = {
    {"listen", value_kind::listen_address, &s::listen, "ADDR:PORT",
     "address for clients (port 0: any free port)"},
    {"node", value_kind::text, &s::node, "NAME", "this node's name (cluster, session ids)",
     "host name"},
    {"cluster-listen", value_kind::listen_address, &s::cluster_listen, "ADDR:PORT",
     "address other nodes connect to", "off", true},
    {"peers", value_kind::seed_list, &s::peers, "HOST:PORT,...",
     "other nodes' --cluster-listen addresses (static seeds)"},
    {"peers-dns", value_kind::seed_address, &s::peers_dns, "NAME:PORT",
     "seeds from DNS A records (e.g. a headless Service)"},
    {"config", value_kind::text, &s::config, "FILE", "JSON file of settings and declared groups"},
    {"allow-origin", value_kind::list, &s::allow_origin, "ORIGIN,...",
     "origins allowed by CORS, SSE and WebSocket; * = any", "same origin"},
    {"api-key", value_kind::text, &s::api_key, "KEY",
     "POST /v1/publish requires Authorization: Bearer KEY"},
    {"jsonp", value_kind::boolean, &s::jsonp, "[on|off]", "answer JSONP (bare --jsonp means on)"},
    {"log-level", value_kind::level, &s::log, "LEVEL", "debug, info, warn or error"},
    {"lease", value_kind::duration, &s::lease, "DURATION", "session lease when enter names none"},
    {"max-lease", value_kind::duration, &s::max_lease, "DURATION",
     "longest lease a client may ask"},
    {"queue-max", value_kind::count, &s::queue_max, "N",
     "events queued per session (then the oldest drop)"},
    {"history", value_kind::count, &s::history, "N", "messages kept per group for recovery"},
    {"notify-presence", value_kind::boolean, &s::notify_presence, "on|off",
     "members see joins and leaves of undeclared groups"},
    {"notify-presence-max", value_kind::count, &s::notify_presence_max, "N",
     "larger groups stop announcing joins and leaves"},
    {"undeclared-groups", value_kind::undeclared, &s::allow_undeclared_groups, "allow|refuse",
     "may clients use groups the config does not declare"},
    {"max-body", value_kind::size, &s::max_body, "SIZE", "largest request body"},
    {"max-data", value_kind::size, &s::max_data, "SIZE",
     "largest data of one message (serialized)"},
    {"heartbeat", value_kind::duration, &s::heartbeat, "DURATION", "heartbeat interval on streams"},
    {"listen-timeout", value_kind::duration, &s::listen_timeout, "DURATION",
     "listen timeout when the client names none (max 120 s)"},
    {"drain-timeout", value_kind::duration, &s::drain_timeout, "DURATION",
     "after SIGTERM, exit within this"},
    {"group-replicas", value_kind::count, &s::group_replicas, "N",
     "nodes holding each group's seq, epoch and history (cluster)"},
    {"jwt-hs256-secret", value_kind::text, &s::jwt_hs256_secret, "SECRET",
     "enter needs a token signed HS256 with SECRET (docs/security.md)", "off"},
    {"jwt-public-key", value_kind::text, &s::jwt_public_key, "FILE",
     "enter needs a token verified by this PEM key: RSA = RS256, EC P-256 = ES256", "off"},
    {"jwt-audience", value_kind::text, &s::jwt_audience, "AUD", "tokens must name AUD in aud",
     "not checked"},
    {"jwt-issuer", value_kind::text, &s::jwt_issuer, "ISS", "tokens must carry iss ISS",
     "not checked"},
    {"tls-cert", value_kind::text, &s::tls_cert, "FILE",
     "PEM certificate chain: --listen serves HTTPS and WSS only (with --tls-key)", "off"},
    {"tls-key", value_kind::text, &s::tls_key, "FILE", "PEM private key of --tls-cert", "off"},
    {"rate-limit", value_kind::count, &s::rate_limit, "N",
     "commands per second one connection may send, bursts of 2N (0: no limit)"},
    {"max-sessions-per-user", value_kind::count, &s::max_sessions_per_user, "N",
     "sessions one user may hold on this node (0: no limit)"},
};

// The cluster settings the contract leaves to us (docs/cluster.md).
const flag_spec cluster_flags[] = {
    {"cluster-size", value_kind::count, &s::cluster_size, "N",
     "nodes a majority is counted against", "largest view seen"},
    {"peer-heartbeat", value_kind::duration, &s::peer_heartbeat, "DURATION",
     "heartbeat between nodes"},
    {"peer-timeout", value_kind::duration, &s::peer_timeout, "DURATION",
     "a node silent this long is dropped"},
    {"peer-connect-timeout", value_kind::duration, &s::peer_connect_timeout, "DURATION",
     "one attempt to reach a seed gives up after this"},
    {"peers-dns-interval", value_kind::duration, &s::peers_dns_interval, "DURATION",
     "--peers-dns is resolved again this often"},
    {"cluster-secret", value_kind::text, &s::cluster_secret, "SECRET",
     "nodes must present the same secret to join", "none"},
};

// The limits the contract leaves to us.
const flag_spec limit_flags[] = {
    {"max-listen-timeout", value_kind::duration, &s::max_listen_timeout, "DURATION",
     "longer listen timeouts are cut to this (max 120 s)"},
    {"max-batch", value_kind::count, &s::max_batch, "N", "commands in one batch request"},
    {"listen-batch", value_kind::count, &s::listen_batch, "N", "events in one listen reply"},
    {"max-groups-per-session", value_kind::count, &s::max_groups_per_session, "N",
     "groups one session may join"},
    {"max-sessions", value_kind::count, &s::max_sessions, "N", "sessions on this node"},
    {"max-groups", value_kind::count, &s::max_groups, "N", "groups on this node"},
    {"max-connections", value_kind::count, &s::max_connections, "N", "open TCP connections"},
    {"max-connections-per-address", value_kind::count, &s::max_connections_per_address, "N",
     "open connections from one client address; more are answered rate_limited (0: no limit)"},
    {"max-sessions-per-address", value_kind::count, &s::max_sessions_per_address, "N",
     "sessions one client address may hold on this node (0: no limit)"},
    {"trusted-proxies", value_kind::list, &s::trusted_proxies, "CIDR,...",
     "proxies whose X-Forwarded-For names the client (for the per-address limits)", "none"},
    {"probe-connections", value_kind::count, &s::probe_connections, "N",
     "connections beyond max-connections answered only for GET /healthz and /readyz"},
    {"public-origin", value_kind::list, &s::public_origin, "ORIGIN,...",
     "this node's own origins, for the same-origin check instead of Host (DNS rebinding)",
     "trust Host"},
    {"max-header", value_kind::size, &s::max_header, "SIZE", "request line plus headers"},
    {"max-requests-per-connection", value_kind::count, &s::max_requests_per_connection, "N",
     "requests served on one keep-alive connection"},
    {"publish-batch", value_kind::count, &s::publish_batch, "N",
     "pipelined POST /v1/publish requests of a connection performed by one request actor"},
    {"keepalive-timeout", value_kind::duration, &s::keepalive_timeout, "DURATION",
     "an idle keep-alive connection is closed after this"},
    {"request-timeout", value_kind::duration, &s::request_timeout, "DURATION",
     "time to receive one whole request"},
    {"group-idle-timeout", value_kind::duration, &s::group_idle_timeout, "DURATION",
     "an empty undeclared group lives this long"},
    {"idempotency-window", value_kind::duration, &s::idempotency_window, "DURATION",
     "a publish's Idempotency-Key is remembered this long (a retry gets the same seq)"},
    {"idempotency-keys", value_kind::count, &s::idempotency_keys, "N",
     "Idempotency-Keys remembered per group; older ones are forgotten first"},
    {"stream-max-age", value_kind::duration, &s::stream_max_age, "DURATION",
     "a forever-frame stream is closed after this (the client resumes by eid)"},
    {"max-stream-buffer", value_kind::size, &s::max_stream_buffer, "SIZE",
     "bytes waiting to be written per stream; a slower reader is cut off"},
    {"sse-retry-ms", value_kind::count, &s::sse_retry_ms, "N", "the SSE retry: field (ms)"},
    {"ws-max-frame", value_kind::size, &s::ws_max_frame, "SIZE",
     "largest WebSocket message; larger closes with 1009"},
    {"ws-max-fragments", value_kind::count, &s::ws_max_fragments, "N",
     "frames of one WebSocket message; more closes with 1009"},
    {"ws-deflate", value_kind::boolean, &s::ws_deflate, "on|off",
     "offer permessage-deflate on WebSocket"},
    {"ws-max-inflated", value_kind::size, &s::ws_max_inflated, "SIZE",
     "largest WebSocket message after inflating"},
    {"metrics-sample-timeout", value_kind::duration, &s::metrics_sample_timeout, "DURATION",
     "a /metrics scrape waits this long for queue and mailbox depths"},
    {"web-root", value_kind::text, &s::web_root, "DIR",
     "serve / and /herald.js from DIR/index.html and DIR/herald.js (development)",
     "built-in copies"},
    {"io-threads", value_kind::count, &s::io_threads, "N", "network threads"},
    {"actor-threads", value_kind::count, &s::actor_threads, "N", "actor scheduler threads"},
};

const flag_table all_flags = {contract_flags, cluster_flags, limit_flags};

// Indexed by log_level.
constexpr std::string_view level_names[] = {"debug", "info", "warn", "error"};

std::string lower(std::string_view text) {
  std::string out{text};
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<std::uint64_t> parse_digits(std::string_view text) {
  std::uint64_t out = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
    return std::nullopt;
  return out;
}

using suffix_table = std::initializer_list<std::pair<std::string_view, std::uint64_t>>;

// Returns a JSON number as it is (config file), or text as digits times the
// factor of the unit that follows them (everywhere); nullopt when the unit is
// unknown or the product overflows.
std::optional<std::uint64_t> to_number(const json& value, suffix_table suffixes) {
  if (value.is_number_unsigned())
    return value.get<std::uint64_t>();
  if (!value.is_string())
    return std::nullopt;
  std::string_view text = value.get_ref<const std::string&>();
  auto unit = text.find_first_not_of("0123456789");
  auto number = parse_digits(text.substr(0, unit));
  auto suffix = lower(unit == std::string_view::npos ? "" : text.substr(unit));
  for (const auto& [name, factor] : suffixes)
    if (number && suffix == name && *number <= std::numeric_limits<std::uint64_t>::max() / factor)
      return *number * factor;
  return std::nullopt;
}

std::optional<std::vector<std::string>> to_list(const json& value) {
  std::vector<std::string> out;
  auto add = [&out](std::string_view item) {
    auto first = item.find_first_not_of(" \t");
    if (first != std::string_view::npos)
      out.emplace_back(item.substr(first, item.find_last_not_of(" \t") - first + 1));
  };
  if (value.is_array()) {
    for (const auto& item : value) {
      if (!item.is_string())
        return std::nullopt;
      add(item.get_ref<const std::string&>());
    }
    return out;
  }
  if (!value.is_string())
    return std::nullopt;
  std::string_view text = value.get_ref<const std::string&>();
  for (std::size_t start = 0; start <= text.size();) {
    auto comma = std::min(text.find(',', start), text.size());
    add(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

/// Returns true if `text` is HOST:PORT (IPv6 hosts in brackets) with a port
/// between `min_port` and 65535.
bool is_host_port(std::string_view text, unsigned min_port) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return false;
  auto host = text.substr(0, colon);
  auto port = parse_digits(text.substr(colon + 1));
  if (!port || *port < min_port || *port > 65535 || text.size() - colon - 1 > 5)
    return false;
  bool bracketed = host.size() > 2 && host.front() == '[' && host.back() == ']';
  if (bracketed)
    host = host.substr(1, host.size() - 2);
  if (host.empty() || (!bracketed && host.find(':') != std::string_view::npos))
    return false;
  return std::all_of(host.begin(), host.end(), [bracketed](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_'
           || (bracketed && (c == ':' || c == '%'));
  });
}

} // namespace

const flag_table& flag_sections() {
  return all_flags;
}

const flag_spec* find_flag(std::string_view name) {
  for (auto section : all_flags)
    for (const auto& flag : section)
      if (flag.name == name)
        return &flag;
  return nullptr;
}

// Error messages quote the bad value as JSON so that they stay on one line
// whatever bytes it holds.
std::string quote_value(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<bool> parse_bool(const json& value) {
  if (value.is_boolean())
    return value.get<bool>();
  if (!value.is_string())
    return std::nullopt;
  auto text = lower(value.get_ref<const std::string&>());
  if (text == "on" || text == "true" || text == "1" || text == "yes")
    return true;
  if (text == "off" || text == "false" || text == "0" || text == "no")
    return false;
  return std::nullopt;
}

std::optional<std::size_t> parse_count(const json& value) {
  auto n = to_number(value, {{"", 1}});
  if (!n || *n > max_size)
    return std::nullopt;
  return static_cast<std::size_t>(*n);
}

std::string_view level_name(log_level level) {
  return level_names[static_cast<std::size_t>(level)];
}

std::string apply_flag(const flag_spec& flag, const json& value, settings& out) {
  auto bad = [&value](std::string_view expected) {
    return quote_value(value) + " is not " + std::string{expected};
  };
  switch (flag.kind) {
    case value_kind::text:
    case value_kind::listen_address:
    case value_kind::seed_address: {
      if (!value.is_string())
        return bad("a string");
      const auto& text = value.get_ref<const std::string&>();
      bool may_be_empty = flag.kind == value_kind::seed_address || flag.optional;
      if (flag.kind != value_kind::text && !(text.empty() && may_be_empty)
          && !is_host_port(text, flag.kind == value_kind::seed_address ? 1 : 0))
        return bad(flag.kind == value_kind::seed_address
                       ? "HOST:PORT (port 1-65535; IPv6 as [::1]:8080)"
                       : "ADDR:PORT (port 0-65535, 0 = any free port; IPv6 as [::1]:8080)");
      out.*std::get<std::string settings::*>(flag.field) = text;
      return {};
    }
    case value_kind::seed_list:
    case value_kind::list: {
      auto items = to_list(value);
      if (!items)
        return bad("a comma-separated list or an array of strings");
      if (flag.kind == value_kind::seed_list)
        for (const auto& item : *items)
          if (!is_host_port(item, 1))
            return bad("a list of HOST:PORT (port 1-65535; IPv6 as [::1]:8080)");
      out.*std::get<std::vector<std::string> settings::*>(flag.field) = std::move(*items);
      return {};
    }
    case value_kind::boolean: {
      auto on = parse_bool(value);
      if (!on)
        return bad("on or off");
      out.*std::get<bool settings::*>(flag.field) = *on;
      return {};
    }
    case value_kind::undeclared: {
      auto text = value.is_string() ? lower(value.get_ref<const std::string&>()) : "";
      if (text != "allow" && text != "refuse")
        return bad("allow or refuse");
      out.*std::get<bool settings::*>(flag.field) = text == "allow";
      return {};
    }
    case value_kind::level: {
      auto text = value.is_string() ? lower(value.get_ref<const std::string&>()) : "";
      const auto* found = std::find(std::begin(level_names), std::end(level_names),
                                    text == "warning" ? "warn" : text);
      if (found == std::end(level_names))
        return bad("debug, info, warn or error");
      out.*std::get<log_level settings::*>(flag.field)
          = static_cast<log_level>(found - std::begin(level_names));
      return {};
    }
    case value_kind::duration: {
      auto n = to_number(value, {{"", 1}, {"s", 1}, {"m", 60}, {"h", 3600}});
      if (!n)
        return bad("a duration (seconds, or with suffix s, m or h)");
      if (*n > max_duration_seconds)
        return bad("a duration of at most 100000000 s");
      out.*std::get<seconds settings::*>(flag.field) = seconds{static_cast<seconds::rep>(*n)};
      return {};
    }
    case value_kind::size: {
      constexpr std::uint64_t k = 1024;
      constexpr std::uint64_t m = k * k;
      auto n = to_number(
          value,
          {{"", 1}, {"b", 1}, {"k", k}, {"kb", k}, {"kib", k}, {"m", m}, {"mb", m}, {"mib", m}});
      if (!n || *n > max_size)
        return bad("a size (bytes, or with suffix KiB or MiB)");
      out.*std::get<std::size_t settings::*>(flag.field) = static_cast<std::size_t>(*n);
      return {};
    }
    case value_kind::count: {
      auto n = to_number(value, {{"", 1}});
      const auto* narrow = std::get_if<unsigned settings::*>(&flag.field);
      if (!n || *n > (narrow ? std::numeric_limits<unsigned>::max() : max_size))
        return bad("a non-negative integer");
      if (narrow)
        out.*(*narrow) = static_cast<unsigned>(*n);
      else
        out.*std::get<std::size_t settings::*>(flag.field) = static_cast<std::size_t>(*n);
      return {};
    }
  }
  return "unknown kind of setting"; // unreachable: the switch covers every kind
}

} // namespace herald
