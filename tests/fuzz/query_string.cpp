// Fuzz target: the query of a request target through query_string::parse() (http/
// query_string.hpp), and a callback name through the JSONP checks of http/jsonp.hpp. The input
// is the raw query; its first line (up to a newline, when there is one) is also tried as a
// callback. Properties: parse() fails exactly when percent_decode() of the whole query fails
// (`&` and `=` are never part of an escape), has() agrees with get(), is_valid_callback()
// matches its regular expression, and wrap_jsonp() only frames and escapes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/jsonp.hpp"
#include "http/query_string.hpp"
#include "tests/fuzz/require.hpp"

namespace {

using herald::fuzz::require;

// ^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$, written out independently of jsonp.cpp.
bool matches_callback_rule(std::string_view s) {
  auto start = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
  };
  if (s.empty() || s.size() > 64 || !start(s[0]))
    return false;
  for (char c : s.substr(1))
    if (!start(c) && !(c >= '0' && c <= '9') && c != '.')
      return false;
  return true;
}

void check_query(std::string_view query) {
  auto params = herald::query_string::parse(query);
  require(params.has_value() == herald::percent_decode(query).has_value(),
          "parse() fails exactly on a malformed escape");
  if (!params)
    return;
  // Every name the query mentions, as the endpoints would ask for it.
  for (std::size_t at = 0; at <= query.size();) {
    auto amp = query.find('&', at);
    auto pair = query.substr(at, amp == std::string_view::npos ? std::string_view::npos : amp - at);
    auto name = herald::percent_decode(pair.substr(0, pair.find('=')));
    require(name.has_value(), "a parsed query's names decode");
    require(params->has(*name) == params->get(*name).has_value(), "has() agrees with get()");
    if (!name->empty() && !pair.empty())
      require(params->has(*name), "every named pair can be found");
    if (amp == std::string_view::npos)
      break;
    at = amp + 1;
  }
}

void check_callback(std::string_view name) {
  bool valid = herald::is_valid_callback(name);
  require(valid == matches_callback_rule(name), "is_valid_callback() matches its rule");
  if (!valid)
    return;
  std::string json = "{\"s\":\"\xE2\x80\xA8<\\/script>\xE2\x80\xA9\"}";
  auto wrapped = herald::wrap_jsonp(name, json);
  require(wrapped.starts_with(std::string{name} + "(") && wrapped.ends_with(");"),
          "wrap_jsonp() frames the JSON as one call");
  require(wrapped.find("\xE2\x80\xA8") == std::string::npos
              && wrapped.find("\xE2\x80\xA9") == std::string::npos,
          "wrap_jsonp() leaves no raw U+2028/U+2029");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  check_query(input);
  check_callback(input.substr(0, input.find('\n')));
  if (auto decoded = herald::percent_decode(input))
    check_callback(*decoded); // callback=… arrives percent-encoded
  return 0;
}
