#include "tools/client/sse_transport.hpp"

#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace herald::client {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// An error answer longer than this is not Herald's; keep what fits.
constexpr std::size_t max_error_body = std::size_t{64} * 1024;

bool ends_with(const std::optional<std::string>& id, std::string_view suffix) {
  return id && id->ends_with(suffix);
}

} // namespace

void sse_transport::start_stream(const std::string& session, std::uint64_t cursor,
                                 stream_handlers handlers) {
  session_ = session;
  cursor_ = cursor;
  handlers_ = std::move(handlers);
  request_
      = make_request(http::verb::get, settings_.url,
                     settings_.url.target("/v1/sse") + "?session=" + encode_query_value(session_));
  // Last-Event-ID wins over the query and names the exact resume point.
  request_.set("Last-Event-ID", session_ + "." + std::to_string(cursor_));
  request_.set(http::field::accept, "text/event-stream");
  resolver_ = std::make_shared<tcp::resolver>(executor_);
  stream_ = std::make_shared<beast::tcp_stream>(executor_);
  auto self = std::static_pointer_cast<sse_transport>(shared_from_this());
  resolver_->async_resolve(settings_.url.host, settings_.url.port,
                           beast::bind_front_handler(&sse_transport::on_resolve, self));
}

void sse_transport::on_resolve(beast::error_code ec, tcp::resolver::results_type results) {
  if (closed_)
    return;
  if (ec)
    return end(
        make_problem(problem_kind::lost, "cannot resolve the server's host: " + ec.message()));
  stream_->expires_after(settings_.connect_timeout);
  stream_->async_connect(results, beast::bind_front_handler(
                                      &sse_transport::on_connect,
                                      std::static_pointer_cast<sse_transport>(shared_from_this())));
}

void sse_transport::on_connect(beast::error_code ec, tcp::endpoint) {
  if (closed_)
    return;
  if (ec)
    return end(make_problem(problem_kind::lost, "cannot connect: " + ec.message()));
  http::async_write(
      *stream_, request_,
      beast::bind_front_handler(&sse_transport::on_write,
                                std::static_pointer_cast<sse_transport>(shared_from_this())));
}

void sse_transport::on_write(beast::error_code ec, std::size_t) {
  if (closed_)
    return;
  if (ec)
    return end(make_problem(problem_kind::lost, "cannot send GET /v1/sse: " + ec.message()));
  parser_.emplace();
  parser_->body_limit(boost::none); // a stream has no end to limit
  stream_->expires_after(settings_.idle_timeout);
  http::async_read_header(
      *stream_, buffer_, *parser_,
      beast::bind_front_handler(&sse_transport::on_header,
                                std::static_pointer_cast<sse_transport>(shared_from_this())));
}

void sse_transport::on_header(beast::error_code ec, std::size_t) {
  if (closed_)
    return;
  if (ec)
    return end(make_problem(problem_kind::lost, "no answer to GET /v1/sse: " + ec.message()));
  streaming_ = parser_->get().result() == http::status::ok;
  if (streaming_) {
    handlers_.on_started();
    if (closed_)
      return;
  }
  if (parser_->is_done()) {
    // No body (a 204): nothing was read into the chunk.
    parser_->get().body().data = chunk_.data();
    parser_->get().body().size = chunk_.size();
    return on_body({}, 0);
  }
  do_read_body();
}

void sse_transport::do_read_body() {
  parser_->get().body().data = chunk_.data();
  parser_->get().body().size = chunk_.size();
  // Herald sends a heartbeat comment every --heartbeat; silence means a dead link.
  stream_->expires_after(settings_.idle_timeout);
  http::async_read_some(
      *stream_, buffer_, *parser_,
      beast::bind_front_handler(&sse_transport::on_body,
                                std::static_pointer_cast<sse_transport>(shared_from_this())));
}

void sse_transport::on_body(beast::error_code ec, std::size_t) {
  if (closed_)
    return;
  if (ec == http::error::need_buffer)
    ec = {};
  if (ec == beast::error::timeout)
    return end(make_problem(problem_kind::lost, "the event stream went silent"));
  if (ec)
    return end(make_problem(problem_kind::lost, "the event stream was cut: " + ec.message()));
  auto received = std::string_view{chunk_.data(), chunk_.size() - parser_->get().body().size};
  if (streaming_) {
    std::vector<sse_event> events;
    if (!sse_.feed(received, events))
      return end(make_problem(problem_kind::failed, "the event stream is not SSE (line too long)"));
    for (const auto& event : events) {
      on_sse_event(event);
      if (closed_ || ended_)
        return;
    }
  } else if (error_body_.size() < max_error_body) {
    error_body_.append(received.substr(0, max_error_body - error_body_.size()));
  }
  if (!parser_->is_done())
    return do_read_body();
  if (streaming_)
    return end(make_problem(problem_kind::lost, "the server ended the event stream"));
  http_response answer{parser_->get().result(), 11};
  answer.body() = error_body_;
  if (parser_->get().result() == http::status::no_content)
    return end(link_problem{problem_kind::failed,
                            "the server ended the event stream for good (204)", "", 204});
  auto why = problem_of(answer, "GET /v1/sse");
  if (why.kind == problem_kind::refused)
    why.kind = problem_kind::failed;
  end(why);
}

void sse_transport::on_sse_event(const sse_event& event) {
  auto data = json::parse(event.data, nullptr, false);
  if (event.type == "superseded" || ends_with(event.id, ".superseded"))
    return end(make_problem(problem_kind::superseded,
                            "another client took over the session (SSE superseded)"));
  if (event.type == "reconnect")
    return end(make_problem(problem_kind::reconnect, "the server asked to reconnect (draining)"));
  if (event.type == "error") {
    auto error = data.is_object() && data.contains("error") ? data["error"] : json::object();
    auto why = problem_from_error(error);
    if (ends_with(event.id, ".gone"))
      why.kind = problem_kind::unknown_session;
    else if (why.kind != problem_kind::unknown_session)
      why.kind = problem_kind::failed; // `.stop` and anything else: retrying cannot help
    return end(why);
  }
  // Every numbered event is the event frame itself; `session` (implicit
  // enter) never comes since this client always names its session.
  if (data.is_object() && data.contains("type"))
    handlers_.on_frame(std::move(data));
}

void sse_transport::end(link_problem problem) {
  if (closed_ || ended_)
    return;
  ended_ = true;
  beast::error_code ignored;
  if (stream_)
    stream_->socket().close(ignored);
  handlers_.on_end(std::move(problem));
}

void sse_transport::close() {
  if (resolver_)
    resolver_->cancel();
  if (stream_) {
    beast::error_code ignored;
    stream_->socket().close(ignored);
  }
  http_transport::close();
}

} // namespace herald::client
