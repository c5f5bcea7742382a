#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include <caf/all.hpp>

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

namespace herald {

/// Makes a long-lived actor survive what it did not expect: an unexpected
/// message is logged and dropped, and an error message (by CAF 0.17's
/// default, fatal) is logged and ignored. A stray message must never take a
/// group or a session down with it.
template <class Self>
void ignore_strays(Self* self) {
  self->set_default_handler(
      [self](caf::scheduled_actor*, caf::message_view& view) -> caf::result<caf::message> {
        log::warn(
            "unexpected message dropped",
            {{"actor", self->name()}, {"message", caf::to_string(view.copy_content_to_message())}});
        // A requester deserves an answer; anyone else gets none, so that the
        // drop cannot bounce back and forth.
        if (self->current_message_id().is_request())
          return caf::sec::unexpected_message;
        return caf::delegated<caf::message>{};
      });
  self->set_error_handler([self](caf::error& err) {
    log::warn("error message ignored",
              {{"actor", self->name()}, {"error", self->system().render(err)}});
  });
}

} // namespace herald
