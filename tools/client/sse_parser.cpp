#include "tools/client/sse_parser.hpp"

#include <charconv>

namespace herald::client {

bool sse_parser::feed(std::string_view bytes, std::vector<sse_event>& out) {
  for (char c : bytes) {
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n')
        continue;
    }
    if (c == '\r' || c == '\n') {
      after_cr_ = c == '\r';
      line(partial_, out);
      partial_.clear();
      continue;
    }
    if (partial_.size() >= max_line_)
      return false;
    partial_ += c;
  }
  return true;
}

void sse_parser::line(std::string_view text, std::vector<sse_event>& out) {
  if (text.empty()) {
    if (block_has_data_)
      out.push_back(std::move(block_));
    block_ = sse_event{};
    block_has_data_ = false;
    return;
  }
  if (text.front() == ':') {
    ++comments_;
    return;
  }
  auto colon = text.find(':');
  auto field = text.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = text.substr(colon + 1);
    if (value.starts_with(' '))
      value.remove_prefix(1);
  }
  if (field == "data") {
    if (block_has_data_)
      block_.data += '\n';
    block_.data += value;
    block_has_data_ = true;
  } else if (field == "event") {
    block_.type = std::string{value};
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos)
      block_.id = std::string{value};
  } else if (field == "retry") {
    unsigned ms = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
    if (ec == std::errc{} && end == value.data() + value.size())
      retry_ = ms;
  }
}

} // namespace herald::client
