#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace herald::bench {

/// RFC 6455 framing for a client: what it sends is masked, what it reads is not.
enum class ws_opcode : uint8_t {
  continuation = 0,
  text = 1,
  binary = 2,
  close = 8,
  ping = 9,
  pong = 10
};

/// Appends one masked, final frame carrying `payload` to `out`.
void append_ws_frame(std::string& out, ws_opcode opcode, std::string_view payload);

/// Reads server frames from a buffer and reassembles fragmented messages. The sink:
///   void on_ws_message(ws_opcode, std::string_view payload)   text, binary, close, ping, pong
class ws_reader {
public:
  enum class status { more, error };

  /// Consumes the complete frames of `in` from `pos`. Returns `error` for a masked or
  /// oversized frame or a bad fragment sequence (then `error_text()` says why).
  template <class Sink>
  status read(const std::string& in, std::size_t& pos, Sink& sink);

  const std::string& error_text() const { return error_; }

  static constexpr uint64_t max_message = 16 * 1024 * 1024;

private:
  std::string fragments_;
  ws_opcode fragmented_opcode_ = ws_opcode::text;
  bool in_fragments_ = false;
  std::string error_;
};

template <class Sink>
ws_reader::status ws_reader::read(const std::string& in, std::size_t& pos, Sink& sink) {
  for (;;) {
    const std::size_t avail = in.size() - pos;
    if (avail < 2)
      return status::more;
    const auto* p = reinterpret_cast<const unsigned char*>(in.data() + pos);
    const bool fin = (p[0] & 0x80) != 0;
    const auto opcode = static_cast<ws_opcode>(p[0] & 0x0f);
    if ((p[1] & 0x80) != 0) {
      error_ = "masked frame from the server";
      return status::error;
    }
    uint64_t length = p[1] & 0x7f;
    std::size_t header = 2;
    if (length == 126) {
      if (avail < 4)
        return status::more;
      length = (uint64_t{p[2]} << 8) | p[3];
      header = 4;
    } else if (length == 127) {
      if (avail < 10)
        return status::more;
      length = 0;
      for (int i = 0; i < 8; ++i)
        length = (length << 8) | p[2 + i];
      header = 10;
    }
    if (length > max_message) {
      error_ = "frame over 16 MiB";
      return status::error;
    }
    if (avail < header + length)
      return status::more;
    const std::string_view payload(in.data() + pos + header, static_cast<std::size_t>(length));
    pos += header + static_cast<std::size_t>(length);
    if (opcode == ws_opcode::continuation) {
      if (!in_fragments_) {
        error_ = "continuation without a first fragment";
        return status::error;
      }
      fragments_.append(payload);
      if (fin) {
        in_fragments_ = false;
        sink.on_ws_message(fragmented_opcode_, fragments_);
        fragments_.clear();
      }
    } else if (!fin && (opcode == ws_opcode::text || opcode == ws_opcode::binary)) {
      in_fragments_ = true;
      fragmented_opcode_ = opcode;
      fragments_.assign(payload);
    } else {
      sink.on_ws_message(opcode, payload);
    }
  }
}

} // namespace herald::bench
