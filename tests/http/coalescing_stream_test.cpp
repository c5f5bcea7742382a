#include "http/coalescing_stream.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <gtest/gtest.h>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using herald::coalescing_stream;

// The server end: owns the stream, as websocket_session does, and counts
// the socket writes it hears of.
struct server_end : herald::flush_observer, std::enable_shared_from_this<server_end> {
  explicit server_end(tcp::socket socket)
      : ws(herald::client_stream{beast::tcp_stream{std::move(socket)}}) {}

  void start() {
    std::shared_ptr<herald::flush_observer> self{shared_from_this(), this};
    stream().observe(self);
  }
  coalescing_stream& stream() { return ws.next_layer(); }

  void flush_started() override { ++started; }
  void flush_completed(beast::error_code ec) override {
    ++completed;
    if (ec)
      error = ec;
  }

  websocket::stream<coalescing_stream> ws;
  int started = 0;
  int completed = 0;
  beast::error_code error;
};

// A connected loopback pair: the server end wrapped, the client end bare.
struct pair {
  pair() {
    tcp::acceptor acceptor{io, {net::ip::make_address("127.0.0.1"), 0}};
    client.connect(acceptor.local_endpoint());
    server = std::make_shared<server_end>(acceptor.accept());
    server->start();
  }

  // Runs until `done` holds; every step the loop takes is a completion.
  template <class Predicate>
  void run_until(Predicate done) {
    io.restart();
    while (!done() && io.run_one() > 0) {
    }
    ASSERT_TRUE(done());
  }

  net::io_context io;
  tcp::socket client{io};
  std::shared_ptr<server_end> server;
};

TEST(CoalescingStream, WritesQueuedTogetherLeaveInOneSocketWrite) {
  pair p;
  std::vector<std::string> pieces{"alpha ", "beta ", "gamma ", "delta ", "epsilon"};
  int done = 0;
  std::size_t bytes = 0;
  for (const auto& piece : pieces)
    p.server->stream().async_write_some(net::buffer(piece),
                                        [&](beast::error_code ec, std::size_t n) {
                                          EXPECT_FALSE(ec);
                                          bytes += n;
                                          ++done;
                                        });
  EXPECT_EQ(done, 0); // completions are posted, never inline
  p.run_until([&] { return done == 5 && p.server->completed == 1; });
  EXPECT_EQ(p.server->started, 1);
  EXPECT_EQ(bytes, 30u);

  std::string got(30, '\0');
  net::read(p.client, net::buffer(got));
  EXPECT_EQ(got, "alpha beta gamma delta epsilon");
}

TEST(CoalescingStream, WhatQueuesBehindAWriteInFlightLeavesInTheNextOne) {
  pair p;
  // More than the loopback socket buffers take: the write stays in flight
  // until the client reads.
  std::string big(32 * 1024 * 1024, 'x');
  p.server->stream().append(big);
  p.server->stream().flush();
  ASSERT_TRUE(p.server->stream().writing());
  for (const char* frame : {"one", "two", "three"}) {
    p.server->stream().append(frame);
    p.server->stream().flush();
  }
  EXPECT_EQ(p.server->started, 1);

  std::string got(big.size() + 11, '\0');
  bool read = false;
  net::async_read(p.client, net::buffer(got), [&](beast::error_code ec, std::size_t) {
    EXPECT_FALSE(ec);
    read = true;
  });
  p.run_until([&] { return read && p.server->completed == 2; });
  EXPECT_EQ(p.server->started, 2); // the three frames went together
  EXPECT_EQ(got.substr(big.size()), "onetwothree");
  EXPECT_EQ(p.server->stream().buffered(), 0u);
}

TEST(CoalescingStream, AWriteErrorReachesTheObserverAndEveryLaterWrite) {
  pair p;
  p.server->stream().next_layer().socket().shutdown(tcp::socket::shutdown_send);
  bool first = false;
  p.server->stream().async_write_some(net::buffer(std::string_view{"lost"}),
                                      [&](beast::error_code ec, std::size_t) {
                                        EXPECT_FALSE(ec); // only appended
                                        first = true;
                                      });
  p.run_until([&] { return first && p.server->completed == 1; });
  EXPECT_EQ(p.server->error, net::error::broken_pipe);

  beast::error_code later;
  bool second = false;
  p.server->stream().async_write_some(net::buffer(std::string_view{"after"}),
                                      [&](beast::error_code ec, std::size_t) {
                                        later = ec;
                                        second = true;
                                      });
  p.run_until([&] { return second; });
  EXPECT_EQ(later, net::error::broken_pipe);
  EXPECT_EQ(p.server->started, 1);
}

// Frames framed by hand and Beast's own (a ping, the close) share the buffer
// in order: a Beast client reads every message whole, then the close.
TEST(CoalescingStream, HandFramedTextAndBeastControlFramesInterleaveCleanly) {
  pair p;
  websocket::stream<beast::tcp_stream> client{std::move(p.client)};
  bool accepted = false;
  bool shaken = false;
  p.server->ws.async_accept([&](beast::error_code ec) {
    EXPECT_FALSE(ec);
    accepted = true;
  });
  client.async_handshake("127.0.0.1", "/", [&](beast::error_code ec) {
    EXPECT_FALSE(ec);
    shaken = true;
  });
  p.run_until([&] { return accepted && shaken; });

  // One of each header length: 7-bit, 16-bit and 64-bit.
  std::vector<std::string> texts{"short", std::string(300, 'm'), std::string(70000, 'l')};
  int started_before = p.server->started;
  herald::append_text_frame(p.server->stream(), texts[0]);
  bool pinged = false;
  p.server->ws.async_ping({}, [&](beast::error_code ec) {
    EXPECT_FALSE(ec);
    pinged = true;
  });
  herald::append_text_frame(p.server->stream(), texts[1]);
  herald::append_text_frame(p.server->stream(), texts[2]);
  p.server->stream().flush();
  EXPECT_EQ(p.server->started, started_before + 1);
  bool closed = false;
  p.server->ws.async_close(websocket::close_code::normal, [&](beast::error_code ec) {
    EXPECT_FALSE(ec);
    closed = true;
  });

  int pings = 0;
  client.control_callback([&](websocket::frame_type kind, beast::string_view) {
    if (kind == websocket::frame_type::ping)
      ++pings;
  });
  std::vector<std::string> got;
  beast::flat_buffer buffer;
  beast::error_code end;
  std::function<void()> read_next = [&] {
    client.async_read(buffer, [&](beast::error_code ec, std::size_t) {
      if (ec) {
        end = ec;
        return;
      }
      EXPECT_TRUE(client.got_text());
      got.push_back(beast::buffers_to_string(buffer.data()));
      buffer.consume(buffer.size());
      read_next();
    });
  };
  read_next();
  p.run_until([&] { return pinged && closed && end; });
  EXPECT_EQ(end, websocket::error::closed);
  EXPECT_EQ(client.reason().code, websocket::close_code::normal);
  EXPECT_EQ(pings, 1);
  EXPECT_EQ(got, texts);
}

} // namespace
