#pragma once

// JSON that is run as script: JSONP bodies and forever-frame <script> chunks.

#include <string>
#include <string_view>

namespace herald {

/// Returns true if `name` matches ^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$ (the
/// contract's callback rule: a dotted JS name, nothing that could end the call).
bool is_valid_callback(std::string_view name);

/// Returns `name(<json>);` with every raw U+2028/U+2029 in `json` escaped as
/// \u2028/\u2029 (older JS parsers end a line at them, even inside strings).
/// `name` must have passed is_valid_callback; `json` must be valid JSON text.
std::string wrap_jsonp(std::string_view name, std::string_view json);

/// Returns `json` with `<`, `>`, `&`, U+2028 and U+2029 escaped as \u003c,
/// \u003e, \u0026, \u2028 and \u2029, so that it can sit inside a <script>
/// element (no `</script>` or `<!--` can appear). `json` must be valid JSON
/// text: those characters then occur only inside strings, where the escape
/// means the same character, so the JSON value is unchanged.
std::string escape_json_for_script(std::string_view json);

} // namespace herald
