#include "http/query_string.hpp"

namespace herald {

namespace {

// Returns the value of a hex digit, or -1.
int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
  auto question = target.find('?');
  if (question == std::string_view::npos)
    return {target, {}};
  return {target.substr(0, question), target.substr(question + 1)};
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (s.size() - i < 3)
        return std::nullopt;
      int high = hex_value(s[i + 1]);
      int low = hex_value(s[i + 2]);
      if (high < 0 || low < 0)
        return std::nullopt;
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<query_string> query_string::parse(std::string_view raw_query) {
  query_string result;
  while (!raw_query.empty()) {
    auto amp = raw_query.find('&');
    auto pair = raw_query.substr(0, amp);
    raw_query = amp == std::string_view::npos ? std::string_view{} : raw_query.substr(amp + 1);
    if (pair.empty())
      continue;
    auto equals = pair.find('=');
    auto name = percent_decode(pair.substr(0, equals));
    auto value = percent_decode(equals == std::string_view::npos ? std::string_view{}
                                                                 : pair.substr(equals + 1));
    if (!name || !value)
      return std::nullopt;
    // A nameless pair cannot be asked for; keeping it would only cost memory.
    if (name->empty())
      continue;
    result.values_.emplace_back(std::move(*name), std::move(*value));
  }
  return result;
}

std::optional<std::string> query_string::get(std::string_view name) const {
  for (const auto& [key, value] : values_)
    if (key == name)
      return value;
  return std::nullopt;
}

bool query_string::has(std::string_view name) const {
  for (const auto& entry : values_)
    if (entry.first == name)
      return true;
  return false;
}

} // namespace herald
