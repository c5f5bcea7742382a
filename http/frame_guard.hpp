#pragma once

// What Beast's WebSocket reader lets through and Herald does not: a message
// of endless fragments (Beast loops over empty continuation frames without
// ever completing a read, and counts only payload bytes against the message
// limit) and close codes that RFC 6455 7.4 does not define for an endpoint to
// send (Beast accepts 1012, 1013 and everything from 3000 up). The guard reads
// the client's bytes as they arrive, frame header by frame header, before
// Beast does; it skips payloads by arithmetic and never copies them.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace herald {

/// Returns true if a client may send `code` in a close frame: 1000-1003,
/// 1007-1011 and 3000-4999 (RFC 6455 7.4.1, 7.4.2).
bool is_valid_close_code(std::uint16_t code);

class frame_guard {
public:
  /// Why the client's stream is cut, and the close code to tell it.
  struct violation {
    std::uint16_t close_code; ///< 1009 too many fragments, 1002 bad close code
    const char* reason;
  };

  /// A message of more than `max_fragments` frames is a violation.
  explicit frame_guard(std::size_t max_fragments) : max_fragments_(max_fragments) {}

  /// Scans `bytes`, the next ones from the client. Returns how many may go on
  /// to the WebSocket reader: all of them, or those before the header of the
  /// frame that broke a rule (then violated() is set). After a violation it
  /// admits nothing.
  std::size_t admit(std::span<const unsigned char> bytes);

  const std::optional<violation>& violated() const { return violation_; }

private:
  void start_frame();
  bool on_header(); // false: a violation

  std::size_t max_fragments_;
  std::size_t fragments_ = 0; // data frames of the message being received
  unsigned char head_[14] = {};
  std::size_t head_size_ = 0;
  std::size_t head_needed_ = 2;
  std::uint64_t payload_left_ = 0;
  bool in_payload_ = false;
  // A close frame's first two payload bytes are its code (masked, as all of a client's payload).
  bool reading_close_code_ = false;
  unsigned char mask_[4] = {};
  unsigned char code_[2] = {};
  std::size_t code_size_ = 0;
  std::optional<violation> violation_;
};

} // namespace herald
