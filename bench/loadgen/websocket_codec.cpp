#include "bench/loadgen/websocket_codec.hpp"

namespace herald::bench {

void append_ws_frame(std::string& out, ws_opcode opcode, std::string_view payload) {
  out.push_back(static_cast<char>(0x80 | static_cast<uint8_t>(opcode)));
  const uint64_t length = payload.size();
  if (length < 126) {
    out.push_back(static_cast<char>(0x80 | length));
  } else if (length < 65536) {
    out.push_back(static_cast<char>(0x80 | 126));
    out.push_back(static_cast<char>(length >> 8));
    out.push_back(static_cast<char>(length & 0xff));
  } else {
    out.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i)
      out.push_back(static_cast<char>((length >> (8 * i)) & 0xff));
  }
  // The mask only defeats cache poisoning by intermediaries; loopback has none, so a fixed key
  // is as good as a random one and keeps the generator cheap.
  static constexpr unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
  out.append(reinterpret_cast<const char*>(mask), 4);
  const std::size_t start = out.size();
  out.append(payload);
  for (std::size_t i = 0; i < payload.size(); ++i)
    out[start + i] = static_cast<char>(out[start + i] ^ mask[i % 4]);
}

} // namespace herald::bench
