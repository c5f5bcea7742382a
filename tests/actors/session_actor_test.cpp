#include "actors/session_actor.hpp"

#include <string>
#include <vector>

#include "actors/event.hpp"
#include "actors/group_actor.hpp"
#include "actors/messages.hpp"
#include "tests/actors/actor_fixture.hpp"

namespace herald {
namespace {

using namespace std::chrono_literals;
using strings = std::vector<std::string>;
using eids = std::vector<std::uint64_t>;

class SessionActor : public testing::actor_fixture {
protected:
  static session_config config() {
    session_config c;
    c.id = "node_session1";
    c.user = "alice";
    c.lease = 100s;
    c.queue_max = 100;
    c.max_groups = 10;
    return c;
  }

  caf::actor spawn_session(session_config c = config()) {
    auto session = keep(spawn_session_actor(sys_, std::move(c)));
    run();
    return session;
  }

  caf::actor spawn_group(const std::string& name) {
    group_config c;
    c.name = name;
    auto group = keep(spawn_group_actor(sys_, c));
    run();
    return group;
  }

  // Queues a join event of user `n` (any event will do; the user tells which).
  void push(const caf::actor& session, const std::string& user) {
    caf::anon_send(session, event_atom::value, make_join_event("lobby", user, 1));
    run();
  }

  void listen(const testing::recorder& listener, const caf::actor& session, std::uint64_t cursor,
              bool wait = true, std::uint64_t max = 1000) {
    send(listener, session, listen_atom::value, cursor, max, wait);
    run();
  }

  // The session joins `group` on behalf of `requester`; returns the reply.
  reply join(const caf::actor& session, const std::string& name, const caf::actor& group,
             since_point since = {}) {
    auto requester = spawn_recorder();
    send(requester, session, join_atom::value, name, group, since);
    run();
    auto replies = requester.replies();
    EXPECT_EQ(replies.size(), 1u);
    return replies.empty() ? reply{} : replies[0];
  }

  static nlohmann::json events_of(const delivery& d) {
    auto parsed = nlohmann::json::parse(d.events_json, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << "not JSON: " << d.events_json;
    EXPECT_EQ(parsed.size(), d.count);
    return parsed;
  }

  static eids eids_of(const delivery& d) {
    eids out;
    for (const auto& e : events_of(d))
      out.push_back(e["eid"].get<std::uint64_t>());
    return out;
  }

  static strings users_of(const delivery& d) {
    strings out;
    for (const auto& e : events_of(d))
      out.push_back(e.value("user", e["type"].get<std::string>()));
    return out;
  }
};

// --- events and listening ----------------------------------------------------

TEST_F(SessionActor, QueuedEventsGetEidsFromOne) {
  auto session = spawn_session();
  push(session, "u1");
  push(session, "u2");
  push(session, "u3");
  auto listener = spawn_recorder();
  listen(listener, session, 0, false);
  auto deliveries = listener.deliveries();
  ASSERT_EQ(deliveries.size(), 1u);
  EXPECT_EQ(eids_of(deliveries[0]), (eids{1, 2, 3}));
  EXPECT_EQ(users_of(deliveries[0]), (strings{"u1", "u2", "u3"}));
  EXPECT_EQ(deliveries[0].cursor, 3u);
  EXPECT_FALSE(deliveries[0].superseded);
  EXPECT_EQ(events_of(deliveries[0])[0].dump(),
            R"({"eid":1,"group":"lobby","time":1,"type":"join","user":"u1"})");
}

TEST_F(SessionActor, ListenWithQueuedEventsAnswersAtOnce) {
  auto session = spawn_session();
  push(session, "u1");
  auto listener = spawn_recorder();
  listen(listener, session, 0, true);
  ASSERT_EQ(listener.deliveries().size(), 1u);
  EXPECT_EQ(eids_of(listener.deliveries()[0]), eids{1});
}

TEST_F(SessionActor, ListenWithoutEventsWaitsAndAnswersWhenOneArrives) {
  auto session = spawn_session();
  auto listener = spawn_recorder();
  listen(listener, session, 0, true);
  EXPECT_TRUE(listener.log->empty()) << "nothing to deliver yet";
  push(session, "u1");
  auto deliveries = listener.deliveries();
  ASSERT_EQ(deliveries.size(), 1u);
  EXPECT_EQ(eids_of(deliveries[0]), eids{1});
  EXPECT_EQ(deliveries[0].cursor, 1u);
  push(session, "u2");
  EXPECT_EQ(listener.deliveries().size(), 1u) << "a listener is answered once";
}

TEST_F(SessionActor, APollWithoutEventsAnswersAnEmptyListAndTheGivenCursor) {
  auto session = spawn_session();
  push(session, "u1");
  auto listener = spawn_recorder();
  listen(listener, session, 1, false);
  auto deliveries = listener.deliveries();
  ASSERT_EQ(deliveries.size(), 1u);
  EXPECT_EQ(deliveries[0].events_json, "[]");
  EXPECT_EQ(deliveries[0].count, 0u);
  EXPECT_EQ(deliveries[0].cursor, 1u);
}

TEST_F(SessionActor, TheCursorAcknowledgesEarlierEvents) {
  auto session = spawn_session();
  for (const char* user : {"u1", "u2", "u3"})
    push(session, user);
  auto listener = spawn_recorder();
  listen(listener, session, 2, false);
  EXPECT_EQ(eids_of(listener.deliveries().at(0)), eids{3});
  listener.clear();
  listen(listener, session, 0, false);
  EXPECT_EQ(eids_of(listener.deliveries().at(0)), eids{3}) << "1 and 2 were freed";
}

TEST_F(SessionActor, OneAnswerCarriesAtMostMaxEvents) {
  auto session = spawn_session();
  for (const char* user : {"u1", "u2", "u3", "u4", "u5"})
    push(session, user);
  auto listener = spawn_recorder();
  listen(listener, session, 0, true, 2);
  auto first = listener.deliveries().at(0);
  EXPECT_EQ(eids_of(first), (eids{1, 2}));
  EXPECT_EQ(first.cursor, 2u);
  listener.clear();
  listen(listener, session, first.cursor, true, 2);
  EXPECT_EQ(eids_of(listener.deliveries().at(0)), (eids{3, 4}));
}

TEST_F(SessionActor, ANewerListenerSupersedesTheWaitingOne) {
  auto session = spawn_session();
  push(session, "u1");
  push(session, "u2");
  auto first = spawn_recorder();
  auto second = spawn_recorder();
  listen(first, session, 2, true);
  ASSERT_TRUE(first.log->empty());
  listen(second, session, 2, true);
  auto superseded = first.deliveries();
  ASSERT_EQ(superseded.size(), 1u);
  EXPECT_TRUE(superseded[0].superseded);
  EXPECT_EQ(superseded[0].events_json, "[]");
  EXPECT_EQ(superseded[0].count, 0u);
  EXPECT_EQ(superseded[0].cursor, 2u) << "the cursor the superseded listener gave";
  EXPECT_TRUE(second.log->empty()) << "the newer one waits";
  push(session, "u3");
  ASSERT_EQ(second.deliveries().size(), 1u);
  EXPECT_EQ(eids_of(second.deliveries()[0]), eids{3});
  EXPECT_FALSE(second.deliveries()[0].superseded);
  EXPECT_EQ(first.deliveries().size(), 1u) << "the superseded listener gets nothing more";
}

TEST_F(SessionActor, ACursorPastTheLastEidIsABadRequestAndFreesNothing) {
  auto session = spawn_session();
  push(session, "u1");
  auto listener = spawn_recorder();
  listen(listener, session, 2, true);
  EXPECT_TRUE(listener.deliveries().empty());
  auto failures = listener.delivery_failures();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].error_code, "bad_request");
  EXPECT_NE(failures[0].error_message.find("cursor"), std::string::npos)
      << failures[0].error_message;
  listener.clear();
  listen(listener, session, 0, false);
  EXPECT_EQ(eids_of(listener.deliveries().at(0)), eids{1});
}

TEST_F(SessionActor, OverflowReachesTheListener) {
  auto c = config();
  c.queue_max = 3;
  auto session = spawn_session(c);
  for (const char* user : {"u1", "u2", "u3", "u4", "u5"})
    push(session, user);
  auto listener = spawn_recorder();
  listen(listener, session, 0, true);
  auto events = events_of(listener.deliveries().at(0));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["type"], "overflow");
  EXPECT_EQ(events[0]["eid"], 3);
  EXPECT_EQ(events[0]["dropped"], 3);
  EXPECT_EQ(events[1]["user"], "u4");
  EXPECT_EQ(events[1]["eid"], 4);
  EXPECT_EQ(events[2]["eid"], 5);
  EXPECT_EQ(listener.deliveries()[0].cursor, 5u);
}

TEST_F(SessionActor, AListenerThatGoesAwayLosesNothing) {
  auto session = spawn_session();
  auto gone = spawn_recorder();
  listen(gone, session, 0, true);
  caf::anon_send_exit(gone.handle, caf::exit_reason::kill);
  run();
  push(session, "u1");
  auto next = spawn_recorder();
  listen(next, session, 0, false);
  EXPECT_EQ(eids_of(next.deliveries().at(0)), eids{1});
}

TEST_F(SessionActor, DrainAnswersAWaitingListenerAtOnceAndEveryLaterListenToo) {
  auto session = spawn_session();
  push(session, "u1");
  auto listener = spawn_recorder();
  listen(listener, session, 1, true);
  ASSERT_TRUE(listener.log->empty());
  caf::anon_send(session, drain_atom::value);
  run();
  auto deliveries = listener.deliveries();
  ASSERT_EQ(deliveries.size(), 1u);
  EXPECT_EQ(deliveries[0].events_json, "[]");
  EXPECT_EQ(deliveries[0].cursor, 1u);
  listener.clear();
  listen(listener, session, 1, true);
  EXPECT_EQ(listener.deliveries().size(), 1u) << "no listen waits while draining";
}

// --- groups ------------------------------------------------------------------

TEST_F(SessionActor, JoinAnswersWhatTheGroupAnswersAndQueuesItsMessages) {
  auto session = spawn_session();
  auto group = spawn_group("lobby");
  auto r = join(session, "lobby", group);
  ASSERT_TRUE(r.ok()) << r.error_code << ": " << r.error_message;
  auto result = nlohmann::json::parse(r.result_json);
  EXPECT_EQ(result["group"], "lobby");
  EXPECT_EQ(result["seq"], 0);
  auto publisher = spawn_recorder();
  send(publisher, group, publish_atom::value, std::string{"bob"}, std::string{"\"hi\""});
  run();
  auto listener = spawn_recorder();
  listen(listener, session, 0, false);
  auto events = events_of(listener.deliveries().at(0));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["type"], "join") << "its own join";
  EXPECT_EQ(events[0]["user"], "alice");
  EXPECT_EQ(events[1]["type"], "message");
  EXPECT_EQ(events[1]["eid"], 2);
  EXPECT_EQ(events[1]["data"], "hi");
  EXPECT_EQ(events[1]["epoch"], result["epoch"]);
}

TEST_F(SessionActor, LeaveLeavesTheGroupWithReasonLeaveAndAnswersOk) {
  auto session = spawn_session();
  auto group = spawn_group("lobby");
  auto bob = spawn_recorder();
  send(bob, group, join_atom::value, bob.handle, std::string{"bob"}, since_point{});
  run();
  ASSERT_TRUE(join(session, "lobby", group).ok());
  bob.clear();
  auto requester = spawn_recorder();
  send(requester, session, leave_atom::value, std::string{"lobby"});
  run();
  EXPECT_EQ(requester.results().at(0), nlohmann::json::parse(R"({"ok":true})"));
  EXPECT_EQ(bob.trace(), strings{"leave:alice:leave"});
}

TEST_F(SessionActor, LeaveOfAGroupNotJoinedAnswersOk) {
  auto session = spawn_session();
  auto requester = spawn_recorder();
  send(requester, session, leave_atom::value, std::string{"nowhere"});
  run();
  ASSERT_EQ(requester.replies().size(), 1u);
  EXPECT_EQ(requester.replies()[0].result_json, R"({"ok":true})");
}

TEST_F(SessionActor, JoiningMoreThanMaxGroupsIsForbidden) {
  auto c = config();
  c.max_groups = 2;
  auto session = spawn_session(c);
  auto a = spawn_group("a");
  auto b = spawn_group("b");
  auto extra = spawn_group("c");
  ASSERT_TRUE(join(session, "a", a).ok());
  ASSERT_TRUE(join(session, "b", b).ok());
  auto refused = join(session, "c", extra);
  EXPECT_EQ(refused.error_code, "forbidden");
  EXPECT_NE(refused.error_message.find("2"), std::string::npos) << refused.error_message;
  EXPECT_TRUE(join(session, "a", a).ok()) << "joining a joined group again is no new group";
  auto requester = spawn_recorder();
  send(requester, extra, presence_atom::value);
  run();
  EXPECT_EQ(requester.results().at(0)["count"], 0) << "the refused group never saw a join";
}

// Regression: joins still in flight count towards max-groups-per-session
// (two concurrent joins at 1 of 2 groups used to both succeed).
TEST_F(SessionActor, JoinsInFlightCountTowardsMaxGroups) {
  auto c = config();
  c.max_groups = 1;
  auto session = spawn_session(c);
  auto a = spawn_group("a");
  auto b = spawn_group("b");
  auto first = spawn_recorder();
  auto second = spawn_recorder();
  send(first, session, join_atom::value, std::string{"a"}, a, since_point{});
  send(second, session, join_atom::value, std::string{"b"}, b, since_point{});
  run();
  std::vector<reply> replies{first.replies().at(0), second.replies().at(0)};
  EXPECT_TRUE(replies[0].ok());
  EXPECT_EQ(replies[1].error_code, "forbidden");
}

// --- exit and lease ----------------------------------------------------------

TEST_F(SessionActor, ExitLeavesEveryGroupWithReasonExitAndQuits) {
  auto session = spawn_session();
  auto ended = watch_exit(session);
  auto lobby = spawn_group("lobby");
  auto news = spawn_group("news");
  auto bob = spawn_recorder();
  for (const auto& group : {lobby, news})
    send(bob, group, join_atom::value, bob.handle, std::string{"bob"}, since_point{});
  run();
  ASSERT_TRUE(join(session, "lobby", lobby).ok());
  ASSERT_TRUE(join(session, "news", news).ok());
  bob.clear();
  auto requester = spawn_recorder();
  send(requester, session, exit_atom::value);
  run();
  EXPECT_EQ(requester.results().at(0), nlohmann::json::parse(R"({"ok":true})"));
  EXPECT_EQ(bob.trace(), (strings{"leave:alice:exit", "leave:alice:exit"}));
  EXPECT_TRUE(*ended);
}

TEST_F(SessionActor, ExitAnswersAWaitingListenerWithUnknownSession) {
  auto session = spawn_session();
  auto listener = spawn_recorder();
  listen(listener, session, 0, true);
  caf::anon_send(session, exit_atom::value);
  run();
  auto failures = listener.delivery_failures();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].error_code, "unknown_session");
  EXPECT_TRUE(listener.deliveries().empty());
}

// The lease is measured on std::chrono::steady_clock, which the test clock
// does not move; a zero lease makes every lease check find it passed.
TEST_F(SessionActor, LeaseExpiryLeavesEveryGroupWithReasonExpiredAndQuits) {
  auto c = config();
  c.lease = 0s;
  auto session = spawn_session(c);
  auto ended = watch_exit(session);
  auto group = spawn_group("lobby");
  auto bob = spawn_recorder();
  send(bob, group, join_atom::value, bob.handle, std::string{"bob"}, since_point{});
  run();
  ASSERT_TRUE(join(session, "lobby", group).ok());
  ASSERT_FALSE(*ended);
  bob.clear();
  fire_all_timers();
  EXPECT_TRUE(*ended);
  EXPECT_EQ(bob.trace(), strings{"leave:alice:expired"});
}

TEST_F(SessionActor, AWaitingListenerKeepsTheSessionAlive) {
  auto c = config();
  c.lease = 0s;
  auto session = spawn_session(c);
  auto ended = watch_exit(session);
  auto listener = spawn_recorder();
  listen(listener, session, 0, true);
  fire_all_timers();
  fire_all_timers();
  EXPECT_FALSE(*ended);
  push(session, "u1"); // answers the listener; the lease runs again
  ASSERT_EQ(listener.deliveries().size(), 1u);
  fire_all_timers();
  EXPECT_TRUE(*ended);
}

// Regression: the lease is measured on the actor clock, so simulated time
// makes it pass (it used steady_clock, which the test clock cannot move).
TEST_F(SessionActor, ExpiresWhenItsLeasePassesOnTheActorClock) {
  auto c = config();
  c.lease = 10s;
  auto session = spawn_session(c);
  auto ended = watch_exit(session);
  advance(9s);
  EXPECT_FALSE(*ended);
  advance(1s);
  EXPECT_TRUE(*ended);
}

// Touch renews the lease (measured on the actor clock).
TEST_F(SessionActor, TouchRenewsTheLease) {
  auto c = config();
  c.lease = 10s;
  auto session = spawn_session(c);
  auto ended = watch_exit(session);
  advance(6s);
  caf::anon_send(session, touch_atom::value);
  run();
  advance(6s);
  EXPECT_FALSE(*ended) << "renewed at 6 s, so it lasts until 16 s";
  advance(4s);
  EXPECT_TRUE(*ended);
}

} // namespace
} // namespace herald
