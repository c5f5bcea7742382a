#pragma once

// Command frames parsed once, at the edge, into herald::command values.
// Every failure is a reply whose message names the offending field
// (`params.user: must be a string of 1-64 characters`).

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/commands.hpp"
#include "actors/messages.hpp"
#include "actors/settings.hpp"

namespace herald {

/// How deeply `data` may nest. Serializing JSON recurses once per level, so
/// an unbounded depth (a 1 MiB body of `[[[[…`) would overflow the stack.
constexpr std::size_t max_data_depth = 64;

/// Returns the value of the JSON text `text`, or a discarded value (is_discarded()) when it is
/// not valid JSON. Unlike a bare json::parse(), a NUL byte anywhere makes it invalid:
/// nlohmann's lexer ends the input at the first NUL and ignores the bytes after it.
nlohmann::json parse_json_text(std::string_view text);

/// Returns true if `v` nests at most `limit` arrays/objects deep.
bool nests_within(const nlohmann::json& v, std::size_t limit);

/// One parsed command; `failure` is set when the frame is unusable. `cmd.id`
/// and `cmd.has_id` are filled whenever the frame had a valid scalar id, so
/// that the error reply can echo it.
struct parse_outcome {
  command cmd;
  std::optional<reply> failure;
};

/// Parses one command frame (already-parsed JSON): checks the frame's shape,
/// resolves the method and param aliases (sendUserMessage, chatId, message,
/// userId) and validates every param the method reads. Fails with
/// bad_request (malformed input), not_found (unknown method, undeclared
/// group while those are refused), forbidden (more than
/// max-groups-per-session groups) or too_large (data beyond max-data).
parse_outcome parse_command(const nlohmann::json& frame, const settings& s);

/// The whole body of POST /v1/rpc: a single frame or a batch array.
/// `failure` is set when the body as a whole is unusable; otherwise
/// `commands` holds one outcome per frame, in order (one when !batch).
struct body_outcome {
  bool batch = false;
  std::vector<parse_outcome> commands;
  std::optional<reply> failure;
};

/// Parses a POST /v1/rpc body. Fails as a whole with bad_request when it is
/// not valid JSON (invalid UTF-8 included) or an empty batch, and with
/// too_large for a batch of more than max-batch commands.
body_outcome parse_rpc_body(std::string_view body, const settings& s);

} // namespace herald
