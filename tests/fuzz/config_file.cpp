// Fuzz target: the bytes of a --config file through load_settings() (http/command_line.hpp),
// with no environment. The file is a memfd named by its /proc/self/fd path, so nothing is
// written to disk. Properties: a bad file gives an error that names it; an accepted one gives
// settings that validate() accepts, with declared groups of valid names, distinct names and
// distinct single bits.

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/names.hpp"
#include "http/command_line.hpp"
#include "tests/fuzz/require.hpp"

namespace {

using herald::fuzz::require;

// The config file, rewritten for each input.
int config_fd() {
  static int fd = memfd_create("herald-fuzz-config", 0);
  require(fd >= 0, "memfd_create works");
  return fd;
}

void check_accepted(const herald::settings& s) {
  require(herald::validate(s).empty(), "accepted settings pass validate()");
  std::set<std::string> names;
  std::set<std::uint64_t> bits;
  for (const auto& group : s.groups) {
    require(herald::is_valid_group_name(group.name), "declared groups have valid names");
    require(names.insert(group.name).second, "declared group names are distinct");
    if (group.bit == 0)
      continue;
    require((group.bit & (group.bit - 1)) == 0, "a group's bit is a single bit");
    require(bits.insert(group.bit).second, "declared group bits are distinct");
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  int fd = config_fd();
  require(ftruncate(fd, 0) == 0, "the config file can be emptied");
  require(pwrite(fd, data, size, 0) == static_cast<ssize_t>(size), "the config file is written");
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  const char* argv[] = {"herald", "--config", path.c_str()};
  const std::function<const char*(const char*)> no_environment;

  auto outcome = herald::load_settings(3, argv, no_environment);
  require(!outcome.show_help, "a config file never asks for help");
  if (!outcome.error.empty()) {
    if (!nlohmann::json::accept(data, data + size))
      require(outcome.error.starts_with("config file " + path + ": "),
              "a file that is not JSON is named in the error");
    return 0;
  }
  require(nlohmann::json::accept(data, data + size), "only JSON is accepted");
  require(outcome.values.config == path, "the settings remember their file");
  check_accepted(outcome.values);
  return 0;
}
