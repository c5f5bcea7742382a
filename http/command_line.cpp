#include "http/command_line.hpp"

#include "actors/names.hpp"
#include "http/setting_flags.hpp"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string_view>
#include <type_traits>
#include <variant>

namespace herald {

namespace {

using json = nlohmann::json;
using std::chrono::seconds;

// A config file is a few kilobytes; the cap keeps a wrong path (a disk image,
// /dev/zero) from eating the node's memory before the JSON parser objects.
constexpr std::size_t max_config_file_bytes = std::size_t{16} * 1024 * 1024;

std::string env_name(std::string_view flag) {
  std::string out = "HERALD_";
  for (char c : flag)
    out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
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
    return "key \"groups\": " + quote_value(value) + " is not an array of groups";
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto& entry = value[i];
    auto where = "groups[" + std::to_string(i) + "]";
    if (!entry.is_object())
      return where + ": " + quote_value(entry) + " is not an object";
    pending_group pending;
    auto& group = pending.group;
    for (const auto& element : entry.items()) {
      // Named, not structured bindings: clang 14 (clang-tidy) cannot capture those.
      const auto& key = element.key();
      const auto& item = element.value();
      auto bad = [&](std::string_view expected) {
        return where + "." + key + ": " + quote_value(item) + " is not " + std::string{expected};
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
        auto notify = parse_bool(item);
        if (!notify)
          return bad("true or false");
        group.notify = *notify;
      } else if (key == "history") {
        auto history = parse_count(item);
        if (!history)
          return bad("a non-negative integer");
        group.history = *history;
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
  // json::parse() would stop at a NUL and ignore the rest of the file.
  if (auto nul = text.find('\0'); nul != std::string::npos)
    return where + "is not valid JSON: a NUL byte at offset " + std::to_string(nul);
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {
    // Not only parse_error: a number beyond double (1e400) is an out_of_range (406), which
    // escaped here and ended the process (found by tests/fuzz/config_file.cpp).
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
    else if (auto tail = apply_flag(*flag, value, out); !tail.empty())
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
      outcome.error = "unexpected argument " + quote_value(std::string{arg}) + "; see --help";
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
  for (auto section : flag_sections())
    for (const auto& flag : section) {
      auto variable = env_name(flag.name);
      if (auto text = read_env(variable))
        if (auto tail = apply_flag(flag, *text, values); !tail.empty()) {
          outcome.error = variable + ": " + tail;
          return outcome;
        }
    }
  for (const auto& g : given)
    if (auto tail = apply_flag(*g.flag, g.value, values); !tail.empty()) {
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
          return std::string{level_name(value)};
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
  constexpr const char* titles[] = {"Settings of the protocol [default]:\n",
                                    "\nCluster [default]:\n", "\nLimits [default]:\n"};
  static_assert(std::size(titles) == std::tuple_size_v<flag_table>, "one title per section");
  const auto& sections = flag_sections();
  for (std::size_t i = 0; i < std::size(titles); ++i) {
    out += titles[i];
    for (const auto& flag : sections[i]) {
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