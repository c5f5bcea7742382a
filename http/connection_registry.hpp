#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace herald {

class http_session;

/// The open connections of a node, so that a drain can close idle ones.
/// Touched once per connection open/close and once per drain: a mutex is
/// cheaper here than any alternative.
class connection_registry {
public:
  /// Returns an id for remove().
  std::uint64_t add(const std::shared_ptr<http_session>& session);
  void remove(std::uint64_t id);

  /// Calls close_if_idle on every open connection (on its own strand).
  void close_idle();

private:
  std::mutex mutex_;
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, std::weak_ptr<http_session>> sessions_;
};

} // namespace herald
