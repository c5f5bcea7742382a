#pragma once

// The one way a fuzz target reports a broken property: a line naming it, then a crash, so
// that libFuzzer keeps the input as an artifact just as for a sanitizer finding.

#include <cstdio>
#include <cstdlib>

namespace herald::fuzz {

/// Aborts the run, naming `property`, when `holds` is false.
inline void require(bool holds, const char* property) {
  if (holds)
    return;
  std::fprintf(stderr, "herald fuzz: property violated: %s\n", property);
  std::abort();
}

} // namespace herald::fuzz
