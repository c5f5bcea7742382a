#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "actors/settings.hpp"

namespace herald::log {

/// Sets the lowest level written; lines below it are dropped before any
/// formatting happens.
void set_level(log_level level);

/// Returns true if a line of `level` would be written.
bool enabled(log_level level);

using field = std::pair<std::string_view, std::string>;

/// Writes one JSON line to stderr:
/// {"ts":"2026-11-21T09:00:00.123Z","level":"info","msg":"…","key":"value",…}.
/// Lines from different threads never interleave.
void write(log_level level, std::string_view message, std::initializer_list<field> fields = {});

inline void debug(std::string_view m, std::initializer_list<field> f = {}) {
  if (enabled(log_level::debug))
    write(log_level::debug, m, f);
}
inline void info(std::string_view m, std::initializer_list<field> f = {}) {
  write(log_level::info, m, f);
}
inline void warn(std::string_view m, std::initializer_list<field> f = {}) {
  write(log_level::warn, m, f);
}
inline void error(std::string_view m, std::initializer_list<field> f = {}) {
  write(log_level::error, m, f);
}

} // namespace herald::log
