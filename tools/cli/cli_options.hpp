#pragma once

// herald-cli's command line, parsed into client options.

#include <string>
#include <vector>

#include "tools/client/client.hpp"

namespace herald::cli {

/// What the command line asked for.
struct cli_options {
  client::client_options client;
  bool show_help = false;
  bool quiet = false; ///< no status lines on stderr (errors still)
};

/// The outcome of parsing: options, or a message for a usage error.
struct parse_outcome {
  cli_options options;
  std::string error; ///< non-empty: a usage error, names the flag
};

/// Parses argv[1..]. Flags take their value as the next argument or after
/// `=` (`--user bob`, `--user=bob`); `--join` repeats and takes comma lists.
/// `--url` defaults to http://127.0.0.1:8080; `--user` is required (unless
/// `--help`).
parse_outcome parse_command_line(const std::vector<std::string>& args);

/// The text `--help` prints.
std::string help_text();

} // namespace herald::cli
