#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/container/deque.hpp>

#include "http/client_stream.hpp"
#include "http/command_budget.hpp"
#include "http/publish_batch.hpp"
#include "http/router.hpp"
#include "http/server_context.hpp"
#include "metrics/node_metrics.hpp"

namespace herald {

class connection_registry;

/// One HTTP/1.1 connection: reads a request, routes it, writes the answer,
/// and reads the next (keep-alive). Every handler runs on the connection's
/// strand; actors reach it only through a request's responder, which posts
/// there.
///
/// Pipelined `POST /v1/publish` requests that are already buffered are read
/// together (at most `publish-batch`) and performed by one request actor, in
/// order; their answers are written in request order. Other pipelined
/// requests wait in the bounded read buffer until the one before them is
/// answered.
///
/// While a request actor works (a long-poll), the connection watches the
/// socket: a client that goes away kills the actor at once.
class http_session : public std::enable_shared_from_this<http_session> {
public:
  http_session(client_stream&& stream, server_context& ctx, connection_registry& registry);
  ~http_session();

  /// Starts reading requests.
  void run();

  /// Answers 503 `unavailable` and closes (the node is at max-connections).
  void reject();

  /// Answers 429 `rate_limited` and closes (its address is at
  /// max-connections-per-address).
  void refuse_address();

  /// The client this connection serves, for `req` (X-Forwarded-For from a
  /// trusted proxy, else the TCP peer).
  std::string client_address(const http_request& req) const;

  /// Starts like run(), on a connection beyond max-connections (within
  /// probe-connections): answers its first request only when it is a
  /// GET/HEAD of /healthz or /readyz, else 503 `unavailable`; then closes.
  /// So an orchestrator's probes still see a full node as alive.
  void run_for_probes();

  /// Closes the connection if it waits for a next request (drain).
  void close_if_idle();

private:
  class request_slot;

  void do_wait_for_request();
  void on_first_bytes(boost::beast::error_code ec, std::size_t n);
  void do_read_request();
  void on_read_header(boost::beast::error_code ec, std::size_t n);
  void do_send_continue();
  void do_read_body();
  void on_read(boost::beast::error_code ec, std::size_t n);
  void handle_request(http_request req);
  std::optional<http_request> take_buffered_publish();
  void route_one(http_request req);
  void watch(caf::actor worker);
  void hand_over(stream_handoff next);
  void do_watch_peer();
  void on_peer_readable(boost::beast::error_code ec, std::size_t n, std::uint64_t generation);
  void respond(std::uint64_t number, http_response res);
  void on_response(std::uint64_t number, http_response res);
  void answer_now(http_response res);
  void write_next();
  void on_write(boost::beast::error_code ec, bool keep_alive);
  void answer_bad_request(boost::beast::error_code ec);
  void closing(close_reason why);
  void do_close();

  client_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  server_context& ctx_;
  connection_registry& registry_;
  std::uint64_t registry_id_ = 0;
  // The answers of the requests routed and not yet written, in request
  // order; empty until the request's answer arrives. The front one is
  // request number `first_answer_` (numbers count from 1).
  boost::container::deque<std::optional<http_response>> answers_;
  std::uint64_t first_answer_ = 1;
  std::size_t unanswered_ = 0;
  std::string wire_; // the answers being written
  bool writing_ = false;
  std::size_t written_body_bytes_ = 0; // counted in herald_write_buffer_bytes while written
  publish_batch batch_;                // publishes of the requests being routed
  command_budget budget_;              // --rate-limit of the commands this connection sends
  caf::actor worker_;
  std::uint64_t watch_generation_ = 0;
  std::size_t requests_served_ = 0;
  bool idle_ = false;
  bool peer_left_ = false; // an EOF seen by an old peer watch while an answer was written
  bool closed_ = false;
  bool handed_over_ = false;
  bool probes_only_ = false;                         // beyond max-connections: see run_for_probes()
  close_reason close_reason_ = close_reason::client; // the first reason given wins
  bool close_reason_given_ = false;
  char peer_probe_[1];
};

} // namespace herald
