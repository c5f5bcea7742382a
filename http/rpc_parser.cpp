#include "http/rpc_parser.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <unordered_set>
#include <utility>

#include "actors/names.hpp"

namespace herald {

namespace {

using json = nlohmann::json;

// A field reader returns nullopt on success, else the reply to send.
using failure = std::optional<reply>;

failure bad_request(std::string message) {
  return make_failure("bad_request", std::move(message));
}

// A param as the client named it: the canonical name, else its alias. The
// error message names the key the client actually sent.
struct param {
  const json* value = nullptr;
  std::string field; ///< "params.chatId"

  explicit operator bool() const { return value != nullptr; }
};

param find_param(const json& params, const char* canonical, const char* alias = nullptr) {
  if (auto it = params.find(canonical); it != params.end())
    return {&*it, std::string{"params."} + canonical};
  if (alias != nullptr)
    if (auto it = params.find(alias); it != params.end())
      return {&*it, std::string{"params."} + alias};
  return {nullptr, std::string{"params."} + canonical};
}

// Returns the value of a JSON number that is a non-negative integer that
// fits 64 bits (1.0 counts; 1.5, -1, 2^64, strings and bools do not).
std::optional<std::uint64_t> to_unsigned(const json& v) {
  if (v.is_number_unsigned())
    return v.get<std::uint64_t>();
  if (v.is_number_integer()) {
    auto x = v.get<std::int64_t>();
    if (x < 0)
      return std::nullopt;
    return static_cast<std::uint64_t>(x);
  }
  if (v.is_number_float()) {
    double x = v.get<double>();
    // 2^64 is exact as a double; everything below it converts exactly.
    if (!std::isfinite(x) || x < 0 || x != std::trunc(x) || x >= 18446744073709551616.0)
      return std::nullopt;
    return static_cast<std::uint64_t>(x);
  }
  return std::nullopt;
}

// Returns the value of a JSON number that is an integer within int64.
std::optional<std::int64_t> to_signed(const json& v) {
  if (v.is_number_unsigned()) {
    auto x = v.get<std::uint64_t>();
    if (x > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return std::nullopt;
    return static_cast<std::int64_t>(x);
  }
  if (v.is_number_integer())
    return v.get<std::int64_t>();
  if (v.is_number_float()) {
    double x = v.get<double>();
    // A float of exactly -2^63 is what texts just below int64 round to
    // (-9223372036854775809); the real minimum parses as an integer.
    if (!std::isfinite(x) || x != std::trunc(x) || x <= -9223372036854775808.0
        || x >= 9223372036854775808.0)
      return std::nullopt;
    return static_cast<std::int64_t>(x);
  }
  return std::nullopt;
}

// Reads `session` (alias chatId).
failure read_session(const json& params, bool required, std::string& out) {
  auto p = find_param(params, "session", "chatId");
  if (!p)
    return required ? bad_request(p.field + ": required") : std::nullopt;
  if (!p.value->is_string() || !is_valid_session_id(p.value->get_ref<const std::string&>()))
    return bad_request(p.field + ": must be a string of 1-64 characters of [A-Za-z0-9_-]");
  out = p.value->get<std::string>();
  return std::nullopt;
}

// Reads a required user name (enter's `user`, send's `to`).
failure read_user_name(const param& p, std::string& out) {
  if (!p)
    return bad_request(p.field + ": required");
  if (!p.value->is_string() || !is_valid_user_name(p.value->get_ref<const std::string&>()))
    return bad_request(p.field + ": must be a string of 1-64 characters");
  out = p.value->get<std::string>();
  return std::nullopt;
}

// Reads one group name and checks that it may be used.
failure read_group_name(const json& v, const std::string& field, const settings& s,
                        std::string& out) {
  if (!v.is_string() || !is_valid_group_name(v.get_ref<const std::string&>()))
    return bad_request(field + ": must be a group name of 1-128 characters of [A-Za-z0-9_.:/-]");
  const auto& name = v.get_ref<const std::string&>();
  if (!s.allow_undeclared_groups && s.find_declared(name) == nullptr)
    return make_failure("not_found", field + ": group \"" + name + "\" is not declared");
  out = name;
  return std::nullopt;
}

// Reads the required `group` of join, leave, presence and history.
failure read_group(const json& params, const settings& s, std::string& out) {
  auto p = find_param(params, "group");
  if (!p)
    return bad_request(p.field + ": required");
  return read_group_name(*p.value, p.field, s, out);
}

// Reads an array of group names into `out`, dropping repeats (first one
// kept). More than `max_groups` distinct names is forbidden; the check runs
// as names arrive so that a huge array costs no more than the limit.
failure read_group_array(const json& array, const std::string& field, const settings& s,
                         std::size_t max_groups, std::vector<std::string>& out) {
  std::unordered_set<std::string> seen;
  for (std::size_t i = 0; i < array.size(); ++i) {
    std::string name;
    if (auto failed = read_group_name(array[i], field + "[" + std::to_string(i) + "]", s, name))
      return failed;
    if (!seen.insert(name).second)
      continue;
    if (out.size() == max_groups)
      return make_failure("forbidden", field + ": more than max-groups-per-session ("
                                           + std::to_string(max_groups) + ") groups");
    out.push_back(std::move(name));
  }
  return std::nullopt;
}

// Reads enter's `groups`: an array of names or a bitmask over declared groups.
failure read_enter_groups(const json& params, const settings& s, std::vector<std::string>& out) {
  auto p = find_param(params, "groups");
  if (!p)
    return std::nullopt;
  if (p.value->is_array())
    return read_group_array(*p.value, p.field, s, s.max_groups_per_session, out);
  auto mask = to_unsigned(*p.value);
  if (!mask)
    return bad_request(p.field
                       + ": must be an array of group names or a non-negative integer bitmask");
  // Ascending bit order, so that a mask names its groups in a stable order.
  for (unsigned index = 0; index < 64; ++index) {
    std::uint64_t bit = std::uint64_t{1} << index;
    if ((*mask & bit) == 0)
      continue;
    const auto* group = s.find_declared_bit(bit);
    if (group == nullptr)
      return bad_request(p.field + ": bit " + std::to_string(bit) + " names no declared group");
    if (out.size() == s.max_groups_per_session)
      return make_failure("forbidden", p.field + ": more than max-groups-per-session ("
                                           + std::to_string(s.max_groups_per_session) + ") groups");
    out.push_back(group->name);
  }
  return std::nullopt;
}

// Reads the required `data` (alias message) of speak and send, serialized.
failure read_data(const json& params, const settings& s, std::string& out) {
  auto p = find_param(params, "data", "message");
  if (!p)
    return bad_request(p.field + ": required");
  if (!nests_within(*p.value, max_data_depth))
    return bad_request(p.field + ": nests deeper than " + std::to_string(max_data_depth)
                       + " levels");
  try {
    out = p.value->dump();
  } catch (const json::type_error&) {
    // Only JSON built in code can hold invalid UTF-8; a parsed body cannot.
    return bad_request(p.field + ": is not valid UTF-8");
  }
  if (out.size() > s.max_data)
    return make_failure("too_large", p.field + ": " + std::to_string(out.size())
                                         + " bytes exceeds max-data " + std::to_string(s.max_data));
  return std::nullopt;
}

// Reads an optional non-negative integer param.
failure read_unsigned(const json& params, const char* name, std::optional<std::uint64_t>& out) {
  auto p = find_param(params, name);
  if (!p)
    return std::nullopt;
  out = to_unsigned(*p.value);
  if (!out)
    return bad_request(p.field + ": must be a non-negative integer");
  return std::nullopt;
}

failure read_cursor(const json& params, std::uint64_t& out) {
  std::optional<std::uint64_t> cursor;
  if (auto failed = read_unsigned(params, "cursor", cursor))
    return failed;
  out = cursor.value_or(0);
  return std::nullopt;
}

failure read_token(const json& params, command_params& out) {
  if (auto p = find_param(params, "token")) {
    if (!p.value->is_string())
      return bad_request(p.field + ": must be a string");
    out.token = p.value->get<std::string>();
  }
  return std::nullopt;
}

failure read_enter(const json& params, const settings& s, command_params& out) {
  auto user = find_param(params, "user", "userId");
  // With authentication on the token's sub names the user.
  if (user || !s.authentication_on())
    if (auto failed = read_user_name(user, out.user))
      return failed;
  if (auto failed = read_enter_groups(params, s, out.groups))
    return failed;
  if (auto p = find_param(params, "lease")) {
    out.lease = to_signed(*p.value);
    if (!out.lease)
      return bad_request(p.field + ": must be an integer number of seconds");
  }
  return read_token(params, out);
}

failure read_join(const json& params, const settings& s, command_params& out) {
  if (auto failed = read_group(params, s, out.group))
    return failed;
  auto p = find_param(params, "since");
  if (!p)
    return std::nullopt;
  if (!p.value->is_object())
    return bad_request(p.field + ": must be an object {\"seq\",\"epoch\"}");
  auto seq = p.value->find("seq");
  if (seq == p.value->end())
    return bad_request(p.field + ".seq: required");
  auto seq_value = to_unsigned(*seq);
  if (!seq_value)
    return bad_request(p.field + ".seq: must be a non-negative integer");
  auto epoch = p.value->find("epoch");
  if (epoch == p.value->end())
    return bad_request(p.field + ".epoch: required");
  if (!epoch->is_string())
    return bad_request(p.field + ".epoch: must be a string");
  out.since = since_point{true, *seq_value, epoch->get<std::string>()};
  return std::nullopt;
}

failure read_history(const json& params, const settings& s, command_params& out) {
  if (auto failed = read_group(params, s, out.group))
    return failed;
  if (auto failed = read_unsigned(params, "since", out.history_since))
    return failed;
  if (auto failed = read_unsigned(params, "limit", out.limit))
    return failed;
  if (out.limit && *out.limit == 0)
    return bad_request("params.limit: must be a positive integer");
  return std::nullopt;
}

failure read_speak(const json& params, const settings& s, command_params& out) {
  auto group = find_param(params, "group");
  auto groups = find_param(params, "groups");
  if (group && groups)
    return bad_request("params: give either params.group or params.groups, not both");
  if (group) {
    std::string name;
    if (auto failed = read_group_name(*group.value, group.field, s, name))
      return failed;
    out.groups.push_back(std::move(name));
  } else if (groups) {
    if (!groups.value->is_array() || groups.value->empty())
      return bad_request(groups.field + ": must be a non-empty array of group names");
    if (auto failed = read_group_array(*groups.value, groups.field, s,
                                       std::numeric_limits<std::size_t>::max(), out.groups))
      return failed;
  } else {
    return bad_request("params.group: required (or params.groups)");
  }
  return read_data(params, s, out.data);
}

failure read_send(const json& params, const settings& s, command_params& out) {
  if (auto failed = read_user_name(find_param(params, "to", "userId"), out.to))
    return failed;
  return read_data(params, s, out.data);
}

failure read_listen(const json& params, command_params& out) {
  if (auto failed = read_cursor(params, out.cursor))
    return failed;
  if (auto p = find_param(params, "timeout")) {
    if (!p.value->is_number() || !std::isfinite(p.value->get<double>())
        || p.value->get<double>() < 0)
      return bad_request(p.field + ": must be a non-negative number of seconds");
    out.timeout = p.value->get<double>();
  }
  return std::nullopt;
}

// Reads the params of `verb`, session first.
failure read_params(method verb, const json& params, const settings& s, command_params& out) {
  if (verb != method::enter)
    if (auto failed = read_session(params, verb != method::ping, out.session))
      return failed;
  switch (verb) {
    case method::enter: return read_enter(params, s, out);
    case method::join: return read_join(params, s, out);
    case method::leave:
    case method::presence: return read_group(params, s, out.group);
    case method::history: return read_history(params, s, out);
    case method::speak: return read_speak(params, s, out);
    case method::send: return read_send(params, s, out);
    case method::listen: return read_listen(params, out);
    case method::attach: return read_cursor(params, out.cursor);
    case method::ping: return read_token(params, out);
    case method::exit: return std::nullopt;
  }
  return std::nullopt;
}

constexpr std::array<std::pair<std::string_view, method>, 12> method_names{{
    {"enter", method::enter},
    {"exit", method::exit},
    {"join", method::join},
    {"leave", method::leave},
    {"speak", method::speak},
    {"send", method::send},
    {"sendUserMessage", method::send}, // SocketPro's name
    {"listen", method::listen},
    {"presence", method::presence},
    {"history", method::history},
    {"attach", method::attach},
    {"ping", method::ping},
}};

std::optional<method> find_method(std::string_view name) {
  for (const auto& [known, verb] : method_names)
    if (known == name)
      return verb;
  return std::nullopt;
}

// Quotes a client-chosen name for an error message, cut to a sane length.
std::string quote_name(std::string_view name) {
  constexpr std::size_t max_shown = 64;
  if (name.size() <= max_shown)
    return "\"" + std::string{name} + "\"";
  auto cut = max_shown;
  // Cut at a character boundary: never inside a UTF-8 sequence.
  while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80)
    --cut;
  return "\"" + std::string{name.substr(0, cut)} + "\"…";
}

} // namespace

parse_outcome parse_command(const json& frame, const settings& s) {
  parse_outcome out;
  auto fail = [&out](reply r) {
    out.failure = std::move(r);
    return std::move(out);
  };
  if (!frame.is_object())
    return fail(make_failure("bad_request", "frame: must be a JSON object"));
  if (auto id = frame.find("id"); id != frame.end()) {
    if (id->is_structured())
      return fail(make_failure("bad_request",
                               "id: must be a JSON scalar (string, number, boolean or null)"));
    out.cmd.id = *id;
    out.cmd.has_id = true;
  }
  auto name = frame.find("method");
  if (name == frame.end())
    return fail(make_failure("bad_request", "method: required"));
  if (!name->is_string())
    return fail(make_failure("bad_request", "method: must be a string"));
  auto verb = find_method(name->get_ref<const std::string&>());
  if (!verb)
    return fail(make_failure("not_found",
                             "unknown method " + quote_name(name->get_ref<const std::string&>())));
  out.cmd.verb = *verb;
  static const json no_params = json::object();
  const json* params = &no_params;
  if (auto given = frame.find("params"); given != frame.end()) {
    if (!given->is_object())
      return fail(make_failure("bad_request", "params: must be an object"));
    params = &*given;
  }
  if (auto failed = read_params(*verb, *params, s, out.cmd.params))
    return fail(std::move(*failed));
  return out;
}

json parse_json_text(std::string_view text) {
  // A raw NUL is never valid JSON text (not whitespace, not allowed unescaped in a string), but
  // json::parse() stops at it: `{"method":"ping"}\0<anything>` was accepted as a ping (found by
  // tests/fuzz/command_json.cpp).
  if (text.find('\0') != std::string_view::npos)
    return json::value_t::discarded;
  return json::parse(text, nullptr, false);
}

body_outcome parse_rpc_body(std::string_view body, const settings& s) {
  body_outcome out;
  auto parsed = parse_json_text(body);
  if (parsed.is_discarded()) {
    out.failure = make_failure("bad_request", "body is not valid JSON");
    return out;
  }
  if (!parsed.is_array()) {
    out.commands.push_back(parse_command(parsed, s));
    return out;
  }
  out.batch = true;
  if (parsed.empty()) {
    out.failure = make_failure("bad_request", "empty batch");
    return out;
  }
  if (parsed.size() > s.max_batch) {
    out.failure = make_failure("too_large", "batch of " + std::to_string(parsed.size())
                                                + " commands exceeds max-batch "
                                                + std::to_string(s.max_batch));
    return out;
  }
  out.commands.reserve(parsed.size());
  for (const auto& frame : parsed)
    out.commands.push_back(parse_command(frame, s));
  return out;
}

// Iterative on purpose: this guards the recursive dump() against deep input.
bool nests_within(const json& v, std::size_t limit) {
  std::vector<std::pair<const json*, std::size_t>> pending{{&v, 0}};
  while (!pending.empty()) {
    auto [node, depth] = pending.back();
    pending.pop_back();
    if (!node->is_structured())
      continue;
    if (depth == limit)
      return false;
    for (const auto& child : *node)
      pending.emplace_back(&child, depth + 1);
  }
  return true;
}

} // namespace herald
