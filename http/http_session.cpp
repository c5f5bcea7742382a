#include "http/http_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "actors/log.hpp"
#include "http/connection_registry.hpp"
#include "http/query_string.hpp"
#include "http/request_framing.hpp"
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

// Appends the response as it goes on the wire (head, then body).
void serialize_into(std::string& out, http_response& res) {
  http::serializer<false, http::string_body> serializer{res};
  beast::error_code ec;
  while (!serializer.is_done() && !ec)
    serializer.next(ec, [&](beast::error_code&, const auto& buffers) {
      for (auto buffer : beast::buffers_range_ref(buffers))
        out.append(static_cast<const char*>(buffer.data()), buffer.size());
      serializer.consume(beast::buffer_bytes(buffers));
    });
}

bool is_publish(const http_request& req) {
  return req.method() == http::verb::post && req.target() == "/v1/publish";
}

bool is_probe(const http_request& req) {
  if (req.method() != http::verb::get && req.method() != http::verb::head)
    return false;
  auto path = split_target(req.target()).first;
  return path == "/healthz" || path == "/readyz";
}

// Browsers must not sniff an error body into HTML: every answer says so.
void forbid_sniffing(http_response& res) {
  res.set("X-Content-Type-Options", "nosniff");
}

} // namespace

// The responder of one request: its answer takes its own place in the
// connection's answer queue, so answers go out in request order.
class http_session::request_slot final : public responder {
public:
  request_slot(std::shared_ptr<http_session> session, std::uint64_t number)
      : session_(std::move(session)), number_(number) {}

  void respond(http_response res) override { session_->respond(number_, std::move(res)); }
  void watch(caf::actor worker) override { session_->watch(std::move(worker)); }
  void hand_over(stream_handoff next) override { session_->hand_over(std::move(next)); }
  void publish(publish_request request, std::function<void(const reply&)> answer) override {
    session_->batch_.add(std::move(request), std::move(answer));
  }
  command_budget& budget() override { return session_->budget_; }
  std::string client_address(const http_request& req) override {
    return session_->client_address(req);
  }

private:
  std::shared_ptr<http_session> session_;
  std::uint64_t number_;
};

http_session::http_session(client_stream&& stream, server_context& ctx,
                           connection_registry& registry)
    : stream_(std::move(stream)), ctx_(ctx), registry_(registry), budget_(ctx.config->rate_limit) {
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
    self->answer_now(make_bare_error_response(503, "unavailable",
                                              "node is at max-connections; retry elsewhere"));
  });
}

void http_session::refuse_address() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    self->closing(close_reason::rejected);
    auto res = make_bare_error_response(
        429, "rate_limited",
        "more than " + std::to_string(self->ctx_.config->max_connections_per_address)
            + " connections from this address (max-connections-per-address)");
    res.set(http::field::retry_after, "1");
    self->answer_now(std::move(res));
  });
}

std::string http_session::client_address(const http_request& req) const {
  return client_address_of(stream_.peer(), req["X-Forwarded-For"], ctx_.proxies);
}

void http_session::run_for_probes() {
  probes_only_ = true;
  run();
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

// Phase one: wait for the first bytes of a request, up to keepalive-timeout
// between requests, but only request-timeout for a connection's first: a
// client that connects and says nothing must not hold a slot for a minute.
// Phase two: the whole request must arrive within request-timeout.
void http_session::do_wait_for_request() {
  if (closed_)
    return;
  if (peer_left_ && buffer_.size() == 0) {
    closing(close_reason::client);
    return do_close();
  }
  if (buffer_.size() > 0) {
    do_read_request(); // a pipelined request is already here
    return;
  }
  idle_ = true;
  stream_.expires_after(requests_served_ == 0 ? ctx_.config->request_timeout
                                              : ctx_.config->keepalive_timeout);
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
  http::async_read_header(
      stream_, buffer_, *parser_,
      beast::bind_front_handler(&http_session::on_read_header, shared_from_this()));
}

// The head decides, before any body byte is read, whether the framing is
// unambiguous and what the client expects (RFC 9112 6, RFC 9110 10.1.1).
void http_session::on_read_header(beast::error_code ec, std::size_t n) {
  if (ec)
    return on_read(ec, n);
  const auto& head = parser_->get();
  if (auto problem = framing_problem(head); !problem.empty()) {
    closing(close_reason::error);
    return answer_now(make_bare_error_response(400, "bad_request", problem));
  }
  switch (expectation_of(head)) {
    case expectation::unknown:
      // The body (if any) stays unread: the connection cannot go on.
      closing(close_reason::error);
      return answer_now(
          make_bare_error_response(417, "bad_request", "Expect: only 100-continue is supported"));
    case expectation::send_continue:
      if (!parser_->is_done())
        return do_send_continue();
      break;
    case expectation::none: break;
  }
  do_read_body();
}

void http_session::do_send_continue() {
  static constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
  net::async_write(stream_, net::buffer(interim.data(), interim.size()),
                   [self = shared_from_this()](beast::error_code ec, std::size_t) {
                     if (ec) {
                       self->closing(close_reason::client);
                       return self->do_close();
                     }
                     self->do_read_body();
                   });
}

void http_session::do_read_body() {
  if (parser_->is_done())
    return on_read({}, 0);
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
  auto req = parser_->release();
  if (!normalize_target(req)) {
    closing(close_reason::error);
    return answer_now(make_bare_error_response(
        400, "bad_request", "request target: an origin-form path or an http(s) URL"));
  }
  handle_request(std::move(req));
}

void http_session::answer_bad_request(beast::error_code ec) {
  if (ec == http::error::body_limit)
    return answer_now(make_bare_error_response(
        413, "too_large", "body exceeds max-body " + std::to_string(ctx_.config->max_body)));
  if (ec == http::error::header_limit)
    return answer_now(make_bare_error_response(
        413, "too_large", "headers exceed max-header " + std::to_string(ctx_.config->max_header)));
  log::debug("malformed request", {{"error", ec.message()}});
  answer_now(
      make_bare_error_response(400, "bad_request", "malformed HTTP request: " + ec.message()));
}

void http_session::handle_request(http_request req) {
  stream_.expires_never();
  if (probes_only_) {
    if (!is_probe(req)) {
      closing(close_reason::rejected);
      return answer_now(make_bare_error_response(503, "unavailable",
                                                 "node is at max-connections; retry elsewhere"));
    }
    req.keep_alive(false); // the slot is borrowed for this one answer
    return route_one(std::move(req));
  }
  bool gather = is_publish(req) && req.keep_alive();
  route_one(std::move(req));
  // Publishes pipelined behind it that are already here join its batch.
  for (std::size_t taken = 1; gather && taken < ctx_.config->publish_batch && !closed_
                              && requests_served_ < ctx_.config->max_requests_per_connection;
       ++taken) {
    auto next = take_buffered_publish();
    if (!next)
      break;
    gather = next->keep_alive();
    route_one(std::move(*next));
  }
  if (!batch_.empty())
    watch(batch_.spawn(ctx_));
  if (worker_ && !handed_over_) {
    // A long-poll may wait minutes: it need not keep the read buffer's capacity meanwhile.
    if (buffer_.size() == 0)
      buffer_.shrink_to_fit();
    do_watch_peer();
  }
}

// Parses the next request out of what is already buffered, without reading;
// takes it only when it is complete and a publish. Anything else stays for
// the ordinary read.
std::optional<http_request> http_session::take_buffered_publish() {
  if (buffer_.size() == 0)
    return std::nullopt;
  http::request_parser<http::string_body> parser;
  parser.body_limit(ctx_.config->max_body);
  parser.header_limit(static_cast<std::uint32_t>(ctx_.config->max_header));
  parser.eager(true);
  auto data = buffer_.data();
  std::size_t used = 0;
  while (!parser.is_done()) {
    beast::error_code ec;
    auto n = parser.put(
        net::buffer(static_cast<const char*>(data.data()) + used, data.size() - used), ec);
    if (ec || n == 0)
      return std::nullopt; // incomplete or malformed: the ordinary read deals with it
    used += n;
  }
  // A head that the ordinary read refuses must not be taken past it here.
  if (!framing_problem(parser.get()).empty() || expectation_of(parser.get()) != expectation::none
      || !is_publish(parser.get()))
    return std::nullopt;
  buffer_.consume(used);
  return parser.release();
}

void http_session::route_one(http_request req) {
  auto number = ++requests_served_;
  answers_.emplace_back();
  ++unanswered_;
  route(ctx_, std::move(req), std::make_shared<request_slot>(shared_from_this(), number));
}

void http_session::watch(caf::actor worker) {
  worker_ = std::move(worker);
}

void http_session::hand_over(stream_handoff next) {
  handed_over_ = true;
  closed_ = true; // this object must not touch the socket again
  next(std::move(stream_), std::move(buffer_));
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
    if (peer_left && !writing_ && answers_.empty()) {
      closing(close_reason::client);
      do_close();
    } else if (peer_left) {
      // Its answer is still being written: close right after it, rather than
      // trust the next read to see this EOF (under load it did not, and the
      // connection waited for keepalive-timeout).
      peer_left_ = true;
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

void http_session::respond(std::uint64_t number, http_response res) {
  net::post(stream_.get_executor(),
            [self = shared_from_this(), number, res = std::move(res)]() mutable {
              self->on_response(number, std::move(res));
            });
}

void http_session::on_response(std::uint64_t number, http_response res) {
  if (closed_)
    return;
  answers_[number - first_answer_] = std::move(res);
  if (--unanswered_ == 0) {
    worker_ = nullptr;
    // The peer watch stays pending: the generation bump makes it a no-op
    // when it completes (at the next bytes or the close). Cancelling it here
    // instead raced with the write on another I/O thread and could stall the
    // connection until the client sent more (seen with --io-threads 2).
    ++watch_generation_;
  }
  write_next();
}

// For answers given before any routing: a refusal or a malformed request.
void http_session::answer_now(http_response res) {
  ++requests_served_;
  answers_.emplace_back(std::move(res));
  write_next();
}

// Writes the answers that are ready at the front, in one write, when no write is in flight:
// a batch of pipelined publishes is answered with one syscall, not one per request.
void http_session::write_next() {
  if (closed_ || writing_ || answers_.empty() || !answers_.front())
    return;
  wire_.clear();
  written_body_bytes_ = 0;
  bool keep_alive = true;
  while (keep_alive && !answers_.empty() && answers_.front()) {
    auto res = std::move(*answers_.front());
    answers_.pop_front();
    auto number = first_answer_++;
    // Draining closes after the last answer due, not before the ones behind it.
    if ((ctx_.draining && answers_.empty()) || number >= ctx_.config->max_requests_per_connection)
      res.keep_alive(false);
    keep_alive = res.keep_alive();
    forbid_sniffing(res);
    // The bodies are what can be large (a long-poll's events); heads are not counted.
    written_body_bytes_ += res.body().size();
    serialize_into(wire_, res);
  }
  metrics().write_buffer_bytes->Increment(static_cast<double>(written_body_bytes_));
  writing_ = true;
  stream_.expires_after(ctx_.config->request_timeout);
  net::async_write(stream_, net::buffer(wire_),
                   [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                     self->on_write(ec, keep_alive);
                   });
}

void http_session::on_write(beast::error_code ec, bool keep_alive) {
  writing_ = false;
  metrics().write_buffer_bytes->Decrement(static_cast<double>(written_body_bytes_));
  written_body_bytes_ = 0;
  // A large long-poll answer need not keep its capacity for the connection's life.
  if (wire_.capacity() > 64 * 1024)
    std::string{}.swap(wire_);
  if (!ec && !keep_alive)
    closing(ctx_.draining ? close_reason::drain : close_reason::server);
  if (ec || !keep_alive)
    return do_close();
  if (!answers_.empty())
    return write_next();
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
