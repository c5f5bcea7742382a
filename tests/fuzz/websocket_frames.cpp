// Fuzz target: a client's WebSocket bytes through http/frame_guard.hpp, the guard that cuts
// endless fragments and undefined close codes before Beast reads them. The input's first byte
// picks the fragment limit (the default, or a small one that fuzzing can reach); the next eight
// pick where the rest is split into reads. Property: the chunking changes nothing but how many
// bytes of the offending frame's header had already gone through in earlier reads.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "actors/settings.hpp"
#include "http/frame_guard.hpp"
#include "tests/fuzz/require.hpp"

namespace {

using herald::fuzz::require;

// The longest a frame header can be (2 + 8 length + 4 mask), plus the close code's first byte:
// what a guard may have passed on before it sees the frame is bad.
constexpr std::size_t max_passed_of_bad_frame = 15;

void check_violation(const herald::frame_guard& guard) {
  const auto& v = guard.violated();
  if (!v)
    return;
  require(v->close_code == 1009 || v->close_code == 1002, "violation closes with 1009 or 1002");
  require(v->reason != nullptr && v->reason[0] != '\0', "violation has a reason");
  require(!herald::is_valid_close_code(1005) && !herald::is_valid_close_code(5000),
          "1005 and 5000 are never valid close codes");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 9)
    return 0;
  static const herald::settings defaults;
  std::size_t max_fragments = data[0] & 1 ? defaults.ws_max_fragments : (data[0] >> 1) % 8 + 1;
  std::span<const std::uint8_t> cuts{data + 1, 8};
  std::span<const std::uint8_t> bytes{data + 9, size - 9};

  herald::frame_guard whole{max_fragments};
  std::size_t whole_admitted = whole.admit(bytes);
  require(whole_admitted <= bytes.size(), "admit() returns at most what it was given");
  // In one call every frame starts inside `bytes`, so a violation always holds some back.
  require(whole.violated().has_value() == (whole_admitted < bytes.size()),
          "bytes are held back exactly when there is a violation");
  check_violation(whole);
  if (whole.violated())
    require(whole.admit(bytes) == 0, "after a violation nothing is admitted");

  herald::frame_guard chunked{max_fragments};
  std::size_t chunked_admitted = 0;
  std::size_t at = 0;
  for (std::size_t i = 0; at < bytes.size(); ++i) {
    // Reads of 1-256 bytes, cycling through the eight cut bytes.
    std::size_t n = std::min<std::size_t>(cuts[i % cuts.size()] + 1, bytes.size() - at);
    bool was_violated = chunked.violated().has_value();
    std::size_t admitted = chunked.admit(bytes.subspan(at, n));
    require(admitted <= n, "a read admits at most its own bytes");
    require(!was_violated || admitted == 0, "after a violation no read is admitted");
    chunked_admitted += admitted;
    at += n;
  }
  check_violation(chunked);
  require(chunked.violated().has_value() == whole.violated().has_value(),
          "the chunking does not change whether the stream is cut");
  if (whole.violated()) {
    require(chunked.violated()->close_code == whole.violated()->close_code,
            "the chunking does not change the close code");
    require(chunked_admitted >= whole_admitted
                && chunked_admitted - whole_admitted <= max_passed_of_bad_frame,
            "a chunked guard passes at most the bad frame's header and code byte more");
  } else {
    require(chunked_admitted == whole_admitted, "without a violation every byte passes");
  }
  return 0;
}
