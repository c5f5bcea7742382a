#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/loadgen/options.hpp"

namespace herald::bench {

/// Who is in which channel in the chat mix (--chat). Channels are numbered so that one seq
/// space and one payload field serve both kinds: channel k < rooms is room k
/// (<channel-prefix>-<k>), channel rooms + i is the user channel of session i
/// (<user-prefix>-<i>); parse_options sets --channels to rooms + sessions. Without --chat every
/// channel is a group named <channel-prefix>-<k>.
struct chat_layout {
  uint32_t room_size = 0; // 0: not a chat mix
  uint32_t sessions = 0;
  uint32_t rooms = 0;

  explicit chat_layout(const options& opts);

  bool enabled() const { return room_size > 0; }
  uint32_t room_of(uint32_t session) const { return session / room_size; }
  uint32_t user_channel(uint32_t session) const { return rooms + session; }
  /// True for a user channel (published as a direct message), false for a group.
  bool is_user_channel(uint32_t channel) const { return enabled() && channel >= rooms; }
};

/// The server-side name of every channel, by channel number.
std::vector<std::string> make_channel_names(const options& opts);

/// The Herald user name (and nchan user channel) of subscriber `index`.
std::string user_name(const options& opts, uint32_t index);

} // namespace herald::bench
