#pragma once

// The vocabulary shared by the client and its transports: JSON values and why
// a connection, a stream or a command did not succeed.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace herald::client {

/// JSON as the client sees it. Ordered, so that an event printed again reads
/// exactly as the server wrote it (same keys, same order).
using json = nlohmann::ordered_json;

/// What a failure means for the client's next step.
enum class problem_kind {
  /// Network trouble (refused, reset, timeout, cut stream): reconnect later.
  lost,
  /// The server asked to reconnect (it is draining): reconnect now.
  reconnect,
  /// The server refused us and would again (bad user name, forbidden
  /// origin, handshake refused): stop.
  refused,
  /// The session no longer exists (node lost, lease expired): enter again
  /// and rejoin every group from the last position seen.
  unknown_session,
  /// Another client took the session over: stop, it is theirs now.
  superseded,
  /// The server says this can never succeed (e.g. a cursor past the end).
  failed,
};

/// Returns a stable lower-case name of `kind` ("lost", "unknown_session", …).
const char* to_string(problem_kind kind);

/// Why something did not succeed, for the program and for a human.
struct link_problem {
  problem_kind kind = problem_kind::lost;
  std::string message; ///< human readable, names what failed
  std::string code;    ///< the server's error code, when it sent one
  int http_status = 0; ///< the HTTP status, when there was a response
};

/// Returns `value` when it is a non-negative integer (however the JSON
/// library stored it), else nullopt.
std::optional<std::uint64_t> read_unsigned(const json& value);

/// Returns a problem of `kind` with `message` and no server details.
link_problem make_problem(problem_kind kind, std::string message);

/// Maps the server's error `code` (an error reply or an error body) to what
/// the client should do: `unknown_session` → unknown_session; `unavailable`,
/// `rate_limited` and `internal` → lost (transient, retry later); every other
/// code → refused.
link_problem problem_from_error(const json& error, int http_status = 0);

} // namespace herald::client
