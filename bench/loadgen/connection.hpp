#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <netinet/in.h>

namespace herald::bench {

/// One non-blocking client TCP connection registered edge-triggered with an epoll instance.
/// Subclasses speak the protocol: they write with `queue`/`flush` and consume `in_` from
/// `in_pos_` in `on_input`. A closed connection keeps its object (stale epoll events may
/// still name it) and never reopens.
class connection {
public:
  connection() = default;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  virtual ~connection();

  /// Starts a connect to `address`. Returns false (and closes, calling `on_closed`) when the
  /// socket cannot be created or registered.
  bool open(int epoll_fd, const sockaddr_in& address);

  /// Dispatches one epoll event mask.
  void handle_events(uint32_t events);

  bool is_open() const { return fd_ >= 0; }
  bool is_connected() const { return connected_; }

  /// Closes the socket once; `on_closed(why)` runs then.
  void close(std::string_view why);

protected:
  /// Appends to the output buffer without writing.
  void queue(std::string_view data) { out_.append(data); }
  /// Writes what the socket takes now; the rest goes out on the next EPOLLOUT.
  void flush();
  void send(std::string_view data) {
    queue(data);
    flush();
  }

  virtual void on_connected() = 0;
  virtual void on_input() = 0;
  virtual void on_peer_eof() {}
  virtual void on_closed(std::string_view why) = 0;

  std::string in_;
  std::size_t in_pos_ = 0;

private:
  void read_all();

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string out_;
  std::size_t out_pos_ = 0;
};

} // namespace herald::bench
