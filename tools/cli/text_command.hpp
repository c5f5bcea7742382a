#pragma once

// The commands a person types into herald-cli, turned into command frames.

#include <string>
#include <string_view>

#include "tools/client/link_problem.hpp"

namespace herald::cli {

/// One parsed input line.
struct text_command {
  enum class kind {
    empty,   ///< a blank line or a `#` comment: nothing to do
    call,    ///< send `method` with `params`
    quit,    ///< stop
    help,    ///< print the command list
    invalid, ///< `error` says what is wrong
  };
  kind what = kind::empty;
  std::string method;
  client::json params = client::json::object();
  std::string error;
};

/// Parses one line: `say GROUP TEXT`, `send USER TEXT`, `join GROUP`,
/// `leave GROUP`, `who GROUP`, `history GROUP [LIMIT]`, `call METHOD [JSON]`,
/// `quit`, `help`. Words are separated by spaces or tabs; TEXT is the rest of
/// the line as typed (inner spaces kept) and travels as `{"text": TEXT}`.
/// Never throws.
text_command parse_text_command(std::string_view line);

/// The command list `help` prints.
const char* text_command_help();

} // namespace herald::cli
