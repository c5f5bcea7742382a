#include "bench/loadgen/connection.hpp"

#include <cerrno>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace herald::bench {

connection::~connection() {
  if (fd_ >= 0)
    ::close(fd_);
}

bool connection::open(int epoll_fd, const sockaddr_in& address) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    close(std::string("socket: ") + std::strerror(errno));
    return false;
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  epoll_event event{};
  event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  event.data.ptr = this;
  if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd_, &event) != 0) {
    close(std::string("epoll_ctl: ") + std::strerror(errno));
    return false;
  }
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0
      && errno != EINPROGRESS) {
    close(std::string("connect: ") + std::strerror(errno));
    return false;
  }
  return true;
}

void connection::close(std::string_view why) {
  if (closed_)
    return;
  closed_ = true;
  if (fd_ >= 0) {
    ::close(fd_); // also removes it from the epoll set
    fd_ = -1;
  }
  on_closed(why);
}

void connection::handle_events(uint32_t events) {
  if (closed_)
    return;
  if (!connected_ && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) {
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) {
      close(std::string("connect: ") + std::strerror(error));
      return;
    }
    connected_ = true;
    on_connected();
    if (closed_)
      return;
  }
  if ((events & EPOLLOUT) != 0)
    flush();
  if (!closed_ && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0)
    read_all();
}

void connection::read_all() {
  static thread_local char buffer[256 * 1024];
  bool eof = false;
  for (;;) {
    const ssize_t n = ::read(fd_, buffer, sizeof buffer);
    if (n > 0) {
      in_.append(buffer, static_cast<std::size_t>(n));
      if (static_cast<std::size_t>(n) < sizeof buffer)
        break; // the next read would most likely say EAGAIN; edge-triggered is still safe
      continue;
    }
    if (n == 0) {
      eof = true;
      break;
    }
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      break;
    close(std::string("read: ") + std::strerror(errno));
    return;
  }
  if (in_pos_ < in_.size())
    on_input();
  if (closed_)
    return;
  // Keep the buffer from growing: drop what the protocol consumed.
  if (in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  } else if (in_pos_ > 64 * 1024) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  if (eof) {
    on_peer_eof();
    close("closed by the server");
  }
}

void connection::flush() {
  if (closed_ || !connected_)
    return;
  while (out_pos_ < out_.size()) {
    const ssize_t n = ::send(fd_, out_.data() + out_pos_, out_.size() - out_pos_, MSG_NOSIGNAL);
    if (n > 0) {
      out_pos_ += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return;
    close(std::string("send: ") + std::strerror(errno));
    return;
  }
  out_.clear();
  out_pos_ = 0;
}

} // namespace herald::bench
