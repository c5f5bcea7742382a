#pragma once

#include <deque>
#include <map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>

#include "tools/client/transport.hpp"

namespace herald::client {

/// GET /v1/ws with subprotocol herald.v1: commands, replies and events share
/// one socket. Replies are told from events by their `id` (events carry a
/// `type`). A session entered on the socket streams at once; any other is
/// bound with `attach`. Close codes as in
/// docs/protocol.md: 4000 and 1008 mean "reconnect and attach", 1000 after an
/// `end` frame means superseded.
class websocket_transport : public transport,
                            public std::enable_shared_from_this<websocket_transport> {
public:
  websocket_transport(boost::asio::any_io_executor executor, transport_settings settings);

  void open(std::function<void(std::optional<link_problem>)> done) override;
  void call(json frame, std::function<void(call_outcome)> done) override;
  void start_stream(const std::string& session, std::uint64_t cursor,
                    stream_handlers handlers) override;
  void close() override;

private:
  void on_resolve(boost::beast::error_code ec,
                  boost::asio::ip::tcp::resolver::results_type results);
  void on_connect(boost::beast::error_code ec, boost::asio::ip::tcp::endpoint);
  void on_handshake(boost::beast::error_code ec);
  void finish_open(std::optional<link_problem> problem);

  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t);
  void on_message(const std::string& text);
  void on_stream_frame(json frame);
  void on_attach_reply(call_outcome outcome);
  void replay_early_frames();

  void do_write();
  void on_write(boost::beast::error_code ec, std::size_t);

  // The link is gone: every pending call and the stream learn why, once.
  void fail(link_problem problem);
  link_problem problem_of(boost::beast::error_code ec, const char* what) const;

  transport_settings settings_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::websocket::response_type handshake_response_;
  boost::beast::flat_buffer buffer_;
  std::function<void(std::optional<link_problem>)> open_done_;

  std::deque<std::string> outbox_;
  bool writing_ = false;

  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::function<void(call_outcome)>> pending_calls_;
  std::optional<stream_handlers> stream_;
  std::string entered_session_;    // the session an `enter` on this socket created
  std::vector<json> early_frames_; // its events that came before start_stream
  bool stream_ended_ = false;
  std::string end_reason_; // an `end` frame's reason, to read the close after it
  bool open_ = false;
  bool failed_ = false; // the link broke; callbacks still run for what is asked
  bool closed_ = false; // close() was called; no callback runs any more
};

} // namespace herald::client
