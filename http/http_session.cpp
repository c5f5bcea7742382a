#include "http/http_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include "actors/log.hpp"
#include "http/connection_registry.hpp"
#include "metrics/node_metrics.hpp"

namespace herald {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

namespace {

// Errors that only mean "the peer left" and need no log line.
bool is_disconnect(beast::error_code ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof
         || ec == net::error::connection_reset || ec == net::error::operation_aborted
         || ec == beast::error::timeout || ec == net::error::broken_pipe
         || ec == net::error::not_connected;
}

} // namespace

http_session::http_session(net::ip::tcp::socket&& socket, server_context& ctx,
                           connection_registry& registry)
    : stream_(std::move(socket)), ctx_(ctx), registry_(registry) {
  ++ctx_.open_connections;
  metrics().connection_opened(transport::longpoll);
}

http_session::~http_session() {
  if (worker_)
    caf::anon_send_exit(worker_, caf::exit_reason::user_shutdown);
  if (registry_id_ != 0)
    registry_.remove(registry_id_);
  --ctx_.open_connections;
  if (!handed_over_) // else the stream it became counts the close
    metrics().connection_closed(transport::longpoll, close_reason_);
}

void http_session::run() {
  registry_id_ = registry_.add(shared_from_this());
  net::dispatch(stream_.get_executor(),
                [self = shared_from_this()] { self->do_wait_for_request(); });
}

void http_session::reject() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    self->closing(close_reason::rejected);
    self->do_write(make_bare_error_response(503, "unavailable",
                                            "node is at max-connections; retry elsewhere"));
  });
}

void http_session::close_if_idle() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    // Only a keep-alive connection between requests: one just accepted is
    // about to send its first request, which deserves an answer.
    if (self->idle_ && self->requests_served_ > 0) {
      self->closing(close_reason::drain);
      self->do_close();
    }
  });
}

// Phase one: wait (up to keepalive-timeout) for the first bytes of a request.
// Phase two: the whole request must arrive within request-timeout.
void http_session::do_wait_for_request() {
  if (closed_)
    return;
  if (buffer_.size() > 0) {
    do_read_request(); // a pipelined request is already here
    return;
  }
  idle_ = true;
  stream_.expires_after(ctx_.config->keepalive_timeout);
  stream_.async_read_some(
      buffer_.prepare(4096),
      beast::bind_front_handler(&http_session::on_first_bytes, shared_from_this()));
}

void http_session::on_first_bytes(beast::error_code ec, std::size_t n) {
  idle_ = false;
  if (ec) {
    closing(ec == beast::error::timeout ? close_reason::timeout : close_reason::client);
    return do_close();
  }
  buffer_.commit(n);
  do_read_request();
}

void http_session::do_read_request() {
  parser_.emplace();
  parser_->body_limit(ctx_.config->max_body);
  parser_->header_limit(static_cast<std::uint32_t>(ctx_.config->max_header));
  stream_.expires_after(ctx_.config->request_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&http_session::on_read, shared_from_this()));
}

void http_session::on_read(beast::error_code ec, std::size_t) {
  if (ec) {
    closing(ec == beast::error::timeout ? close_reason::timeout
            : is_disconnect(ec)         ? close_reason::client
                                        : close_reason::error);
    if (is_disconnect(ec) || closed_)
      return do_close();
    return answer_bad_request(ec);
  }
  handle_request(parser_->release());
}

void http_session::answer_bad_request(beast::error_code ec) {
  if (ec == http::error::body_limit)
    return do_write(make_bare_error_response(
        413, "too_large", "body exceeds max-body " + std::to_string(ctx_.config->max_body)));
  if (ec == http::error::header_limit)
    return do_write(make_bare_error_response(
        413, "too_large", "headers exceed max-header " + std::to_string(ctx_.config->max_header)));
  log::debug("malformed request", {{"error", ec.message()}});
  do_write(make_bare_error_response(400, "bad_request", "malformed HTTP request: " + ec.message()));
}

void http_session::handle_request(http_request req) {
  ++requests_served_;
  stream_.expires_never();
  route(ctx_, std::move(req), shared_from_this());
  if (worker_ && !handed_over_)
    do_watch_peer();
}

void http_session::watch(caf::actor worker) {
  worker_ = std::move(worker);
}

void http_session::hand_over(std::function<void(beast::tcp_stream&&)> next) {
  handed_over_ = true;
  closed_ = true; // this object must not touch the socket again
  next(std::move(stream_));
}

// A peek, not a read: pipelined bytes stay in the socket for the next
// request. It completes with data (a pipelined request: stop watching), with
// EOF or an error (the client left), or aborted when the socket closes.
void http_session::do_watch_peer() {
  stream_.socket().async_receive(
      net::buffer(peer_probe_), net::socket_base::message_peek,
      [self = shared_from_this(), generation = watch_generation_](
          beast::error_code ec, std::size_t n) { self->on_peer_readable(ec, n, generation); });
}

void http_session::on_peer_readable(beast::error_code ec, std::size_t n, std::uint64_t generation) {
  if (ec == net::error::operation_aborted || closed_)
    return;
  bool peer_left = ec || n == 0;
  if (generation != watch_generation_) {
    // The watch of an answered request. Its EOF must still close: Asio ends
    // a readiness round at a short read, so the read queued behind this peek
    // is not woken by the same EOF and would sit in CLOSE-WAIT until
    // keepalive-timeout. (While the answer is being written no read is
    // queued yet; the next one reads the EOF at once.)
    if (peer_left && !response_) {
      closing(close_reason::client);
      do_close();
    }
    return;
  }
  if (!peer_left)
    return; // a pipelined request; it is read after this answer
  // The client went away while its request actor worked: stop the actor now.
  // Nothing is lost; undelivered events stay queued in the session.
  if (worker_) {
    caf::anon_send_exit(worker_, caf::exit_reason::user_shutdown);
    worker_ = nullptr;
  }
  do_close();
}

void http_session::respond(http_response res) {
  net::post(stream_.get_executor(), [self = shared_from_this(), res = std::move(res)]() mutable {
    self->on_response(std::move(res));
  });
}

void http_session::on_response(http_response res) {
  if (closed_)
    return;
  worker_ = nullptr;
  ++watch_generation_;
  // The peer watch stays pending: the generation bump makes it a no-op when
  // it completes (at the next bytes or the close). Cancelling it here instead
  // raced with the write on another I/O thread and could stall the
  // connection until the client sent more (seen with --io-threads 2).
  do_write(std::move(res));
}

void http_session::do_write(http_response res) {
  if (ctx_.draining || requests_served_ >= ctx_.config->max_requests_per_connection)
    res.keep_alive(false);
  response_ = std::make_shared<http_response>(std::move(res));
  // The body is what can be large (a long-poll's events); the head is not counted.
  response_bytes_ = response_->body().size();
  metrics().write_buffer_bytes->Increment(static_cast<double>(response_bytes_));
  bool keep_alive = response_->keep_alive();
  stream_.expires_after(ctx_.config->request_timeout);
  http::async_write(stream_, *response_,
                    [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                      self->on_write(ec, keep_alive);
                    });
}

void http_session::on_write(beast::error_code ec, bool keep_alive) {
  response_.reset();
  metrics().write_buffer_bytes->Decrement(static_cast<double>(response_bytes_));
  response_bytes_ = 0;
  if (!ec && !keep_alive)
    closing(ctx_.draining ? close_reason::drain : close_reason::server);
  if (ec || !keep_alive)
    return do_close();
  do_wait_for_request();
}

void http_session::closing(close_reason why) {
  if (!close_reason_given_)
    close_reason_ = why;
  close_reason_given_ = true;
}

void http_session::do_close() {
  if (closed_ || handed_over_)
    return;
  closed_ = true;
  beast::error_code ignored;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
}

} // namespace herald
