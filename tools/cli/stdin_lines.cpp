#include "tools/cli/stdin_lines.hpp"

#include <cerrno>

#include <poll.h>
#include <unistd.h>

#include <boost/asio/post.hpp>

namespace herald::cli {

stdin_lines::stdin_lines(int fd, boost::asio::any_io_executor executor,
                         std::function<void(std::string)> on_line, std::function<void()> on_end,
                         std::size_t max_line)
    : fd_(fd), executor_(std::move(executor)), on_line_(std::move(on_line)),
      on_end_(std::move(on_end)), max_line_(max_line) {
  if (::pipe(wake_) != 0)
    wake_[0] = wake_[1] = -1; // then the destructor cannot interrupt a read; see run()
  thread_ = std::thread([this] { run(); });
}

stdin_lines::~stdin_lines() {
  if (wake_[1] >= 0) {
    char byte = 0;
    while (::write(wake_[1], &byte, 1) < 0 && errno == EINTR) {
    }
  }
  thread_.join();
  for (int fd : wake_)
    if (fd >= 0)
      ::close(fd);
}

void stdin_lines::run() {
  std::string partial;
  char buffer[4096];
  auto post_line = [this](std::string line) {
    boost::asio::post(executor_, [on_line = on_line_, line = std::move(line)]() mutable {
      on_line(std::move(line));
    });
  };
  for (;;) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    int ready = ::poll(fds, wake_[0] >= 0 ? 2 : 1, -1);
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready < 0 || (fds[1].revents & POLLIN) != 0)
      return; // asked to stop: nothing more is posted
    auto n = ::read(fd_, buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (n <= 0)
      break;
    for (auto i = 0; i < n; ++i) {
      if (buffer[i] == '\n') {
        post_line(std::move(partial));
        partial.clear();
      } else if (partial.size() >= max_line_) {
        post_line(std::move(partial));
        partial.assign(1, buffer[i]);
      } else {
        partial += buffer[i];
      }
    }
  }
  if (!partial.empty())
    post_line(std::move(partial));
  boost::asio::post(executor_, [on_end = on_end_] { on_end(); });
}

} // namespace herald::cli
