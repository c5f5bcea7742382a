#pragma once

// The query part of a request target, decoded once at the edge.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald {

/// Splits a request target into path and raw query at the first `?`
/// ("/v1/listen?a=1" -> {"/v1/listen", "a=1"}); the query is empty when there
/// is no `?`.
std::pair<std::string_view, std::string_view> split_target(std::string_view target);

/// Returns `s` percent-decoded, with `+` read as a space (form encoding, as
/// browsers send it); nullopt when a `%` is not followed by two hex digits.
/// The result may hold any bytes: callers validate what they need (UTF-8, …).
std::optional<std::string> percent_decode(std::string_view s);

/// Parsed query parameters; the first occurrence of a name wins.
class query_string {
public:
  /// Parses `a=1&b=x%20y`. A pair without `=` has an empty value; empty
  /// pairs (`a=1&&b=2`) and pairs with an empty name (`=1`) are skipped.
  /// Returns nullopt when any name or value has a malformed escape.
  static std::optional<query_string> parse(std::string_view raw_query);

  /// Returns the decoded value of the first parameter called `name`, or
  /// nullopt when there is none.
  std::optional<std::string> get(std::string_view name) const;

  /// Returns true if a parameter called `name` is present (even if empty).
  bool has(std::string_view name) const;

private:
  std::vector<std::pair<std::string, std::string>> values_;
};

} // namespace herald
