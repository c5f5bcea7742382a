// Fuzz target: the escaping behind the stream encoders. A forever-frame event is
// `<script>parent.cb(` + escape_json_for_script(json) + `);</script>` (http/stream_session.cpp),
// an SSE event carries json_quote()d strings (actors/event.hpp) on one `data:` line.
// Properties: escaped script JSON has no raw `<`, `>`, `&`, U+2028 or U+2029 and, when the
// input is JSON, the same value; json_quote() gives one JSON string on one line that reads
// back as the input when that is valid UTF-8 (else as valid UTF-8, bad bytes replaced).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "actors/event.hpp"
#include "actors/names.hpp"
#include "http/jsonp.hpp"
#include "tests/fuzz/require.hpp"

namespace {

using herald::fuzz::require;
using json = nlohmann::json;

void check_script_escape(std::string_view input) {
  auto escaped = herald::escape_json_for_script(input);
  require(escaped.find_first_of("<>&") == std::string::npos, "no raw <, > or & in a <script>");
  require(escaped.find("\xE2\x80\xA8") == std::string::npos
              && escaped.find("\xE2\x80\xA9") == std::string::npos,
          "no raw U+2028/U+2029 in a <script>");
  auto before = json::parse(input, nullptr, false);
  if (before.is_discarded())
    return;
  auto after = json::parse(escaped, nullptr, false);
  require(!after.is_discarded() && after == before, "escaping leaves a JSON value unchanged");
}

void check_quote(std::string_view input) {
  auto quoted = herald::json_quote(input);
  require(quoted.size() >= 2 && quoted.front() == '"' && quoted.back() == '"',
          "json_quote() gives a quoted string");
  require(quoted.find_first_of("\r\n") == std::string::npos,
          "json_quote() output fits on one SSE data line");
  auto back = json::parse(quoted, nullptr, false);
  require(!back.is_discarded() && back.is_string(), "json_quote() output is a JSON string");
  const auto& text = back.get_ref<const std::string&>();
  require(herald::is_valid_utf8(text), "json_quote() output reads back as valid UTF-8");
  if (herald::is_valid_utf8(input))
    require(text == input, "json_quote() round-trips valid UTF-8");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  check_script_escape(input);
  check_quote(input);
  return 0;
}
