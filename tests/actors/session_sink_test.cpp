// A session feeding a stream sink (issue 3): the attach answer comes first,
// a paced sink gets a window at a time, a backlog alone never ends it, live
// events piling up beyond max-stream-buffer do, and newer consumers win.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "actors/event.hpp"
#include "actors/messages.hpp"
#include "actors/session_actor.hpp"
#include "tests/actors/actor_fixture.hpp"

namespace herald {
namespace {

using namespace std::chrono_literals;

class SessionSink : public testing::actor_fixture {
protected:
  caf::actor spawn_session(std::size_t max_stream_buffer = 256 * 1024) {
    session_config c;
    c.id = "node_sink1";
    c.user = "alice";
    c.lease = 100s;
    c.queue_max = 1000;
    c.max_stream_buffer = max_stream_buffer;
    auto session = keep(spawn_session_actor(sys_, std::move(c)));
    run();
    return session;
  }

  // Queues `n` message events of about `pad` bytes of data each.
  void push(const caf::actor& session, int n, std::size_t pad = 10) {
    for (int i = 0; i < n; ++i)
      caf::anon_send(session, event_atom::value,
                     make_message_event("lobby", static_cast<std::uint64_t>(i + 1), "ep", "bob",
                                        "\"" + std::string(pad, 'x') + "\"", 1));
    run();
  }

  static std::vector<std::uint64_t> pushed_eids(const testing::recorder& sink) {
    std::vector<std::uint64_t> out;
    for (const auto& msg : *sink.log)
      if (msg.match_elements<deliver_atom, stream_batch>())
        for (const auto& e : msg.get_as<stream_batch>(1).events)
          out.push_back(e.eid);
    return out;
  }

  static std::vector<std::string> end_reasons(const testing::recorder& sink) {
    std::vector<std::string> out;
    for (const auto& msg : *sink.log)
      if (msg.match_elements<end_atom, stream_end>())
        out.push_back(msg.get_as<stream_end>(1).reason);
    return out;
  }
};

TEST_F(SessionSink, TheAttachAnswerArrivesBeforeTheFirstBatch) {
  auto session = spawn_session();
  push(session, 3);
  auto sink = spawn_recorder();
  send(sink, session, attach_atom::value, std::uint64_t{0}, false, std::uint64_t{0},
       std::uint64_t{0});
  run();
  ASSERT_FALSE(sink.log->empty());
  EXPECT_TRUE((sink.log->front().match_elements<attach_atom, reply>()));
  EXPECT_TRUE(sink.log->front().get_as<reply>(1).ok());
  EXPECT_EQ(pushed_eids(sink), (std::vector<std::uint64_t>{1, 2, 3}));
}

TEST_F(SessionSink, AnUnpacedSinkGetsTheWholeBacklogAtOnce) {
  auto session = spawn_session();
  push(session, 300);
  auto sink = spawn_recorder();
  send(sink, session, attach_atom::value, std::uint64_t{0}, false, std::uint64_t{0},
       std::uint64_t{0});
  run();
  EXPECT_EQ(pushed_eids(sink).size(), 300u);
}

TEST_F(SessionSink, APacedSinkGetsAWindowAndMoreAfterEachFlush) {
  auto session = spawn_session();
  push(session, 100);
  auto sink = spawn_recorder();
  send(sink, session, attach_atom::value, std::uint64_t{0}, true, std::uint64_t{0},
       std::uint64_t{0});
  run();
  auto first = pushed_eids(sink);
  ASSERT_EQ(first.size(), 64u);
  EXPECT_EQ(first.back(), 64u);
  send(sink, session, flushed_atom::value, std::uint64_t{64});
  run();
  auto all = pushed_eids(sink);
  ASSERT_EQ(all.size(), 100u);
  for (std::size_t i = 0; i < all.size(); ++i)
    EXPECT_EQ(all[i], i + 1);
}

TEST_F(SessionSink, ABacklogLargerThanTheBufferAloneNeverEndsAPacedSink) {
  auto session = spawn_session(2048);
  push(session, 200, 100); // ~30 KB queued before the stream opens
  auto sink = spawn_recorder();
  send(sink, session, attach_atom::value, std::uint64_t{0}, true, std::uint64_t{0},
       std::uint64_t{0});
  run();
  EXPECT_TRUE(end_reasons(sink).empty());
  EXPECT_FALSE(pushed_eids(sink).empty());
}

TEST_F(SessionSink, LiveEventsPilingUpBeyondTheBufferEndAPacedSinkAsSlow) {
  auto session = spawn_session(2048);
  auto sink = spawn_recorder();
  send(sink, session, attach_atom::value, std::uint64_t{0}, true, std::uint64_t{0},
       std::uint64_t{0});
  run();
  push(session, 100, 100); // never flushed: the reader stopped reading
  EXPECT_EQ(end_reasons(sink), (std::vector<std::string>{"slow_consumer"}));
}

TEST_F(SessionSink, AReaderThatKeepsUpIsNeverEnded) {
  auto session = spawn_session(2048);
  auto sink = spawn_recorder();
  send(sink, session, attach_atom::value, std::uint64_t{0}, true, std::uint64_t{0},
       std::uint64_t{0});
  run();
  for (int i = 0; i < 50; ++i) {
    push(session, 1, 100);
    send(sink, session, flushed_atom::value, static_cast<std::uint64_t>(i + 1));
    run();
  }
  EXPECT_TRUE(end_reasons(sink).empty());
  EXPECT_EQ(pushed_eids(sink).size(), 50u);
}

TEST_F(SessionSink, ANewerListenSupersedesTheStream) {
  auto session = spawn_session();
  auto sink = spawn_recorder();
  send(sink, session, attach_atom::value, std::uint64_t{0}, true, std::uint64_t{0},
       std::uint64_t{0});
  run();
  auto listener = spawn_recorder();
  send(listener, session, listen_atom::value, std::uint64_t{0}, std::uint64_t{100}, true);
  run();
  EXPECT_EQ(end_reasons(sink), (std::vector<std::string>{"superseded"}));
}

TEST_F(SessionSink, ANewerStreamSupersedesTheOlderOne) {
  auto session = spawn_session();
  auto older = spawn_recorder();
  send(older, session, attach_atom::value, std::uint64_t{0}, true, std::uint64_t{0},
       std::uint64_t{0});
  run();
  auto newer = spawn_recorder();
  send(newer, session, attach_atom::value, std::uint64_t{0}, true, std::uint64_t{0},
       std::uint64_t{0});
  run();
  push(session, 2);
  EXPECT_EQ(end_reasons(older), (std::vector<std::string>{"superseded"}));
  EXPECT_EQ(pushed_eids(newer), (std::vector<std::uint64_t>{1, 2}));
}

// A WebSocket that replaces its stream (enter, then attach) spawns a second
// sink; the first one's attach may still reach the session after the second.
TEST_F(SessionSink, ALateOlderStreamOfTheSameConnectionIsRefusedNotSuperseding) {
  auto session = spawn_session();
  auto newer = spawn_recorder();
  send(newer, session, attach_atom::value, std::uint64_t{0}, false, std::uint64_t{42},
       std::uint64_t{2});
  run();
  auto older = spawn_recorder();
  send(older, session, attach_atom::value, std::uint64_t{0}, false, std::uint64_t{42},
       std::uint64_t{1});
  run();
  push(session, 2);
  ASSERT_FALSE(older.log->empty());
  ASSERT_TRUE((older.log->front().match_elements<attach_atom, reply>()));
  EXPECT_FALSE(older.log->front().get_as<reply>(1).ok());
  EXPECT_TRUE(end_reasons(newer).empty());
  EXPECT_EQ(pushed_eids(newer), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_TRUE(pushed_eids(older).empty());
}

TEST_F(SessionSink, AnOlderGenerationOfAnotherConnectionStillSupersedes) {
  auto session = spawn_session();
  auto first = spawn_recorder();
  send(first, session, attach_atom::value, std::uint64_t{0}, false, std::uint64_t{42},
       std::uint64_t{5});
  run();
  auto second = spawn_recorder();
  send(second, session, attach_atom::value, std::uint64_t{0}, false, std::uint64_t{43},
       std::uint64_t{1});
  run();
  EXPECT_EQ(end_reasons(first), (std::vector<std::string>{"superseded"}));
}

TEST_F(SessionSink, AnAttachWithACursorPastTheEndFails) {
  auto session = spawn_session();
  push(session, 2);
  auto sink = spawn_recorder();
  send(sink, session, attach_atom::value, std::uint64_t{5}, true, std::uint64_t{0},
       std::uint64_t{0});
  run();
  ASSERT_FALSE(sink.log->empty());
  ASSERT_TRUE((sink.log->front().match_elements<attach_atom, reply>()));
  EXPECT_EQ(sink.log->front().get_as<reply>(1).error_code, "bad_request");
  EXPECT_TRUE(pushed_eids(sink).empty());
}

} // namespace
} // namespace herald
