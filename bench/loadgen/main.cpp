// herald-loadgen: the load generator of bench/ (BENCHMARKS.md). One single-threaded epoll loop
// per process; bench/run spreads large subscriber counts over several processes.

#include <cstdio>
#include <string>

#include <arpa/inet.h>
#include <sys/resource.h>

#include "bench/loadgen/driver.hpp"
#include "bench/loadgen/options.hpp"

int main(int argc, char** argv) {
  using namespace herald::bench;
  std::string error;
  bool help = false;
  const auto opts = parse_options(argc, argv, error, help);
  if (help) {
    std::fputs(usage_text(), stdout);
    return 0;
  }
  if (!opts) {
    std::fprintf(stderr, "herald-loadgen: %s\n%s", error.c_str(), usage_text());
    return 2;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(opts->port);
  if (::inet_pton(AF_INET, opts->host.c_str(), &address.sin_addr) != 1) {
    std::fprintf(stderr, "herald-loadgen: --url needs an IPv4 address, not %s\n",
                 opts->host.c_str());
    return 2;
  }
  // Every subscriber is a socket: take the whole hard limit.
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  driver run(*opts, address);
  return run.run();
}
