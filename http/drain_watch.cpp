#include "http/drain_watch.hpp"

#include <chrono>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace herald {

namespace net = boost::asio;

namespace {

constexpr auto poll_interval = std::chrono::milliseconds{100};

struct watcher {
  std::weak_ptr<void> alive;
  net::any_io_executor executor;
  std::function<void()> on_drain;
};

struct node_watch {
  std::vector<watcher> watchers;
  bool polling = false;
  std::size_t prune_at = 64; // closed connections are forgotten in bulk
};

std::mutex watch_mutex;

// Keyed by node: a process runs one server, but tests may start several.
std::unordered_map<const server_context*, node_watch>& watches() {
  static std::unordered_map<const server_context*, node_watch> all;
  return all;
}

void prune(node_watch& watch) {
  std::erase_if(watch.watchers, [](const watcher& w) { return w.alive.expired(); });
  watch.prune_at = std::max<std::size_t>(64, 2 * watch.watchers.size());
}

void poll(server_context& ctx, std::shared_ptr<net::steady_timer> timer) {
  timer->expires_after(poll_interval);
  timer->async_wait([&ctx, timer](boost::system::error_code ec) {
    if (ec)
      return; // the io_context is going away
    std::vector<watcher> due;
    bool again = true;
    {
      std::lock_guard guard{watch_mutex};
      auto& watch = watches()[&ctx];
      if (ctx.draining)
        due.swap(watch.watchers);
      else if (watch.watchers.size() < 64 || watch.watchers.size() >= watch.prune_at)
        prune(watch); // so that the timer stops once every watcher is gone
      again = !watch.watchers.empty();
      watch.polling = again; // when it stops, call_on_drain starts it again
    }
    for (auto& w : due)
      if (!w.alive.expired())
        net::post(w.executor, std::move(w.on_drain));
    if (again)
      poll(ctx, timer);
  });
}

} // namespace

void call_on_drain(server_context& ctx, net::any_io_executor executor, std::weak_ptr<void> alive,
                   std::function<void()> on_drain) {
  if (ctx.draining) {
    net::post(executor, std::move(on_drain));
    return;
  }
  std::lock_guard guard{watch_mutex};
  auto& watch = watches()[&ctx];
  watch.watchers.push_back({std::move(alive), executor, std::move(on_drain)});
  if (!watch.polling) {
    watch.polling = true;
    poll(ctx, std::make_shared<net::steady_timer>(executor));
  }
}

} // namespace herald
