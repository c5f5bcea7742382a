#include "tools/cli/cli_options.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <optional>
#include <string_view>

namespace herald::cli {

namespace {

constexpr const char* default_url = "http://127.0.0.1:8080";

// Reads a whole decimal number within [low, high].
std::optional<unsigned> read_number(std::string_view text, unsigned low, unsigned high) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < low || value > high)
    return std::nullopt;
  return value;
}

std::optional<client::transport_kind> read_transport(std::string_view text) {
  if (text == "websocket" || text == "ws")
    return client::transport_kind::websocket;
  if (text == "longpoll" || text == "long-poll")
    return client::transport_kind::longpoll;
  if (text == "sse")
    return client::transport_kind::sse;
  return std::nullopt;
}

// Splits "a,b,,c" into its non-empty parts.
void append_groups(std::string_view list, std::vector<std::string>& groups) {
  while (!list.empty()) {
    auto comma = list.find(',');
    auto part = list.substr(0, comma);
    if (!part.empty())
      groups.emplace_back(part);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
  }
}

} // namespace

parse_outcome parse_command_line(const std::vector<std::string>& args) {
  parse_outcome out;
  auto& options = out.options;
  std::string url_text = default_url;
  bool have_user = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      options.show_help = true;
      continue;
    }
    if (arg == "--heartbeats") {
      options.client.deliver_heartbeats = true;
      continue;
    }
    if (arg == "--quiet" || arg == "-q") {
      options.quiet = true;
      continue;
    }
    if (!arg.starts_with("--")) {
      out.error = "unexpected argument '" + std::string{arg} + "'";
      return out;
    }
    auto equals = arg.find('=');
    auto flag = arg.substr(0, equals);
    static constexpr std::string_view flags_with_values[]
        = {"--url",       "--user",          "--join",      "--transport", "--lease",
           "--queue-max", "--give-up-after", "--retry-max", "--token"};
    if (std::find(std::begin(flags_with_values), std::end(flags_with_values), flag)
        == std::end(flags_with_values)) {
      out.error = "unknown flag '" + std::string{flag} + "' (see --help)";
      return out;
    }
    std::string value;
    if (equals != std::string_view::npos) {
      value = std::string{arg.substr(equals + 1)};
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      out.error = std::string{flag} + " needs a value";
      return out;
    }
    auto bad = [&](const std::string& why) {
      out.error = std::string{flag} + ": " + why;
      return out;
    };
    if (flag == "--url") {
      url_text = value;
    } else if (flag == "--user") {
      if (value.empty())
        return bad("the user name must not be empty");
      options.client.user = value;
      have_user = true;
    } else if (flag == "--token") {
      if (value.empty())
        return bad("the token must not be empty");
      options.client.token = value;
    } else if (flag == "--join") {
      append_groups(value, options.client.groups);
    } else if (flag == "--transport") {
      auto kind = read_transport(value);
      if (!kind)
        return bad("expected websocket, longpoll or sse, not '" + value + "'");
      options.client.transport = *kind;
    } else if (flag == "--lease") {
      auto seconds = read_number(value, 1, 86400);
      if (!seconds)
        return bad("expected seconds between 1 and 86400, not '" + value + "'");
      options.client.lease = *seconds;
    } else if (flag == "--queue-max") {
      auto count = read_number(value, 1, 100000);
      if (!count)
        return bad("expected a number between 1 and 100000, not '" + value + "'");
      options.client.max_queued_commands = *count;
    } else if (flag == "--give-up-after") {
      auto seconds = read_number(value, 0, 86400 * 365);
      if (!seconds)
        return bad("expected seconds (0 = never give up), not '" + value + "'");
      options.client.give_up_after = std::chrono::seconds{*seconds};
    } else if (flag == "--retry-max") {
      auto ms = read_number(value, 1, 3'600'000);
      if (!ms)
        return bad("expected milliseconds between 1 and 3600000, not '" + value + "'");
      options.client.backoff.maximum = std::chrono::milliseconds{*ms};
      if (options.client.backoff.initial > options.client.backoff.maximum)
        options.client.backoff.initial = options.client.backoff.maximum;
    }
  }
  if (options.show_help)
    return out;
  std::string url_error;
  auto url = client::parse_server_url(url_text, url_error);
  if (!url) {
    out.error = "--url: " + url_error;
    return out;
  }
  options.client.url = *url;
  if (!have_user && options.client.token.empty())
    out.error = "--user is required (the name others see), or --token (its sub names you)";
  return out;
}

std::string help_text() {
  return R"(Usage: herald-cli --user NAME|--token JWT [--url URL] [--join GROUP[,GROUP…]]… [options]

A command-line client for a Herald server. Prints events and replies on stdout,
one JSON object per line; reads commands from stdin, one per line; reports
progress and errors on stderr. Reconnects and resumes by itself.

Options:
  --url URL              server base URL [http://127.0.0.1:8080]
  --user NAME            user name to enter as (required unless --token)
  --token JWT            token for a server with authentication on; its sub is
                         the user (also read from HERALD_TOKEN, which ps does not show)
  --join GROUP[,GROUP…]  join these groups on entering; may repeat
  --transport KIND       websocket (default), longpoll or sse
  --lease SECONDS        session lease to ask for [server default]
  --queue-max N          commands kept while disconnected [100]
  --give-up-after SEC    exit 3 after this long without a connection [0: never]
  --retry-max MS         longest delay between reconnection attempts [10000]
  --heartbeats           print heartbeat frames too
  -q, --quiet            no status lines on stderr (errors still)
  -h, --help             this text

Commands (stdin):
  say GROUP TEXT         speak {"text": TEXT} to GROUP
  send USER TEXT         send {"text": TEXT} to USER's sessions
  join GROUP             join GROUP
  leave GROUP            leave GROUP
  who GROUP              presence of GROUP
  history GROUP [N]      the last N (all) messages of GROUP
  call METHOD [JSON]     any method, with JSON params (session is added)
  quit                   exit the session and stop (so does end of input)

Output (stdout), one JSON object per line:
  events as the server sent them   {"type":"message","eid":3,…}
  {"type":"session",…}             a session was entered (the enter result)
  {"type":"reply","command":"who lobby","method":"presence","result":{…}}
  {"type":"reply",…,"error":{"code","message"}}
  {"type":"rejoined","group":…,"recovered":false,…}  after the session was lost

Exit codes: 0 quit or end of input; 1 other failure (e.g. superseded);
2 bad usage; 3 server unreachable; 4 server refused (e.g. invalid user name).
)";
}

} // namespace herald::cli
