#include "http/command_line.hpp"

#include "actors/names.hpp"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <span>
#include <string_view>
#include <variant>

namespace herald {

namespace {

using json = nlohmann::json;
using std::chrono::seconds;

// A config file is a few kilobytes; the cap keeps a wrong path (a disk image,
// /dev/zero) from eating the node's memory before the JSON parser objects.
constexpr std::size_t max_config_file_bytes = std::size_t{16} * 1024 * 1024;

// Timers add durations to now() in nanoseconds; capping at ~3 years keeps
// that sum far from overflowing while allowing any sensible value.
constexpr std::uint64_t max_duration_seconds = 100'000'000;

constexpr std::uint64_t max_size = std::numeric_limits<std::size_t>::max();

enum class value_kind {
  text,
  listen_address, // HOST:PORT, port 0 = any free port; empty allowed if optional
  seed_address,   // HOST:PORT of another node, port 1-65535; empty = none
  seed_list,      // comma-separated seed_address
  list,           // comma-separated strings
  boolean,        // on/off
  duration,       // seconds, suffix s/m/h
  size,           // bytes, suffix k/m
  count,          // non-negative integer
  level,          // log level
  undeclared,     // allow/refuse
};

using field_ptr = std::variant<std::string settings::*, std::vector<std::string> settings::*,
                               bool settings::*, seconds settings::*, std::size_t settings::*,
                               unsigned settings::*, log_level settings::*>;

struct flag_spec {
  std::string_view name;
  value_kind kind;
  field_ptr field;
  std::string_view placeholder; // after the flag in --help
  std::string_view meaning;
  std::string_view default_note = {}; // when the default value itself says little
  bool optional = false;              // an empty address turns the feature off
};

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
    {"max-header", value_kind::size, &s::max_header, "SIZE", "request line plus headers"},
    {"max-requests-per-connection", value_kind::count, &s::max_requests_per_connection, "N",
     "requests served on one keep-alive connection"},
    {"keepalive-timeout", value_kind::duration, &s::keepalive_timeout, "DURATION",
     "an idle keep-alive connection is closed after this"},
    {"request-timeout", value_kind::duration, &s::request_timeout, "DURATION",
     "time to receive one whole request"},
    {"group-idle-timeout", value_kind::duration, &s::group_idle_timeout, "DURATION",
     "an empty undeclared group lives this long"},
    {"io-threads", value_kind::count, &s::io_threads, "N", "network threads"},
    {"actor-threads", value_kind::count, &s::actor_threads, "N", "actor scheduler threads"},
};

const std::span<const flag_spec> all_flags[] = {contract_flags, limit_flags};

// Indexed by log_level.
constexpr std::string_view level_names[] = {"debug", "info", "warn", "error"};

const flag_spec* find_flag(std::string_view name) {
  for (auto section : all_flags)
    for (const auto& flag : section)
      if (flag.name == name)
        return &flag;
  return nullptr;
}

std::string env_name(std::string_view flag) {
  std::string out = "HERALD_";
  for (char c : flag)
    out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

// Error messages quote the bad value as JSON so that they stay on one line
// whatever bytes it holds.
std::string quote(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

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

std::optional<bool> to_bool(const json& value) {
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

/// Sets the field of `flag` in `out` from `value` (a JSON string for flags and
/// variables; any JSON from the file). Returns an empty string, or the tail of
/// the error message: the quoted value and what it should have been.
std::string apply(const flag_spec& flag, const json& value, settings& out) {
  auto bad = [&value](std::string_view expected) {
    return quote(value) + " is not " + std::string{expected};
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
      auto on = to_bool(value);
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

// A declared group as read from the file; its history falls back to the
// node's `history` only once every layer has been applied.
struct pending_group {
  declared_group group;
  bool history_given = false;
};

/// Reads the `groups` array of the config file into `out`. Returns an empty
/// string, or an error naming the entry and key, e.g. `groups[1].bit: ...`.
std::string read_groups(const json& value, std::vector<pending_group>& out) {
  if (!value.is_array())
    return "key \"groups\": " + quote(value) + " is not an array of groups";
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto& entry = value[i];
    auto where = "groups[" + std::to_string(i) + "]";
    if (!entry.is_object())
      return where + ": " + quote(entry) + " is not an object";
    pending_group pending;
    auto& group = pending.group;
    for (const auto& element : entry.items()) {
      // Named, not structured bindings: clang 14 (clang-tidy) cannot capture those.
      const auto& key = element.key();
      const auto& item = element.value();
      auto bad = [&](std::string_view expected) {
        return where + "." + key + ": " + quote(item) + " is not " + std::string{expected};
      };
      if (key == "name") {
        if (!item.is_string() || !is_valid_group_name(item.get_ref<const std::string&>()))
          return bad("a valid group name (1-128 chars of A-Za-z0-9_.:/-)");
        group.name = item.get<std::string>();
      } else if (key == "bit") {
        bool whole = item.is_number_unsigned();
        auto bit = whole ? item.get<std::uint64_t>() : 0;
        if (!whole || (bit & (bit - 1)) != 0)
          return bad("0 (no bit) or a power of two (1, 2, 4, ...)");
        group.bit = bit;
      } else if (key == "title") {
        if (!item.is_string())
          return bad("a string");
        group.title = item.get<std::string>();
      } else if (key == "notify") {
        auto notify = to_bool(item);
        if (!notify)
          return bad("true or false");
        group.notify = *notify;
      } else if (key == "history") {
        auto history = to_number(item, {{"", 1}});
        if (!history || *history > max_size)
          return bad("a non-negative integer");
        group.history = static_cast<std::size_t>(*history);
        pending.history_given = true;
      } else {
        return where + ": key \"" + key + "\" is unknown (name, bit, title, notify, history)";
      }
    }
    if (group.name.empty())
      return where + ": key \"name\" is missing";
    out.push_back(std::move(pending));
  }
  return {};
}

/// Applies the config file at `path` to `out` and `groups`. Returns an empty
/// string, or an error that names the path (and the key, when one is bad).
std::string load_file(const std::string& path, settings& out, std::vector<pending_group>& groups) {
  auto where = "config file " + path + ": ";
  std::error_code ignored; // a path that cannot be inspected fails at open below
  if (std::filesystem::is_directory(path, ignored))
    return where + "cannot be read: is a directory";
  std::ifstream file{path, std::ios::binary};
  if (!file)
    return where + "cannot be read: " + std::strerror(errno);
  std::string text;
  char chunk[64 * 1024];
  while (file.read(chunk, sizeof chunk) || file.gcount() > 0) {
    text.append(chunk, static_cast<std::size_t>(file.gcount()));
    if (text.size() > max_config_file_bytes)
      return where + "is larger than " + std::to_string(max_config_file_bytes) + " bytes";
  }
  if (file.bad())
    return where + "cannot be read: " + std::strerror(errno);
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix.
    std::string_view what = e.what();
    auto prefix_end = what.find("] ");
    if (prefix_end != std::string_view::npos)
      what.remove_prefix(prefix_end + 2);
    return where + "is not valid JSON: " + std::string{what};
  }
  if (!root.is_object())
    return where + "is not a JSON object of settings";
  for (const auto& [key, value] : root.items()) {
    std::string error;
    const flag_spec* flag = find_flag(key);
    if (key == "groups")
      error = read_groups(value, groups);
    else if (key == "config")
      error = "key \"config\" cannot be set in the config file";
    else if (flag == nullptr)
      error = "key \"" + key + "\" is unknown";
    else if (auto tail = apply(*flag, value, out); !tail.empty())
      error = "key \"" + key + "\": " + tail;
    if (!error.empty())
      return where + error;
  }
  return {};
}

std::string host_name() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof buffer - 1) != 0)
    return sanitize_node_name("");
  return sanitize_node_name(buffer);
}

// One flag as given on the command line, applied after the file and the
// environment.
struct given_flag {
  const flag_spec* flag;
  std::string value;
};

} // namespace

load_outcome load_settings(int argc, const char* const* argv,
                           const std::function<const char*(const char*)>& getenv_fn) {
  load_outcome outcome;
  settings& values = outcome.values;

  // Read every argument before reporting an error, so that `--help` wins.
  std::vector<given_flag> given;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      outcome.show_help = true;
      return outcome;
    }
    if (!outcome.error.empty())
      continue;
    if (arg.size() < 3 || arg.substr(0, 2) != "--") {
      outcome.error = "unexpected argument " + quote(std::string{arg}) + "; see --help";
      continue;
    }
    auto equals = arg.find('=');
    auto name
        = arg.substr(2, equals == std::string_view::npos ? std::string_view::npos : equals - 2);
    if (name == "groups") {
      outcome.error = "--groups: declared groups come only from the config file; see --help";
      continue;
    }
    const flag_spec* flag = find_flag(name);
    if (flag == nullptr) {
      outcome.error = "unknown flag --" + std::string{name} + "; see --help";
      continue;
    }
    bool next_is_value = i + 1 < argc && std::string_view{argv[i + 1]}.substr(0, 2) != "--";
    if (equals != std::string_view::npos)
      given.push_back({flag, std::string{arg.substr(equals + 1)}});
    else if (next_is_value)
      given.push_back({flag, argv[++i]});
    else if (flag->kind == value_kind::boolean)
      given.push_back({flag, "on"}); // a bare `--jsonp` means on
    else                             // a value that starts with "--" needs the --name=value form
      outcome.error = "--" + std::string{name} + ": missing value";
  }
  if (!outcome.error.empty())
    return outcome;

  auto read_env = [&getenv_fn](const std::string& variable) -> std::optional<std::string> {
    const char* text = getenv_fn ? getenv_fn(variable.c_str()) : nullptr;
    if (text == nullptr || *text == '\0')
      return std::nullopt;
    return std::string{text};
  };

  // The file is the lowest layer but its path comes from the higher ones.
  std::string path;
  if (auto env_path = read_env("HERALD_CONFIG"))
    path = *env_path;
  for (const auto& g : given)
    if (g.flag->name == "config")
      path = g.value;
  std::vector<pending_group> groups;
  if (!path.empty())
    outcome.error = load_file(path, values, groups);
  if (!outcome.error.empty())
    return outcome;
  for (auto section : all_flags)
    for (const auto& flag : section) {
      auto variable = env_name(flag.name);
      if (auto text = read_env(variable))
        if (auto tail = apply(flag, *text, values); !tail.empty()) {
          outcome.error = variable + ": " + tail;
          return outcome;
        }
    }
  for (const auto& g : given)
    if (auto tail = apply(*g.flag, g.value, values); !tail.empty()) {
      outcome.error = "--" + std::string{g.flag->name} + ": " + tail;
      return outcome;
    }

  values.config = path;
  if (values.node.empty())
    values.node = host_name();
  for (auto& pending : groups) {
    if (!pending.history_given)
      pending.group.history = values.history;
    values.groups.push_back(std::move(pending.group));
  }
  outcome.error = validate(values);
  return outcome;
}

namespace {

std::string describe_default(const flag_spec& flag, const settings& defaults) {
  if (!flag.default_note.empty())
    return std::string{flag.default_note};
  return std::visit(
      [&](auto member) -> std::string {
        const auto& value = defaults.*member;
        using type = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<type, std::string>)
          return value.empty() ? "none" : value;
        else if constexpr (std::is_same_v<type, std::vector<std::string>>)
          return value.empty() ? "none" : json(value).dump();
        else if constexpr (std::is_same_v<type, bool>)
          return flag.kind == value_kind::undeclared ? (value ? "allow" : "refuse")
                                                     : (value ? "on" : "off");
        else if constexpr (std::is_same_v<type, seconds>)
          return std::to_string(value.count()) + "s";
        else if constexpr (std::is_same_v<type, log_level>)
          return std::string{level_names[static_cast<std::size_t>(value)]};
        else if (flag.kind == value_kind::size && value % (1024 * 1024) == 0)
          return std::to_string(value / (1024 * 1024)) + "MiB";
        else if (flag.kind == value_kind::size && value % 1024 == 0)
          return std::to_string(value / 1024) + "KiB";
        else
          return std::to_string(value);
      },
      flag.field);
}

} // namespace

std::string help_text() {
  const settings defaults;
  std::string out
      = "Usage: herald [--FLAG VALUE | --FLAG=VALUE]...\n"
        "\n"
        "Herald, a clustered pub/sub server. Every flag is also read from the environment\n"
        "as HERALD_<FLAG> (upper case, '-' -> '_', e.g. HERALD_QUEUE_MAX=500; empty = unset)\n"
        "and from the JSON file named by --config, whose keys are the flag names plus\n"
        "\"groups\": [{\"name\", \"bit\", \"title\", \"notify\", \"history\"}, ...] for declared\n"
        "groups. Flags override the environment, which overrides the file.\n"
        "Booleans: on|off. DURATION: seconds, or with suffix s, m, h (90, 2m).\n"
        "SIZE: bytes, or with suffix KiB, MiB (65536, 64KiB, 1M).\n"
        "\n";
  const char* titles[] = {"Settings of the protocol [default]:\n", "\nLimits [default]:\n"};
  for (std::size_t i = 0; i < std::size(all_flags); ++i) {
    out += titles[i];
    for (const auto& flag : all_flags[i]) {
      auto head = "  --" + std::string{flag.name} + " " + std::string{flag.placeholder};
      head.resize(std::max<std::size_t>(head.size() + 1, 36), ' ');
      out += head + "[" + describe_default(flag, defaults) + "] " + std::string{flag.meaning}
             + "\n";
    }
  }
  out += "\n  -h, --help                        print this text and exit\n";
  return out;
}

} // namespace herald
