#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/buffers_prefix.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include "http/client_stream.hpp"
#include "http/frame_guard.hpp"

namespace herald {

/// Hears when the bytes held by a coalescing_stream go to the socket. The
/// observer owns the stream (here: the websocket session whose
/// websocket::stream holds it); the write in flight holds a shared_ptr to
/// the observer, and so keeps the stream alive until the write completes.
class flush_observer {
public:
  /// A socket write began; it carries every byte appended before it.
  virtual void flush_started() = 0;
  /// That write completed (its bytes are with the kernel), or failed.
  virtual void flush_completed(boost::beast::error_code ec) = 0;

protected:
  ~flush_observer() = default;
};

/// The NextLayer of a server websocket::stream that turns many frame writes
/// into one socket write. A write (Beast's, through async_write_some, or the
/// owner's, through append) only appends its bytes to a pending buffer and
/// completes at once (posted, never inline); at most one socket write is in
/// flight, and it takes everything pending. So the bytes leave in exactly the
/// order they were appended, a frame is never split by another, and N frames
/// queued while a write is in flight leave in one send (one syscall). A write is first
/// tried as a plain non-blocking send; only what the kernel does not take at
/// once goes through an async write.
///
/// A write error is kept: the observer hears it, and every later write
/// completes with it. The executor and the socket belong to the tcp_stream
/// underneath (next_layer()); Beast's teardown first waits for the pending
/// bytes (a close frame among them) to be written.
///
/// Reads first hand out the bytes given to preload() (what the HTTP parser
/// read past the upgrade request), then the socket's. Every byte read passes
/// a frame_guard: from the header of a frame that breaks its rules on, the
/// reads fail (websocket::error::message_too_big or bad_close_code), and
/// read_violation() tells the owner which close code to send; Beast itself
/// sends nothing then (its stream has failed).
///
/// Not thread-safe: everything runs on the stream's executor (a strand).
class coalescing_stream {
public:
  using next_layer_type = client_stream;
  using executor_type = next_layer_type::executor_type;

  explicit coalescing_stream(next_layer_type&& stream) : stream_(std::move(stream)) {
    // Async operations ignore this flag; our own first attempt at a write
    // must return rather than block.
    boost::beast::error_code ignored;
    stream_.socket().non_blocking(true, ignored);
  }

  executor_type get_executor() noexcept { return stream_.get_executor(); }
  next_layer_type& next_layer() noexcept { return stream_; }
  const next_layer_type& next_layer() const noexcept { return stream_; }

  /// Must be set before the first write: without a live observer nothing is
  /// written (no one would keep this stream alive meanwhile).
  void observe(std::weak_ptr<flush_observer> observer) { observer_ = std::move(observer); }

  /// Bytes to hand out before the socket's (read past the upgrade request).
  void preload(boost::beast::flat_buffer&& early) { early_ = std::move(early); }

  /// Makes a message of more than `max_fragments` frames a read violation.
  void limit_fragments(std::size_t max_fragments) { guard_ = frame_guard{max_fragments}; }

  /// What ended the reads, if the frame_guard did.
  const std::optional<frame_guard::violation>& read_violation() const { return guard_.violated(); }

  /// Adds bytes to the next socket write; nothing is written until flush().
  void append(std::string_view bytes) {
    if (!error_)
      pending_.append(bytes);
  }

  /// Writes what is pending now, or right after the write in flight. The
  /// observer hears a flush_started for these bytes in either case.
  void flush();

  /// Bytes not yet written: pending plus the write in flight.
  std::size_t buffered() const noexcept { return pending_.size() + writing_.size(); }
  bool writing() const noexcept { return in_flight_; }
  bool pending() const noexcept { return !pending_.empty(); }
  boost::beast::error_code error() const noexcept { return error_; }

  template <class MutableBufferSequence, class ReadHandler>
  auto async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    return boost::asio::async_initiate<ReadHandler, void(boost::beast::error_code, std::size_t)>(
        [this](auto&& h, const MutableBufferSequence& b) {
          if (guard_.violated() || early_.size() > 0) {
            std::size_t n = 0;
            if (!guard_.violated()) {
              n = boost::asio::buffer_copy(b, early_.data());
              early_.consume(n);
            }
            n = admit(b, n);
            boost::asio::post(stream_.get_executor(),
                              boost::beast::bind_front_handler(std::move(h), read_error(n), n));
            return;
          }
          auto executor = boost::asio::get_associated_executor(h, stream_.get_executor());
          stream_.async_read_some(
              b, boost::asio::bind_executor(executor,
                                            [this, b, h = std::move(h)](boost::beast::error_code ec,
                                                                        std::size_t n) mutable {
                                              if (!ec) {
                                                n = admit(b, n);
                                                ec = read_error(n);
                                              }
                                              h(ec, n);
                                            }));
        },
        handler, buffers);
  }

  template <class ConstBufferSequence, class WriteHandler>
  auto async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
    return boost::asio::async_initiate<WriteHandler, void(boost::beast::error_code, std::size_t)>(
        [this](auto&& h, const ConstBufferSequence& b) {
          // Everything is taken in one call: a frame Beast writes at once
          // (control frames always) is never split by another append.
          auto ec = error_;
          std::size_t n = 0;
          if (!ec) {
            for (auto it = boost::asio::buffer_sequence_begin(b);
                 it != boost::asio::buffer_sequence_end(b); ++it) {
              boost::asio::const_buffer piece = *it;
              pending_.append(static_cast<const char*>(piece.data()), piece.size());
              n += piece.size();
            }
            flush_soon();
          }
          boost::asio::post(stream_.get_executor(),
                            boost::beast::bind_front_handler(std::move(h), ec, n));
        },
        handler, buffers);
  }

  /// Calls `handler(ec)` once nothing is pending or in flight (or a write failed).
  template <class Handler>
  void async_drain(Handler&& handler) {
    if (drained()) {
      boost::asio::post(stream_.get_executor(),
                        boost::beast::bind_front_handler(std::forward<Handler>(handler), error_));
      return;
    }
    struct waiter final : drain_waiter {
      explicit waiter(Handler&& h) : h(std::forward<Handler>(h)) {}
      void done(boost::beast::error_code ec) override { h(ec); }
      std::decay_t<Handler> h;
    };
    drain_ = std::make_unique<waiter>(std::forward<Handler>(handler));
    flush();
  }

  friend void teardown(boost::beast::role_type role, coalescing_stream& s,
                       boost::beast::error_code& ec);

  /// The close frame may still wait here: shutting the socket before it is
  /// written would lose it.
  template <class TeardownHandler>
  friend void async_teardown(boost::beast::role_type role, coalescing_stream& s,
                             TeardownHandler&& handler) {
    s.async_drain(
        [role, &s, h = std::forward<TeardownHandler>(handler)](boost::beast::error_code) mutable {
          using boost::beast::websocket::async_teardown;
          async_teardown(role, s.next_layer(), std::move(h));
        });
  }

private:
  struct drain_waiter {
    virtual ~drain_waiter() = default;
    virtual void done(boost::beast::error_code ec) = 0;
  };

  bool drained() const noexcept { return error_ || (!in_flight_ && pending_.empty()); }

  // Passes the first `n` bytes of `buffers` through the guard; returns how many go on.
  template <class MutableBufferSequence>
  std::size_t admit(const MutableBufferSequence& buffers, std::size_t n) {
    std::size_t admitted = 0;
    auto read = boost::beast::buffers_prefix(n, buffers); // outlives the loop, unlike a temporary
    for (auto piece : boost::beast::buffers_range_ref(read)) {
      auto passed = guard_.admit({static_cast<const unsigned char*>(piece.data()), piece.size()});
      admitted += passed;
      if (passed < piece.size())
        break;
    }
    return admitted;
  }

  // A read that admitted nothing because of a violation fails with it.
  boost::beast::error_code read_error(std::size_t admitted) const {
    namespace websocket = boost::beast::websocket;
    const auto& violation = guard_.violated();
    if (!violation || admitted > 0)
      return {};
    return violation->close_code == 1009 ? websocket::error::message_too_big
                                         : websocket::error::bad_close_code;
  }
  void flush_soon();
  void start_write(std::shared_ptr<flush_observer> keep);
  void on_written(boost::beast::error_code ec, std::shared_ptr<flush_observer> keep);

  next_layer_type stream_;
  std::string pending_; // appended, not yet written
  std::string writing_; // the write in flight
  bool in_flight_ = false;
  bool flush_posted_ = false;
  bool again_ = false; // flush() was asked for while a write was in flight
  boost::beast::error_code error_;
  std::weak_ptr<flush_observer> observer_;
  std::unique_ptr<drain_waiter> drain_; // at most one: Beast tears down once
  boost::beast::flat_buffer early_;     // read past the upgrade request, not yet handed out
  frame_guard guard_{1024};
};

/// Appends one server-to-client text frame (final, unmasked, uncompressed;
/// RFC 6455 5.2) carrying `payload`.
void append_text_frame(coalescing_stream& s, std::string_view payload);

/// Appends a close frame with `code` and `reason` (at most 123 bytes are
/// sent), for when Beast's stream has failed and cannot send one itself.
void append_close_frame(coalescing_stream& s, std::uint16_t code, std::string_view reason);

} // namespace herald
