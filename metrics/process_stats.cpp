#include "metrics/process_stats.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace herald {

namespace {

std::optional<double> boot_time_seconds() {
  std::ifstream in{"/proc/stat"};
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime" && in >> value)
      return value;
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return std::nullopt;
}

} // namespace

std::optional<process_stats> read_process_stats() {
  std::ifstream in{"/proc/self/stat"};
  std::string line;
  if (!std::getline(in, line))
    return std::nullopt;
  // The command name (field 2) may hold spaces; the fields after it are
  // counted from its closing parenthesis.
  auto close = line.rfind(')');
  if (close == std::string::npos)
    return std::nullopt;
  std::istringstream rest{line.substr(close + 2)};
  std::vector<std::string> fields{std::istream_iterator<std::string>{rest},
                                  std::istream_iterator<std::string>{}};
  // fields[0] is field 3 (state) of proc(5).
  constexpr std::size_t utime = 11, stime = 12, num_threads = 17, starttime = 19, vsize = 20,
                        rss = 21;
  if (fields.size() <= rss)
    return std::nullopt;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const auto page = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  process_stats out;
  out.cpu_seconds = (std::stod(fields[utime]) + std::stod(fields[stime])) / ticks;
  out.threads = std::stoull(fields[num_threads]);
  out.virtual_bytes = std::stoull(fields[vsize]);
  out.resident_bytes = std::stoull(fields[rss]) * page;
  if (auto boot = boot_time_seconds())
    out.start_time_seconds = *boot + std::stod(fields[starttime]) / ticks;
  std::error_code ec;
  for (auto i = std::filesystem::directory_iterator{"/proc/self/fd", ec};
       !ec && i != std::filesystem::directory_iterator{}; i.increment(ec))
    ++out.open_fds;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0)
    out.max_fds = limit.rlim_cur;
  return out;
}

} // namespace herald
