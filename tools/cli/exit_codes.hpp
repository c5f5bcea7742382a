#pragma once

// herald-cli's exit codes, documented in docs/native-client.md.

namespace herald::cli {

enum exit_code : int {
  exit_ok = 0,          ///< `quit`, end of input, or a signal
  exit_failed = 1,      ///< anything else: superseded, the stream can never work, a bug
  exit_usage = 2,       ///< bad command line
  exit_unreachable = 3, ///< the server could not be reached (or not again in time)
  exit_refused = 4,     ///< the server refused the session (its error is printed)
};

} // namespace herald::cli
