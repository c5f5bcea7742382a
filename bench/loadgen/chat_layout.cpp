#include "bench/loadgen/chat_layout.hpp"

namespace herald::bench {

chat_layout::chat_layout(const options& opts)
    : room_size(opts.chat_room_size), sessions(opts.chat_sessions),
      rooms(room_size > 0 ? (sessions + room_size - 1) / room_size : 0) {}

std::vector<std::string> make_channel_names(const options& opts) {
  const chat_layout layout(opts);
  const uint32_t groups = layout.enabled() ? layout.rooms : opts.channels;
  std::vector<std::string> names;
  names.reserve(opts.channels);
  for (uint32_t k = 0; k < groups; ++k)
    names.push_back(opts.channel_prefix + "-" + std::to_string(k));
  for (uint32_t i = 0; i < layout.sessions && layout.enabled(); ++i)
    names.push_back(user_name(opts, i));
  return names;
}

std::string user_name(const options& opts, uint32_t index) {
  return opts.user_prefix + "-" + std::to_string(index);
}

} // namespace herald::bench
