// herald-cli: a command-line Herald client. Events and replies go to stdout
// as JSON lines, status and errors to stderr; commands come from stdin.
// docs/native-client.md describes the whole interface.

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "tools/cli/cli_options.hpp"
#include "tools/cli/exit_codes.hpp"
#include "tools/cli/stdin_lines.hpp"
#include "tools/cli/text_command.hpp"
#include "tools/client/client.hpp"

namespace {

using herald::client::json;
namespace cli = herald::cli;
namespace hc = herald::client;

// One line of JSON on stdout, flushed at once: a reader of a pipe sees every
// line as it happens.
void print_line(const json& value) {
  auto text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  text += '\n';
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

class status_printer {
public:
  explicit status_printer(bool quiet) : quiet_(quiet) {}

  void status(const std::string& text) const {
    if (!quiet_)
      std::fprintf(stderr, "herald-cli: %s\n", text.c_str());
  }
  static void error(const std::string& text) {
    std::fprintf(stderr, "herald-cli: error: %s\n", text.c_str());
  }

private:
  bool quiet_;
};

int exit_code_of(hc::stop_reason reason) {
  switch (reason) {
    case hc::stop_reason::requested: return cli::exit_ok;
    case hc::stop_reason::unreachable: return cli::exit_unreachable;
    case hc::stop_reason::refused: return cli::exit_refused;
    case hc::stop_reason::superseded:
    case hc::stop_reason::failed: return cli::exit_failed;
  }
  return cli::exit_failed;
}

json rejoin_line(const hc::rejoin_report& report) {
  json line = {{"type", "rejoined"},
               {"group", report.group},
               {"recovered", report.recovered},
               {"since", {{"seq", report.since.seq}, {"epoch", report.since.epoch}}}};
  if (auto seq = report.result.find("seq"); seq != report.result.end())
    line["seq"] = *seq;
  if (auto epoch = report.result.find("epoch"); epoch != report.result.end())
    line["epoch"] = *epoch;
  return line;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args;
  // HERALD_TOKEN first, so that --token on the command line wins.
  if (const char* token = std::getenv("HERALD_TOKEN"); token != nullptr && *token != '\0')
    args = {"--token", token};
  args.insert(args.end(), argv + 1, argv + argc);
  auto parsed = cli::parse_command_line(args);
  if (parsed.options.show_help) {
    std::fputs(cli::help_text().c_str(), stdout);
    return cli::exit_ok;
  }
  if (!parsed.error.empty()) {
    std::fprintf(stderr, "herald-cli: %s\nTry 'herald-cli --help'.\n", parsed.error.c_str());
    return cli::exit_usage;
  }
  const auto& options = parsed.options;
  status_printer printer{options.quiet};

  boost::asio::io_context io;
  std::optional<int> exit_code;

  hc::client_handlers handlers;
  handlers.on_event = [](const json& event) { print_line(event); };
  handlers.on_session = [&](const json& result) {
    json line = {{"type", "session"}};
    for (const auto& [key, value] : result.items())
      line[key] = value;
    print_line(line);
    printer.status("entered as " + result.value("user", "?") + ", session "
                   + result.value("session", "?"));
  };
  handlers.on_rejoin = [&](const hc::rejoin_report& report) {
    print_line(rejoin_line(report));
    if (!report.recovered)
      printer.status("rejoined " + report.group
                     + " without recovery: messages sent while disconnected may be missing");
  };
  handlers.on_status = [&](const std::string& text) { printer.status(text); };

  // Both are stopped by `finish`, from inside the client's last handler; the
  // client is declared after them and so destroyed first.
  std::optional<cli::stdin_lines> input;
  boost::asio::signal_set signals{io, SIGINT, SIGTERM};
  handlers.on_stopped = [&](const hc::stop_report& report) {
    exit_code = exit_code_of(report.reason);
    if (report.reason == hc::stop_reason::requested)
      printer.status(report.message);
    else
      status_printer::error(report.message);
    if (report.unsent > 0)
      status_printer::error(std::to_string(report.unsent) + " command(s) were not sent");
    signals.cancel();
    // The stdin thread may sit in a read; stopping it lets io.run() return.
    input.reset();
  };
  hc::client client{io.get_executor(), options.client, handlers};

  auto on_line = [&](std::string line) {
    if (exit_code)
      return;
    auto command = cli::parse_text_command(line);
    switch (command.what) {
      case cli::text_command::kind::empty: return;
      case cli::text_command::kind::help: return printer.status(cli::text_command_help());
      case cli::text_command::kind::invalid: return status_printer::error(command.error);
      case cli::text_command::kind::quit: return client.stop();
      case cli::text_command::kind::call: break;
    }
    auto typed = std::string{line};
    client.submit(command.method, command.params,
                  [typed, method = command.method](const json& reply) {
                    json out = {{"type", "reply"}, {"command", typed}, {"method", method}};
                    for (const auto& [key, value] : reply.items())
                      out[key] = value;
                    print_line(out);
                  });
  };
  input.emplace(STDIN_FILENO, io.get_executor(), on_line, [&] { client.stop(); });
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec)
      client.stop();
  });

  client.start();
  io.run();
  return exit_code.value_or(cli::exit_failed);
}
