#pragma once

// Commands as typed values. JSON is parsed once, at the edge
// (http/rpc_parser), into these; inside, only these travel.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/messages.hpp"

namespace herald {

enum class method {
  enter,
  exit,
  join,
  leave,
  speak,
  send,
  listen,
  presence,
  history,
  attach,
  ping,
};

/// Returns the canonical name of `m` ("enter", …).
const char* to_string(method m);

/// Parameters of every method in one struct; each method reads only the
/// fields its row of the contract names. Aliases (chatId, message, userId)
/// are already resolved to these names by the parser.
struct command_params {
  std::string session;               ///< all but enter; optional for ping
  std::string user;                  ///< enter
  std::vector<std::string> groups;   ///< enter (bitmask resolved to names), speak
  std::string group;                 ///< join, leave, presence, history
  std::string to;                    ///< send
  std::string data;                  ///< speak, send: the `data` JSON, serialized
  std::optional<std::int64_t> lease; ///< enter, seconds as requested (unclamped)
  std::string token;                 ///< enter, ping: a JWT (authentication on)
  std::string client_address;        ///< enter: who asks, set by the transport (per-address limit)
  since_point since;                 ///< join
  std::optional<std::uint64_t> history_since; ///< history: seq, exclusive
  std::optional<std::uint64_t> limit;         ///< history
  std::uint64_t cursor = 0;                   ///< listen, attach
  std::optional<double> timeout;              ///< listen, seconds (unclamped)
};

/// One command frame: `{"id": …, "method": …, "params": {…}}`.
struct command {
  nlohmann::json id; ///< a JSON scalar; meaningful only when has_id
  bool has_id = false;
  method verb = method::ping;
  command_params params;
};

/// Renders a reply frame: `{"id":…,"result":…}` or `{"id":…,"error":{…}}`;
/// "id" is present only when the command carried one.
std::string render_reply_frame(const nlohmann::json& id, bool has_id, const reply& r);

/// Returns the HTTP status the contract assigns to an error code (200 for an
/// empty code).
unsigned status_of(const std::string& error_code);

} // namespace herald
