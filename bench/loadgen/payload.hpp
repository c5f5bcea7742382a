#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace herald::bench {

/// Every published message is exactly this many bytes of printable ASCII (safe inside a JSON
/// string, an SSE data line, a WebSocket text frame and a raw nchan body).
inline constexpr std::size_t payload_size = 100;

/// What a payload carries. `send_ns` is CLOCK_MONOTONIC at the publisher: publisher and
/// subscribers run on one host, so subscribers subtract it from their own monotonic clock.
struct payload_fields {
  uint64_t seq = 0;     // per channel, from 1, in publish order
  int64_t send_ns = 0;  // CLOCK_MONOTONIC when the request was written
  uint32_t channel = 0; // channel index
  bool warmup = false;  // sent during warm-up: counted for loss, not for latency
};

/// Returns CLOCK_MONOTONIC in nanoseconds.
int64_t now_ns();

/// Writes the payload `<seq>:<send_ns>:<channel>:<w|m>:` padded with 'x' to `payload_size`
/// bytes into `out` (which must hold that many).
void write_payload(char* out, const payload_fields& fields);

/// Parses a payload at the start of `text` (trailing bytes are ignored); nullopt when `text`
/// does not start with one.
std::optional<payload_fields> parse_payload(std::string_view text);

} // namespace herald::bench
