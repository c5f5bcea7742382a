#pragma once

// Server-Sent Events, decoded incrementally from whatever chunks the network
// hands us (the WHATWG "event stream interpretation", minus what Herald never
// sends).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::client {

/// One dispatched event: its `id:` (when the block had one), `event:` type
/// ("message" when absent) and `data:` lines joined with '\n'.
struct sse_event {
  std::optional<std::string> id;
  std::string type = "message";
  std::string data;
};

/// Feeds bytes in, takes events out. Lines end in "\n", "\r\n" or "\r"; a
/// blank line dispatches the block; comments (":" lines, Herald's heartbeats)
/// are counted and otherwise ignored, as are unknown fields. A block without
/// data lines dispatches nothing. Holds at most `max_line` bytes of an
/// unfinished line (a longer one is an error: the stream is not SSE).
class sse_parser {
public:
  explicit sse_parser(std::size_t max_line = 1 << 20) : max_line_(max_line) {}

  /// Parses `bytes` and appends every event completed by them to `out`.
  /// Returns false when a line grows past `max_line` (the caller should drop
  /// the stream); the parser is unusable after that.
  bool feed(std::string_view bytes, std::vector<sse_event>& out);

  /// Comment lines seen so far.
  std::size_t comments() const { return comments_; }

  /// The last `retry:` value (ms), when one came.
  std::optional<unsigned> retry() const { return retry_; }

private:
  void line(std::string_view text, std::vector<sse_event>& out);

  std::size_t max_line_;
  std::string partial_;
  bool after_cr_ = false; // a "\r" ended the last line; skip a "\n" right after it
  sse_event block_;
  bool block_has_data_ = false;
  std::size_t comments_ = 0;
  std::optional<unsigned> retry_;
};

} // namespace herald::client
