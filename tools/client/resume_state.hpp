#pragma once

// What a client must remember to resume without losing or repeating an event:
// its session, the last eid it took, and for each joined group the last
// {seq, epoch} it saw. Pure bookkeeping, no I/O.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "tools/client/link_problem.hpp"

namespace herald::client {

/// A group's resume point: the last message seen (or the group's position when
/// it was joined). `seq` 0 means "before any message".
struct group_position {
  std::uint64_t seq = 0;
  std::string epoch;
};

/// The client's memory of one logical conversation, which may span several
/// sessions when a node is lost.
class resume_state {
public:
  /// What `admit` decided about an incoming event.
  enum class verdict {
    fresh,     ///< new: hand it to the application
    duplicate, ///< already handed over (same eid, or same group message): drop
  };

  /// Starts over with a new session (after `enter`): eids restart at 1; the
  /// joined groups and their positions are kept, so that they can be rejoined
  /// with `since`.
  void begin_session(std::string session);

  /// Returns the current session id, or "" before the first `enter`.
  const std::string& session() const { return session_; }

  /// Returns the last eid taken from the current session (0: none yet): the
  /// cursor to resume with.
  std::uint64_t last_eid() const { return last_eid_; }

  /// Decides whether `event` is new and records it. Events without an eid
  /// (heartbeats) are always fresh and change nothing. An event whose eid is not
  /// above `last_eid()` is a duplicate; so is a `message` of a joined group with
  /// the same epoch and a seq not above the group's position (this catches a
  /// message seen again through another session). A fresh message advances its
  /// group's position.
  verdict admit(const json& event);

  /// Records the result of a `join` the application asked for
  /// (`{"group","seq","epoch"}`): a new group starts at that position; a group
  /// joined again keeps its position unless the epoch changed, because
  /// messages before the reported seq may still be on their way.
  void joined(const json& join_result);

  /// Records a group position after a rejoin with `since`: when `recovered`,
  /// the missed messages will arrive as events and advance the position
  /// themselves, so it stays; otherwise it jumps to the group's current one.
  void rejoined(const std::string& group, const json& join_result, bool recovered);

  /// Records every group of an `enter` result (`{"groups":{name:{seq,epoch}}}`).
  void entered(const json& enter_result);

  /// Forgets `group` (after a successful `leave`).
  void left(const std::string& group) { groups_.erase(group); }

  /// Returns the joined groups and their positions, by name.
  const std::map<std::string, group_position>& groups() const { return groups_; }

private:
  std::string session_;
  std::uint64_t last_eid_ = 0;
  std::map<std::string, group_position> groups_;
};

/// Reads `{"seq": n, "epoch": "…"}`; nullopt when either is missing or mistyped.
std::optional<group_position> read_position(const json& value);

} // namespace herald::client
