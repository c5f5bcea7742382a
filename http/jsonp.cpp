#include "http/jsonp.hpp"

namespace herald {

namespace {

bool is_callback_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}

bool is_callback_char(char c) {
  return is_callback_start(c) || (c >= '0' && c <= '9') || c == '.';
}

// Appends `json` to `out`, escaping U+2028/U+2029 (UTF-8 E2 80 A8/A9) and,
// when `html` is set, `<`, `>` and `&`.
void append_escaped(std::string& out, std::string_view json, bool html) {
  out.reserve(out.size() + json.size());
  for (std::size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (c == '\xE2' && i + 2 < json.size() && json[i + 1] == '\x80'
        && (json[i + 2] == '\xA8' || json[i + 2] == '\xA9')) {
      out += json[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else if (html && c == '<') {
      out += "\\u003c";
    } else if (html && c == '>') {
      out += "\\u003e";
    } else if (html && c == '&') {
      out += "\\u0026";
    } else {
      out += c;
    }
  }
}

} // namespace

bool is_valid_callback(std::string_view name) {
  if (name.empty() || name.size() > 64 || !is_callback_start(name.front()))
    return false;
  for (char c : name)
    if (!is_callback_char(c))
      return false;
  return true;
}

std::string wrap_jsonp(std::string_view name, std::string_view json) {
  std::string out;
  out.reserve(name.size() + json.size() + 3);
  out += name;
  out += '(';
  append_escaped(out, json, false);
  out += ");";
  return out;
}

std::string escape_json_for_script(std::string_view json) {
  std::string out;
  append_escaped(out, json, true);
  return out;
}

} // namespace herald
