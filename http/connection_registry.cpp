#include "http/connection_registry.hpp"

#include <vector>

#include "http/http_session.hpp"

namespace herald {

std::uint64_t connection_registry::add(const std::shared_ptr<http_session>& session) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto id = next_id_++;
  sessions_.emplace(id, session);
  return id;
}

void connection_registry::remove(std::uint64_t id) {
  std::lock_guard<std::mutex> guard{mutex_};
  sessions_.erase(id);
}

void connection_registry::close_idle() {
  std::vector<std::shared_ptr<http_session>> open;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    for (auto& entry : sessions_)
      if (auto session = entry.second.lock())
        open.push_back(std::move(session));
  }
  // Called outside the lock: close_if_idle posts to each strand.
  for (auto& session : open)
    session->close_if_idle();
}

} // namespace herald
