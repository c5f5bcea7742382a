#include "tools/client/longpoll_transport.hpp"

namespace herald::client {

namespace http = boost::beast::http;

void longpoll_transport::start_stream(const std::string& session, std::uint64_t cursor,
                                      stream_handlers handlers) {
  session_ = session;
  cursor_ = cursor;
  handlers_ = std::move(handlers);
  poll();
}

void longpoll_transport::poll() {
  auto timeout = started_ ? settings_.listen_timeout : std::chrono::seconds{0};
  auto target = settings_.url.target("/v1/listen") + "?session=" + encode_query_value(session_)
                + "&cursor=" + std::to_string(cursor_)
                + "&timeout=" + std::to_string(timeout.count());
  auto self = std::static_pointer_cast<longpoll_transport>(shared_from_this());
  // The server answers at its timeout at the latest; beyond that plus a
  // margin the link is taken as dead.
  listen_ = http_exchange::start(
      executor_, settings_.url, make_request(http::verb::get, settings_.url, target),
      timeout + settings_.call_timeout,
      [self](std::optional<link_problem> problem, http_response response) {
        self->listen_.reset();
        self->on_poll(std::move(problem), std::move(response));
      });
}

void longpoll_transport::on_poll(std::optional<link_problem> problem, http_response response) {
  if (problem)
    return end(*problem);
  if (response.result() != http::status::ok) {
    auto why = problem_of(response, "GET /v1/listen");
    // A listen refused for any other reason than a lost session will never succeed.
    if (why.kind == problem_kind::refused)
      why.kind = problem_kind::failed;
    return end(why);
  }
  auto body = json::parse(response.body(), nullptr, false);
  auto events = body.is_object() ? body.find("events") : body.end();
  auto cursor = body.is_object() ? body.find("cursor") : body.end();
  auto cursor_value = cursor == body.end() ? std::nullopt : read_unsigned(*cursor);
  if (!body.is_object() || events == body.end() || !events->is_array() || !cursor_value)
    return end(make_problem(problem_kind::failed, "GET /v1/listen answered something that is "
                                                  "not a listen result"));
  if (!started_) {
    started_ = true;
    handlers_.on_started();
    if (closed_)
      return;
  }
  for (auto& event : *events) {
    handlers_.on_frame(std::move(event));
    if (closed_)
      return;
  }
  cursor_ = std::max(cursor_, *cursor_value);
  if (body.value("superseded", false))
    return end(make_problem(problem_kind::superseded,
                            "another client took over the session (listen superseded)"));
  poll();
}

void longpoll_transport::end(link_problem problem) {
  if (closed_ || ended_)
    return;
  ended_ = true;
  handlers_.on_end(std::move(problem));
}

void longpoll_transport::close() {
  if (listen_)
    listen_->cancel();
  listen_.reset();
  http_transport::close();
}

} // namespace herald::client
