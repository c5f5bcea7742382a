#include "cluster/seed_probe.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/messages.hpp"

namespace herald {

bool split_host_port(const std::string& address, std::string& host, std::uint16_t& port) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size())
    return false;
  host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned long value = 0;
  for (auto c : address.substr(colon + 1)) {
    if (c < '0' || c > '9')
      return false;
    value = value * 10 + static_cast<unsigned long>(c - '0');
    if (value > 65535)
      return false;
  }
  port = static_cast<std::uint16_t>(value);
  return port != 0;
}

namespace {

struct address_list {
  addrinfo* head = nullptr;
  ~address_list() {
    if (head != nullptr)
      freeaddrinfo(head);
  }
};

std::vector<std::string> resolve(const std::string& name_port) {
  std::string host;
  std::uint16_t port = 0;
  if (!split_host_port(name_port, host, port))
    return {};
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  address_list list;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &list.head) != 0)
    return {};
  std::vector<std::string> out;
  for (auto* ai = list.head; ai != nullptr; ai = ai->ai_next) {
    char text[NI_MAXHOST];
    if (getnameinfo(ai->ai_addr, ai->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST)
        == 0) {
      auto entry = std::string{text} + ":" + std::to_string(port);
      if (std::find(out.begin(), out.end(), entry) == out.end())
        out.push_back(std::move(entry));
    }
  }
  return out;
}

// Returns an empty string when a TCP connection to `address` opened within
// `timeout`, else why not.
std::string try_connect(const std::string& address, std::chrono::seconds timeout) {
  std::string host;
  std::uint16_t port = 0;
  if (!split_host_port(address, host, port))
    return "not HOST:PORT";
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  address_list list;
  auto service = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &list.head); rc != 0)
    return gai_strerror(rc);
  std::string why = "no address";
  for (auto* ai = list.head; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
      return std::strerror(errno);
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, static_cast<int>(timeout.count() * 1000));
      if (rc == 0) {
        why = "no answer within " + std::to_string(timeout.count()) + " s";
      } else {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        why = err == 0 ? "" : std::strerror(err);
      }
    } else if (rc != 0) {
      why = std::strerror(errno);
    } else {
      why.clear();
    }
    ::close(fd);
    if (why.empty())
      return why;
  }
  return why;
}

// Each runs once on a thread of its own (detached: getaddrinfo and connect
// block) and quits. Functions with arguments, not capturing lambdas: CAF
// 0.17's spawn of a lambda without arguments trips UBSan (docs/architecture.md).
void resolve_once(std::string name_port, caf::actor reply_to) {
  caf::anon_send(reply_to, seeds_atom::value, resolve(name_port));
}

void probe_once(std::string address, std::chrono::seconds timeout, caf::actor reply_to) {
  auto why = try_connect(address, timeout);
  caf::anon_send(reply_to, probe_atom::value, address, why.empty(), why);
}

} // namespace

void resolve_seeds(caf::actor_system& system, std::string name_port, caf::actor reply_to) {
  system.spawn<caf::detached>(resolve_once, std::move(name_port), std::move(reply_to));
}

void probe_seed(caf::actor_system& system, std::string address, std::chrono::seconds timeout,
                caf::actor reply_to) {
  system.spawn<caf::detached>(probe_once, std::move(address), timeout, std::move(reply_to));
}

} // namespace herald
