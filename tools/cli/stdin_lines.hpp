#pragma once

// Lines from a file descriptor (stdin), read on a thread of their own and
// handed to an executor, so that the client's single thread never blocks.

#include <functional>
#include <string>
#include <thread>

#include <boost/asio/any_io_executor.hpp>

namespace herald::cli {

/// Reads `fd` line by line on its own thread and posts each line (without
/// its end of line) to `on_line`, then `on_end` once at end of input or on a
/// read error, all on `executor`. Lines longer than `max_line` bytes are
/// cut into pieces of that size. Works for ttys, pipes and regular files
/// alike. The destructor stops the thread (a read in progress is abandoned)
/// and joins it; after it returns nothing more is posted.
class stdin_lines {
public:
  stdin_lines(int fd, boost::asio::any_io_executor executor,
              std::function<void(std::string)> on_line, std::function<void()> on_end,
              std::size_t max_line = 64 * 1024);
  ~stdin_lines();

  stdin_lines(const stdin_lines&) = delete;
  stdin_lines& operator=(const stdin_lines&) = delete;

private:
  void run();

  int fd_;
  boost::asio::any_io_executor executor_;
  std::function<void(std::string)> on_line_;
  std::function<void()> on_end_;
  std::size_t max_line_;
  int wake_[2] = {-1, -1}; // a pipe: the destructor writes to stop the thread
  std::thread thread_;
};

} // namespace herald::cli
