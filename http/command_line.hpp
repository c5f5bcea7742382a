#pragma once

#include "actors/settings.hpp"

#include <functional>
#include <string>

namespace herald {

/// What load_settings found: the settings, or a request for help, or an error.
struct load_outcome {
  settings values;
  bool show_help = false; ///< --help / -h given: caller prints help_text() and exits 0
  std::string error;      ///< non-empty: caller prints it and exits 2
};

/// Loads settings: defaults < JSON config file < environment (HERALD_<FLAG>) <
/// command-line flags. The config file is named by `--config` or, failing
/// that, HERALD_CONFIG. `getenv_fn` returns a variable's value or nullptr
/// (pass `std::getenv` in production; an empty function reads no variables);
/// an empty variable counts as unset. Returns show_help=true as soon as
/// `--help` or `-h` appears anywhere. On any bad flag, variable, file, key or
/// value returns a one-line `error` that names where the bad value came from
/// and the value itself; the same for an inconsistency found by validate().
/// Never throws on bad input.
load_outcome load_settings(int argc, const char* const* argv,
                           const std::function<const char*(const char*)>& getenv_fn);

/// Returns the --help text: a usage line, then every flag with its default in
/// brackets and a one-line meaning, the contract's flags before the limits.
std::string help_text();

} // namespace herald
