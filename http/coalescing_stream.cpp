#include "http/coalescing_stream.hpp"

#include <cstdint>
#include <utility>

#include <boost/asio/write.hpp>

namespace herald {

namespace net = boost::asio;
namespace beast = boost::beast;

namespace {

// A burst may grow the buffers; past this they are given back after the
// write, so that thousands of idle sockets do not each keep their peak.
constexpr std::size_t retained_capacity = 64 * 1024;

void trim(std::string& buffer) {
  buffer.clear();
  if (buffer.capacity() > retained_capacity)
    std::string{}.swap(buffer);
}

} // namespace

void coalescing_stream::flush() {
  if (in_flight_) {
    again_ = true;
    return;
  }
  if (error_)
    return;
  if (auto keep = observer_.lock())
    start_write(std::move(keep));
}

// Beast's writes come one frame at a time; deferring the socket write to a
// posted step lets the frames of one handler run leave together.
void coalescing_stream::flush_soon() {
  if (in_flight_ || flush_posted_)
    return; // on_written takes what is pending
  auto keep = observer_.lock();
  if (!keep)
    return;
  flush_posted_ = true;
  net::post(stream_.get_executor(), [this, keep = std::move(keep)] {
    flush_posted_ = false;
    if (!in_flight_ && !pending_.empty()) // else on_written, or a flush(), took it
      flush();
  });
}

void coalescing_stream::start_write(std::shared_ptr<flush_observer> keep) {
  writing_.swap(pending_); // pending_ gets the (empty) buffer of the last write
  in_flight_ = true;
  again_ = false;
  keep->flush_started();
  // Most writes fit in the socket's buffer at once: a non-blocking send then
  // completes here, without an async operation and its posted completion.
  beast::error_code ec;
  std::size_t sent = 0;
  if (auto* tls = stream_.tls()) {
    // TLS records go through OpenSSL: no plain first attempt.
    net::async_write(*tls, net::buffer(writing_),
                     [this, keep = std::move(keep)](beast::error_code ec, std::size_t) mutable {
                       on_written(ec, std::move(keep));
                     });
    return;
  }
  if (!writing_.empty())
    sent = stream_.socket().write_some(net::buffer(writing_), ec);
  if (!ec && sent == writing_.size())
    return on_written({}, std::move(keep));
  if (ec && ec != net::error::would_block) {
    // Told from a posted step, like an async failure: the observer must not
    // tear the connection down inside the call that asked for the flush.
    net::post(stream_.get_executor(),
              [this, ec, keep = std::move(keep)]() mutable { on_written(ec, std::move(keep)); });
    return;
  }
  net::async_write(stream_.socket(), net::buffer(writing_.data() + sent, writing_.size() - sent),
                   [this, keep = std::move(keep)](beast::error_code ec, std::size_t) mutable {
                     on_written(ec, std::move(keep));
                   });
}

void coalescing_stream::on_written(beast::error_code ec, std::shared_ptr<flush_observer> keep) {
  in_flight_ = false;
  trim(writing_);
  if (ec) {
    error_ = ec;
    trim(pending_);
  }
  // The completion is told before the next write starts: the observer counts
  // what one write carried.
  keep->flush_completed(ec);
  if (!in_flight_ && !error_ && (again_ || !pending_.empty()))
    start_write(std::move(keep));
  if (drain_ && drained())
    std::exchange(drain_, nullptr)->done(error_);
}

void teardown(beast::role_type role, coalescing_stream& s, beast::error_code& ec) {
  // Over TLS a blocking write of the rest cannot be made here: it is dropped.
  if (!s.in_flight_ && !s.error_ && !s.pending_.empty() && s.stream_.tls() == nullptr) {
    net::write(s.stream_.socket(), net::buffer(s.pending_), ec);
    s.pending_.clear();
    if (ec)
      return;
  }
  using beast::websocket::teardown;
  teardown(role, s.stream_, ec);
}

void append_text_frame(coalescing_stream& s, std::string_view payload) {
  char header[10];
  std::size_t size = payload.size();
  std::size_t length = 2;
  header[0] = static_cast<char>(0x81); // FIN, opcode 1 (text)
  if (size < 126) {
    header[1] = static_cast<char>(size);
  } else if (size <= 0xffff) {
    header[1] = 126;
    header[2] = static_cast<char>(size >> 8);
    header[3] = static_cast<char>(size);
    length = 4;
  } else {
    header[1] = 127;
    for (int i = 0; i < 8; ++i)
      header[2 + i] = static_cast<char>(static_cast<std::uint64_t>(size) >> (56 - 8 * i));
    length = 10;
  }
  s.append({header, length});
  s.append(payload);
}

void append_close_frame(coalescing_stream& s, std::uint16_t code, std::string_view reason) {
  reason = reason.substr(0, 123); // a control frame's payload is at most 125 bytes
  char header[4] = {static_cast<char>(0x88), static_cast<char>(2 + reason.size()),
                    static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
  s.append({header, sizeof header});
  s.append(reason);
}

} // namespace herald
