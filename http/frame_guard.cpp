#include "http/frame_guard.hpp"

#include <algorithm>

namespace herald {

namespace {

constexpr unsigned char fin_bit = 0x80;
constexpr unsigned char mask_bit = 0x80;
constexpr unsigned char opcode_close = 0x8;

} // namespace

bool is_valid_close_code(std::uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011)
         || (code >= 3000 && code <= 4999);
}

void frame_guard::start_frame() {
  head_size_ = 0;
  head_needed_ = 2;
  in_payload_ = false;
  reading_close_code_ = false;
  code_size_ = 0;
}

// The header is complete: count it, and see whether its payload needs a look.
bool frame_guard::on_header() {
  unsigned opcode = head_[0] & 0x0f;
  bool fin = (head_[0] & fin_bit) != 0;
  std::uint64_t length = head_[1] & 0x7f;
  std::size_t at = 2;
  if (length == 126) {
    length = (std::uint64_t{head_[2]} << 8) | head_[3];
    at = 4;
  } else if (length == 127) {
    length = 0;
    for (std::size_t i = 0; i < 8; ++i)
      length = (length << 8) | head_[2 + i];
    at = 10;
  }
  bool masked = (head_[1] & mask_bit) != 0;
  if (masked)
    for (std::size_t i = 0; i < 4; ++i)
      mask_[i] = head_[at + i];
  if (opcode < opcode_close) { // a data frame: 0 continues a message, others start one
    fragments_ = opcode == 0 ? fragments_ + 1 : 1;
    if (fragments_ > max_fragments_) {
      violation_ = violation{1009, "message has too many fragments"};
      return false;
    }
    if (fin)
      fragments_ = 0;
  }
  // A length of 1 is malformed; Beast refuses it.
  reading_close_code_ = opcode == opcode_close && length >= 2;
  if (!masked)
    mask_[0] = mask_[1] = 0; // Beast refuses an unmasked client frame anyway
  payload_left_ = length;
  in_payload_ = length > 0;
  if (!in_payload_)
    start_frame();
  return true;
}

std::size_t frame_guard::admit(std::span<const unsigned char> bytes) {
  if (violation_)
    return 0;
  // Where the frame being read began in `bytes` (0: in an earlier call).
  std::size_t frame_start = 0;
  std::size_t i = 0;
  while (i < bytes.size()) {
    if (!in_payload_) {
      if (head_size_ == 0)
        frame_start = i;
      head_[head_size_++] = bytes[i++];
      if (head_size_ == 2) {
        auto length = head_[1] & 0x7f;
        head_needed_ = 2
                       + (length == 126   ? 2
                          : length == 127 ? 8
                                          : 0)
                       + ((head_[1] & mask_bit) != 0 ? 4 : 0);
      }
      if (head_size_ == head_needed_ && !on_header())
        return frame_start;
      continue;
    }
    if (reading_close_code_) {
      code_[code_size_] = bytes[i] ^ mask_[code_size_];
      ++code_size_;
      ++i;
      --payload_left_;
      if (code_size_ == 2) {
        reading_close_code_ = false;
        auto code = static_cast<std::uint16_t>((code_[0] << 8) | code_[1]);
        if (!is_valid_close_code(code)) {
          violation_ = violation{1002, "invalid close code"};
          return frame_start;
        }
      }
    } else {
      auto skip
          = static_cast<std::size_t>(std::min<std::uint64_t>(payload_left_, bytes.size() - i));
      i += skip;
      payload_left_ -= skip;
    }
    if (payload_left_ == 0)
      start_frame();
  }
  return bytes.size();
}

} // namespace herald
