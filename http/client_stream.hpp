#pragma once

#include <memory>
#include <variant>

#include <boost/asio/async_result.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/teardown.hpp>

namespace herald {

/// A client connection, plain TCP or TLS (`--tls-cert`): what every HTTP,
/// stream and WebSocket session reads and writes. Timeouts, the socket and
/// the executor always belong to the TCP stream underneath (next_layer()),
/// so a deadline covers TLS records too. One type for both keeps the
/// sessions free of templates; the cost is one branch per read and write.
class client_stream {
public:
  using tls_layer = boost::asio::ssl::stream<boost::beast::tcp_stream>;
  using next_layer_type = boost::beast::tcp_stream;
  using executor_type = next_layer_type::executor_type;

  explicit client_stream(boost::beast::tcp_stream&& plain) : layer_(std::move(plain)) {}

  /// A TLS stream whose handshake has completed.
  explicit client_stream(std::unique_ptr<tls_layer> tls) : layer_(std::move(tls)) {}

  executor_type get_executor() noexcept { return next_layer().get_executor(); }

  next_layer_type& next_layer() noexcept {
    if (auto* t = tls())
      return t->next_layer();
    return std::get<boost::beast::tcp_stream>(layer_);
  }

  boost::asio::ip::tcp::socket& socket() noexcept { return next_layer().socket(); }

  /// The TLS layer, or nullptr for plain TCP.
  /// The TCP peer's address, as accepted.
  const boost::asio::ip::address& peer() const noexcept { return peer_; }
  void set_peer(boost::asio::ip::address a) { peer_ = std::move(a); }

  /// Keeps `slot` (a per-address count) as long as the connection lives.
  void hold(std::shared_ptr<void> slot) { slot_ = std::move(slot); }

  tls_layer* tls() noexcept {
    auto* held = std::get_if<std::unique_ptr<tls_layer>>(&layer_);
    return held ? held->get() : nullptr;
  }

  template <class Duration>
  void expires_after(Duration d) {
    next_layer().expires_after(d);
  }

  void expires_never() { next_layer().expires_never(); }

  template <class MutableBufferSequence, class ReadHandler>
  auto async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    return boost::asio::async_initiate<ReadHandler, void(boost::beast::error_code, std::size_t)>(
        [this](auto&& h, const MutableBufferSequence& b) {
          if (auto* t = tls())
            t->async_read_some(b, std::move(h));
          else
            next_layer().async_read_some(b, std::move(h));
        },
        handler, buffers);
  }

  template <class ConstBufferSequence, class WriteHandler>
  auto async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
    return boost::asio::async_initiate<WriteHandler, void(boost::beast::error_code, std::size_t)>(
        [this](auto&& h, const ConstBufferSequence& b) {
          if (auto* t = tls())
            t->async_write_some(b, std::move(h));
          else
            next_layer().async_write_some(b, std::move(h));
        },
        handler, buffers);
  }

  friend void teardown(boost::beast::role_type role, client_stream& s,
                       boost::beast::error_code& ec) {
    using boost::beast::websocket::teardown;
    if (auto* t = s.tls())
      teardown(role, *t, ec);
    else
      teardown(role, s.next_layer(), ec);
  }

  template <class TeardownHandler>
  friend void async_teardown(boost::beast::role_type role, client_stream& s,
                             TeardownHandler&& handler) {
    using boost::beast::websocket::async_teardown;
    if (auto* t = s.tls())
      async_teardown(role, *t, std::forward<TeardownHandler>(handler));
    else
      async_teardown(role, s.next_layer(), std::forward<TeardownHandler>(handler));
  }

private:
  std::variant<boost::beast::tcp_stream, std::unique_ptr<tls_layer>> layer_;
  boost::asio::ip::address peer_;
  std::shared_ptr<void> slot_;
};

} // namespace herald
