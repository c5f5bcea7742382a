#pragma once

#include <cstdint>
#include <optional>

namespace herald {

/// This process as Linux's /proc reports it.
struct process_stats {
  double cpu_seconds = 0; ///< user + system
  std::uint64_t resident_bytes = 0;
  std::uint64_t virtual_bytes = 0;
  std::uint64_t open_fds = 0;
  std::uint64_t max_fds = 0;
  std::uint64_t threads = 0;
  double start_time_seconds = 0; ///< since the Unix epoch
};

/// Reads /proc/self; nullopt where /proc is not mounted.
std::optional<process_stats> read_process_stats();

} // namespace herald
