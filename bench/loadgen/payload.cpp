#include "bench/loadgen/payload.hpp"

#include <charconv>
#include <cstring>
#include <ctime>

namespace herald::bench {

int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void write_payload(char* out, const payload_fields& fields) {
  char* const end = out + payload_size;
  std::memset(out, 'x', payload_size);
  char* p = out;
  // Three integers of at most 20 digits and four separators fit in 100 bytes.
  p = std::to_chars(p, end, fields.seq).ptr;
  *p++ = ':';
  p = std::to_chars(p, end, fields.send_ns).ptr;
  *p++ = ':';
  p = std::to_chars(p, end, fields.channel).ptr;
  *p++ = ':';
  *p++ = fields.warmup ? 'w' : 'm';
  *p = ':';
}

namespace {

template <class T>
bool parse_field(const char*& p, const char* end, T& value) {
  auto [next, ec] = std::from_chars(p, end, value);
  if (ec != std::errc{} || next == end || *next != ':')
    return false;
  p = next + 1;
  return true;
}

} // namespace

std::optional<payload_fields> parse_payload(std::string_view text) {
  payload_fields fields;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  if (!parse_field(p, end, fields.seq) || !parse_field(p, end, fields.send_ns)
      || !parse_field(p, end, fields.channel) || end - p < 2 || (p[0] != 'w' && p[0] != 'm'))
    return std::nullopt;
  fields.warmup = p[0] == 'w';
  return fields;
}

} // namespace herald::bench
