#pragma once

#include <array>

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "tools/client/http_transport.hpp"
#include "tools/client/sse_parser.hpp"

namespace herald::client {

/// `GET /v1/sse` with `Last-Event-ID: <session>.<eid>`, read as it streams.
/// Events are the `data:` of each block; the endings of docs/protocol.md map
/// to problems: `.superseded` → superseded, `.gone` → unknown_session,
/// `.stop` → failed, `event: reconnect` → reconnect, a cut → lost.
class sse_transport : public http_transport {
public:
  using http_transport::http_transport;

  void start_stream(const std::string& session, std::uint64_t cursor,
                    stream_handlers handlers) override;
  void close() override;

private:
  using parser_type = boost::beast::http::response_parser<boost::beast::http::buffer_body>;

  void on_resolve(boost::beast::error_code ec,
                  boost::asio::ip::tcp::resolver::results_type results);
  void on_connect(boost::beast::error_code ec, boost::asio::ip::tcp::endpoint);
  void on_write(boost::beast::error_code ec, std::size_t);
  void on_header(boost::beast::error_code ec, std::size_t);
  void do_read_body();
  void on_body(boost::beast::error_code ec, std::size_t);
  void on_sse_event(const sse_event& event);
  void end(link_problem problem);

  std::string session_;
  std::uint64_t cursor_ = 0;
  stream_handlers handlers_;
  std::shared_ptr<boost::asio::ip::tcp::resolver> resolver_;
  std::shared_ptr<boost::beast::tcp_stream> stream_;
  boost::beast::flat_buffer buffer_;
  http_request request_;
  std::optional<parser_type> parser_;
  std::array<char, 16384> chunk_{};
  std::string error_body_; // the body of a non-200 answer
  sse_parser sse_;
  bool streaming_ = false; // a 200 came: the body is an event stream
  bool ended_ = false;
};

} // namespace herald::client
