#pragma once

// Rendering of events to their JSON wire form. Each function renders the
// `tail` of an event (everything after `"eid":N,`), once, where the event is
// born; sessions only prefix type and eid.

#include <cstdint>
#include <string>
#include <string_view>

#include "actors/messages.hpp"

namespace herald {

/// Milliseconds since the Unix epoch, as events carry in `time`.
std::int64_t now_ms();

/// Returns `s` as a JSON string literal (quoted and escaped).
std::string json_quote(std::string_view s);

/// A `message` event of `group`; `data_json` is already-serialized JSON.
event make_message_event(std::string_view group, std::uint64_t seq, std::string_view epoch,
                         std::string_view from, std::string_view data_json, std::int64_t time);

/// A `direct` event from one user to another.
event make_direct_event(std::string_view from, std::string_view to, std::string_view data_json,
                        std::int64_t time);

/// A `join` event.
event make_join_event(std::string_view group, std::string_view user, std::int64_t time);

/// A `leave` event; `reason` is "leave", "exit" or "expired".
event make_leave_event(std::string_view group, std::string_view user, std::string_view reason,
                       std::int64_t time);

/// Renders a queued event as the stream carries it: {"type":…,"eid":N,…}.
std::string render_with_eid(const event& e, std::uint64_t eid);

/// Renders an event without eid (history): {"type":…,…}.
std::string render_without_eid(const event& e);

/// Renders an overflow event.
std::string render_overflow(std::uint64_t eid, std::uint64_t dropped, std::int64_t time);

/// Appends the rendering of `render_with_eid` to `out` (no temporary string).
void append_with_eid(std::string& out, const event& e, std::uint64_t eid);

} // namespace herald
