#pragma once

// The table of settings (one flag each) and the parsers of their values, shared
// by every layer of load_settings: the config file, the environment and the
// command line. Internal to http/command_line.cpp; the public interface is
// http/command_line.hpp.

#include "actors/settings.hpp"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace herald {

/// How the value of a setting is written and checked.
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

/// The field of `settings` that a flag sets.
using field_ptr
    = std::variant<std::string settings::*, std::vector<std::string> settings::*, bool settings::*,
                   std::chrono::seconds settings::*, std::size_t settings::*, unsigned settings::*,
                   log_level settings::*>;

/// One setting: its flag name (also its config-file key and, upper-cased, its
/// HERALD_ variable), how its value is read, and what --help says about it.
struct flag_spec {
  std::string_view name;
  value_kind kind;
  field_ptr field;
  std::string_view placeholder; // after the flag in --help
  std::string_view meaning;
  std::string_view default_note = {}; // when the default value itself says little
  bool optional = false;              // an empty address turns the feature off
};

/// Every flag in --help order, in two sections: [0] the settings the contract
/// fixes, [1] the limits it leaves to us.
using flag_table = std::array<std::span<const flag_spec>, 3>;

/// Returns the table of every flag; static storage, never empty.
const flag_table& flag_sections();

/// Returns the flag called `name` (without the leading "--"), or nullptr when
/// there is none.
const flag_spec* find_flag(std::string_view name);

/// Sets the field of `flag` in `out` from `value` (a JSON string for flags and
/// variables; any JSON from the file). Returns an empty string, or the tail of
/// the error message: the quoted value and what it should have been. Leaves
/// `out` untouched on error; never throws on bad input.
std::string apply_flag(const flag_spec& flag, const nlohmann::json& value, settings& out);

/// Returns a JSON boolean as it is, or on/true/1/yes and off/false/0/no in any
/// case; nullopt for anything else.
std::optional<bool> parse_bool(const nlohmann::json& value);

/// Returns a non-negative JSON integer, or a string of decimal digits, that
/// fits a std::size_t; nullopt for anything else (signs, fractions, units).
std::optional<std::size_t> parse_count(const nlohmann::json& value);

/// Returns `value` as one line of JSON, invalid UTF-8 replaced, for quoting a
/// bad value in an error message whatever bytes it holds.
std::string quote_value(const nlohmann::json& value);

/// Returns the name --log-level takes for `level` ("debug", "info", ...).
std::string_view level_name(log_level level);

} // namespace herald
