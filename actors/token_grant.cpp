#include "actors/token_grant.hpp"

#include <algorithm>

namespace herald {

bool matches_group_pattern(std::string_view pattern, std::string_view name) {
  // Greedy wildcard matching with one backtrack point: linear in practice,
  // O(|pattern|·|name|) at worst, with no recursion a hostile pattern could deepen.
  std::size_t p = 0;
  std::size_t n = 0;
  std::size_t star = std::string_view::npos;
  std::size_t resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

bool group_permitted(bool groups_limited, const std::vector<std::string>& patterns,
                     std::string_view name) {
  if (!groups_limited)
    return true;
  return std::any_of(patterns.begin(), patterns.end(), [name](const std::string& pattern) {
    return matches_group_pattern(pattern, name);
  });
}

} // namespace herald
