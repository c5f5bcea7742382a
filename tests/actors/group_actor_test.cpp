#include "actors/group_actor.hpp"

#include <regex>
#include <string>
#include <vector>

#include "actors/messages.hpp"
#include "tests/actors/actor_fixture.hpp"

namespace herald {
namespace {

using namespace std::chrono_literals;
using strings = std::vector<std::string>;

class GroupActor : public testing::actor_fixture {
protected:
  static group_config config(std::string name = "lobby") {
    group_config c;
    c.name = std::move(name);
    c.idle_timeout = 300s;
    return c;
  }

  caf::actor spawn_group(group_config c = config()) {
    auto group = keep(spawn_group_actor(sys_, std::move(c)));
    run();
    return group;
  }

  // `member` joins as `user` (the recorder stands in for the session actor).
  void join(const testing::recorder& member, const caf::actor& group, const std::string& user,
            since_point since = {}) {
    send(member, group, join_atom::value, member.handle, user, since);
    run();
  }

  void leave(const testing::recorder& member, const caf::actor& group,
             const std::string& reason = "leave") {
    send(member, group, leave_atom::value, member.handle, reason);
    run();
  }

  void publish(const testing::recorder& from, const caf::actor& group, const std::string& data,
               const std::string& user = "alice") {
    send(from, group, publish_atom::value, user, data);
    run();
  }

  // The group's answer to a request sent as `asker` (its latest reply).
  nlohmann::json ask(const testing::recorder& asker, const caf::actor& group, caf::message msg) {
    asker.clear();
    caf::send_as(asker.handle, group, std::move(msg));
    run();
    auto results = asker.results();
    EXPECT_EQ(results.size(), 1u);
    return results.empty() ? nlohmann::json{} : results.back();
  }

  nlohmann::json presence(const caf::actor& group) {
    return ask(spawn_recorder(), group, caf::make_message(presence_atom::value));
  }

  nlohmann::json history(const caf::actor& group, bool has_since, std::uint64_t since,
                         std::uint64_t limit) {
    return ask(spawn_recorder(), group,
               caf::make_message(history_atom::value, has_since, since, limit));
  }

  static std::vector<std::uint64_t> seqs_of(const nlohmann::json& messages) {
    std::vector<std::uint64_t> out;
    for (const auto& m : messages)
      out.push_back(m["seq"].get<std::uint64_t>());
    return out;
  }

  // The epoch a fresh join reports.
  std::string epoch_of(const caf::actor& group) {
    auto asker = spawn_recorder();
    join(asker, group, "epoch-probe");
    auto result = asker.results().at(0);
    leave(asker, group);
    return result["epoch"];
  }
};

// --- join, seq, delivery -----------------------------------------------------

TEST_F(GroupActor, JoinAnswersGroupSeqAndEpoch) {
  auto group = spawn_group();
  auto alice = spawn_recorder();
  join(alice, group, "alice");
  auto results = alice.results();
  ASSERT_EQ(results.size(), 1u);
  const auto& r = results[0];
  EXPECT_EQ(r.size(), 3u) << r.dump() << ": no \"recovered\" without since";
  EXPECT_EQ(r["group"], "lobby");
  EXPECT_EQ(r["seq"], 0) << "no message yet";
  EXPECT_TRUE(std::regex_match(r["epoch"].get<std::string>(), std::regex{"[0-9a-f]{12}"}))
      << r.dump();
}

TEST_F(GroupActor, SeqStartsAtOneAndIncrementsPerPublish) {
  auto group = spawn_group();
  auto publisher = spawn_recorder();
  for (int i = 0; i < 3; ++i)
    publish(publisher, group, std::to_string(i));
  // A publish is answered with its seq (the reply's result).
  EXPECT_EQ(publisher.results(), (std::vector<nlohmann::json>{1, 2, 3}));
  auto alice = spawn_recorder();
  join(alice, group, "alice");
  EXPECT_EQ(alice.results().at(0)["seq"], 3) << "join reports the last assigned seq";
}

TEST_F(GroupActor, DeliversInSeqOrderToEveryMember) {
  auto group = spawn_group();
  std::vector<testing::recorder> members;
  for (const char* user : {"alice", "bob", "carol"}) {
    members.push_back(spawn_recorder());
    join(members.back(), group, user);
  }
  auto epoch = members[0].results().at(0)["epoch"];
  auto publisher = spawn_recorder();
  for (int i = 1; i <= 5; ++i)
    send(publisher, group, publish_atom::value, std::string{"bob"},
         R"({"n":)" + std::to_string(i) + "}");
  run();
  for (const auto& member : members) {
    auto messages = member.events_of_type("message");
    ASSERT_EQ(messages.size(), 5u);
    for (std::size_t i = 0; i < messages.size(); ++i) {
      EXPECT_EQ(messages[i]["seq"], i + 1);
      EXPECT_EQ(messages[i]["data"]["n"], i + 1);
      EXPECT_EQ(messages[i]["group"], "lobby");
      EXPECT_EQ(messages[i]["epoch"], epoch);
      EXPECT_EQ(messages[i]["from"], "bob");
      EXPECT_TRUE(messages[i]["time"].is_number_integer());
    }
  }
}

TEST_F(GroupActor, APublisherThatIsNoMemberGetsTheSeqButNoEvent) {
  auto group = spawn_group();
  auto alice = spawn_recorder();
  join(alice, group, "alice");
  auto outsider = spawn_recorder();
  publish(outsider, group, "1", "outsider");
  EXPECT_EQ(outsider.results(), std::vector<nlohmann::json>{1});
  EXPECT_TRUE(outsider.events().empty());
  EXPECT_EQ(alice.events_of_type("message").size(), 1u);
}

TEST_F(GroupActor, AMemberReceivesItsOwnMessage) {
  auto group = spawn_group();
  auto alice = spawn_recorder();
  join(alice, group, "alice");
  publish(alice, group, "\"mine\"", "alice");
  auto messages = alice.events_of_type("message");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0]["from"], "alice");
  EXPECT_EQ(messages[0]["data"], "mine");
}

TEST_F(GroupActor, JoiningTwiceIsNoErrorAndAnnouncesOnce) {
  auto group = spawn_group();
  auto alice = spawn_recorder();
  join(alice, group, "alice");
  publish(alice, group, "1");
  join(alice, group, "alice");
  auto results = alice.results(); // join, the publish's seq, join
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[1], 1);
  EXPECT_EQ(results[2]["seq"], 1);
  EXPECT_EQ(results[2]["epoch"], results[0]["epoch"]);
  EXPECT_EQ(alice.events_of_type("join").size(), 1u);
  EXPECT_EQ(presence(group)["count"], 1);
}

// --- presence announcements --------------------------------------------------

TEST_F(GroupActor, AnnouncesAJoinToEveryMemberIncludingTheJoiner) {
  auto group = spawn_group();
  auto alice = spawn_recorder();
  auto bob = spawn_recorder();
  join(alice, group, "alice");
  join(bob, group, "bob");
  EXPECT_EQ(alice.trace(), (strings{"join:alice", "reply", "join:bob"}));
  EXPECT_EQ(bob.trace(), (strings{"join:bob", "reply"}));
  auto joins = bob.events_of_type("join");
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(joins[0]["group"], "lobby");
  EXPECT_TRUE(joins[0]["time"].is_number_integer());
}

TEST_F(GroupActor, LeaveOfTheLastSessionAnnouncesTheLeaveWithItsReason) {
  auto group = spawn_group();
  auto alice = spawn_recorder();
  auto bob = spawn_recorder();
  join(alice, group, "alice");
  join(bob, group, "bob");
  bob.clear();
  leave(alice, group, "exit");
  EXPECT_EQ(bob.trace(), strings{"leave:alice:exit"});
  EXPECT_EQ(alice.events().size(), 2u)
      << "the leaver is no member any more when the leave goes out";
  EXPECT_EQ(presence(group), nlohmann::json::parse(R"({"users":["bob"],"count":1})"));
}

TEST_F(GroupActor, ASecondSessionOfTheSameUserIsAnnouncedNeitherOnJoinNorOnLeave) {
  auto group = spawn_group();
  auto alice1 = spawn_recorder();
  auto alice2 = spawn_recorder();
  auto bob = spawn_recorder();
  join(bob, group, "bob");
  join(alice1, group, "alice");
  join(alice2, group, "alice");
  leave(alice2, group);
  EXPECT_EQ(bob.trace(), (strings{"join:bob", "reply", "join:alice"}));
  EXPECT_TRUE(alice2.events().empty());
  leave(alice1, group);
  EXPECT_EQ(bob.trace(), (strings{"join:bob", "reply", "join:alice", "leave:alice:leave"}));
}

TEST_F(GroupActor, LeaveOfANonMemberChangesNothing) {
  auto group = spawn_group();
  auto alice = spawn_recorder();
  auto stranger = spawn_recorder();
  join(alice, group, "alice");
  leave(stranger, group);
  EXPECT_TRUE(stranger.events().empty());
  EXPECT_EQ(alice.trace(), (strings{"join:alice", "reply"}));
  EXPECT_EQ(presence(group)["count"], 1);
}

TEST_F(GroupActor, NotifyOffAnnouncesNoJoinsOrLeaves) {
  auto c = config();
  c.notify = false;
  auto group = spawn_group(c);
  auto alice = spawn_recorder();
  auto bob = spawn_recorder();
  join(alice, group, "alice");
  join(bob, group, "bob");
  leave(bob, group);
  EXPECT_TRUE(alice.events().empty());
  EXPECT_TRUE(bob.events().empty());
  EXPECT_EQ(presence(group)["users"], nlohmann::json::parse(R"(["alice"])"));
}

TEST_F(GroupActor, StopsAnnouncingAboveNotifyMaxButPresenceStillAnswers) {
  auto c = config();
  c.notify_max = 2;
  auto group = spawn_group(c);
  auto alice = spawn_recorder();
  auto bob = spawn_recorder();
  auto carol = spawn_recorder();
  join(alice, group, "alice");
  join(bob, group, "bob");
  join(carol, group, "carol");
  EXPECT_EQ(alice.events_of_type("join").size(), 2u) << "alice and bob, not carol";
  EXPECT_TRUE(carol.events().empty());
  EXPECT_EQ(presence(group)["count"], 3);
}

// --- presence and history ----------------------------------------------------

TEST_F(GroupActor, PresenceListsDistinctUsersSorted) {
  auto group = spawn_group();
  EXPECT_EQ(presence(group), nlohmann::json::parse(R"({"users":[],"count":0})"));
  for (const char* user : {"carol", "alice", "bob", "alice"})
    join(spawn_recorder(), group, user);
  EXPECT_EQ(presence(group),
            nlohmann::json::parse(R"({"users":["alice","bob","carol"],"count":3})"));
}

TEST_F(GroupActor, HistoryWithoutSinceGivesTheNewestLimitInAscendingSeq) {
  auto group = spawn_group();
  auto publisher = spawn_recorder();
  for (int i = 1; i <= 5; ++i)
    publish(publisher, group, std::to_string(i));
  auto newest = history(group, false, 0, 2);
  EXPECT_EQ(seqs_of(newest["messages"]), (std::vector<std::uint64_t>{4, 5}));
  auto all = history(group, false, 0, 0);
  EXPECT_EQ(seqs_of(all["messages"]), (std::vector<std::uint64_t>{1, 2, 3, 4, 5}))
      << "no limit: the whole history";
  EXPECT_EQ(all["epoch"], epoch_of(group));
  const auto& first = all["messages"][0];
  EXPECT_FALSE(first.contains("eid"));
  EXPECT_EQ(first["type"], "message");
  EXPECT_EQ(first["data"], 1);
  EXPECT_EQ(first["from"], "alice");
  EXPECT_EQ(first["group"], "lobby");
}

TEST_F(GroupActor, HistoryWithSinceGivesTheOldestLimitAfterIt) {
  auto group = spawn_group();
  auto publisher = spawn_recorder();
  for (int i = 1; i <= 5; ++i)
    publish(publisher, group, std::to_string(i));
  EXPECT_EQ(seqs_of(history(group, true, 1, 2)["messages"]), (std::vector<std::uint64_t>{2, 3}));
  EXPECT_EQ(seqs_of(history(group, true, 3, 0)["messages"]), (std::vector<std::uint64_t>{4, 5}));
  EXPECT_TRUE(history(group, true, 5, 0)["messages"].empty());
}

TEST_F(GroupActor, HistoryHoldsOnlyTheConfiguredNumberOfMessages) {
  auto c = config();
  c.history = 3;
  auto group = spawn_group(c);
  auto publisher = spawn_recorder();
  for (int i = 1; i <= 5; ++i)
    publish(publisher, group, std::to_string(i));
  EXPECT_EQ(seqs_of(history(group, false, 0, 0)["messages"]),
            (std::vector<std::uint64_t>{3, 4, 5}));
}

TEST_F(GroupActor, HistoryOfAnEmptyGroupIsEmpty) {
  auto group = spawn_group();
  auto h = history(group, false, 0, 0);
  EXPECT_TRUE(h["messages"].is_array());
  EXPECT_TRUE(h["messages"].empty());
  EXPECT_TRUE(h["epoch"].is_string());
}

// --- recovery with since -----------------------------------------------------

TEST_F(GroupActor, JoinWithSinceReplaysMissedMessagesToTheJoinerBeforeAnythingElse) {
  auto group = spawn_group();
  auto bob = spawn_recorder();
  join(bob, group, "bob");
  auto epoch = bob.results().at(0)["epoch"].get<std::string>();
  for (int i = 1; i <= 3; ++i)
    publish(bob, group, std::to_string(i), "bob");
  auto alice = spawn_recorder();
  join(alice, group, "alice", since_point{true, 1, epoch});
  publish(bob, group, "4", "bob");
  EXPECT_EQ(alice.trace(), (strings{"message:2", "message:3", "join:alice", "reply", "message:4"}));
  auto r = alice.results().at(0);
  EXPECT_EQ(r["recovered"], true);
  EXPECT_EQ(r["seq"], 3);
  EXPECT_EQ(alice.events_of_type("message")[0]["data"], 2);
}

TEST_F(GroupActor, JoinWithSinceAtTheLastSeqRecoversWithNothingToReplay) {
  auto group = spawn_group();
  auto bob = spawn_recorder();
  join(bob, group, "bob");
  auto epoch = bob.results().at(0)["epoch"].get<std::string>();
  publish(bob, group, "1", "bob");
  auto alice = spawn_recorder();
  join(alice, group, "alice", since_point{true, 1, epoch});
  EXPECT_EQ(alice.results().at(0)["recovered"], true);
  EXPECT_TRUE(alice.events_of_type("message").empty());
}

TEST_F(GroupActor, JoinWithSinceOfAnotherEpochIsNotRecovered) {
  auto group = spawn_group();
  auto bob = spawn_recorder();
  join(bob, group, "bob");
  publish(bob, group, "1", "bob");
  auto alice = spawn_recorder();
  join(alice, group, "alice", since_point{true, 0, "000000000000"});
  EXPECT_EQ(alice.results().at(0)["recovered"], false);
  EXPECT_TRUE(alice.events_of_type("message").empty()) << "nothing replayed";
}

TEST_F(GroupActor, JoinWithSinceOlderThanTheHistoryIsNotRecovered) {
  auto c = config();
  c.history = 2;
  auto group = spawn_group(c);
  auto bob = spawn_recorder();
  join(bob, group, "bob");
  auto epoch = bob.results().at(0)["epoch"].get<std::string>();
  for (int i = 1; i <= 5; ++i)
    publish(bob, group, std::to_string(i), "bob");
  auto alice = spawn_recorder();
  join(alice, group, "alice", since_point{true, 2, epoch}); // 3 is gone, 4 and 5 held
  EXPECT_EQ(alice.results().at(0)["recovered"], false);
  EXPECT_TRUE(alice.events_of_type("message").empty()) << "no partial replay";
  auto carol = spawn_recorder();
  join(carol, group, "carol", since_point{true, 3, epoch});
  EXPECT_EQ(carol.results().at(0)["recovered"], true);
  EXPECT_EQ(carol.trace(), (strings{"message:4", "message:5", "join:carol", "reply"}));
}

TEST_F(GroupActor, JoinWithSinceAheadOfTheGroupIsNotRecovered) {
  auto group = spawn_group();
  auto bob = spawn_recorder();
  join(bob, group, "bob");
  auto epoch = bob.results().at(0)["epoch"].get<std::string>();
  publish(bob, group, "1", "bob");
  auto alice = spawn_recorder();
  join(alice, group, "alice", since_point{true, 2, epoch});
  EXPECT_EQ(alice.results().at(0)["recovered"], false);
}

// --- members that die, idle groups -------------------------------------------

TEST_F(GroupActor, AMemberThatDiesIsRemovedAndAnnouncedAsExpired) {
  auto group = spawn_group();
  auto alice = spawn_recorder();
  auto bob = spawn_recorder();
  join(alice, group, "alice");
  join(bob, group, "bob");
  bob.clear();
  caf::anon_send_exit(alice.handle, caf::exit_reason::kill);
  run();
  EXPECT_EQ(bob.trace(), strings{"leave:alice:expired"});
  EXPECT_EQ(presence(group), nlohmann::json::parse(R"({"users":["bob"],"count":1})"));
}

TEST_F(GroupActor, AnUndeclaredGroupWithoutMembersQuitsAfterTheIdleTimeout) {
  auto group = spawn_group();
  auto ended = watch_exit(group);
  advance(299s);
  EXPECT_FALSE(*ended);
  advance(1s);
  EXPECT_TRUE(*ended);
}

TEST_F(GroupActor, TheIdleTimeoutStartsAgainWhenTheLastMemberLeaves) {
  auto group = spawn_group();
  auto ended = watch_exit(group);
  advance(200s);
  auto alice = spawn_recorder();
  join(alice, group, "alice");
  advance(50s);
  leave(alice, group); // at 250 s: the group may now end at 550 s
  advance(50s);
  EXPECT_FALSE(*ended) << "the timer armed at the start no longer counts";
  advance(249s);
  EXPECT_FALSE(*ended);
  advance(1s);
  EXPECT_TRUE(*ended);
}

TEST_F(GroupActor, AGroupWithMembersDoesNotIdleOut) {
  auto group = spawn_group();
  auto ended = watch_exit(group);
  join(spawn_recorder(), group, "alice");
  advance(3600s);
  fire_all_timers();
  EXPECT_FALSE(*ended);
}

TEST_F(GroupActor, ADeclaredGroupDoesNotIdleOut) {
  auto c = config();
  c.declared = true;
  auto group = spawn_group(c);
  auto ended = watch_exit(group);
  advance(3600s);
  fire_all_timers();
  EXPECT_FALSE(*ended);
  auto alice = spawn_recorder();
  join(alice, group, "alice");
  leave(alice, group);
  advance(3600s);
  EXPECT_FALSE(*ended);
}

// --- configuration -----------------------------------------------------------

TEST(GroupConfig, AnUndeclaredGroupTakesTheNodeSettings) {
  settings s;
  s.notify_presence = false;
  s.notify_presence_max = 7;
  s.history = 9;
  s.group_idle_timeout = 42s;
  auto c = make_group_config(s, "room");
  EXPECT_EQ(c.name, "room");
  EXPECT_FALSE(c.declared);
  EXPECT_FALSE(c.notify);
  EXPECT_EQ(c.notify_max, 7u);
  EXPECT_EQ(c.history, 9u);
  EXPECT_EQ(c.idle_timeout, caf::timespan{42s});
}

TEST(GroupConfig, ADeclaredGroupCarriesItsOwnNotifyAndHistory) {
  settings s;
  s.notify_presence = false;
  s.history = 9;
  declared_group lobby;
  lobby.name = "lobby";
  lobby.notify = true;
  lobby.history = 3;
  s.groups.push_back(lobby);
  auto c = make_group_config(s, "lobby");
  EXPECT_TRUE(c.declared);
  EXPECT_TRUE(c.notify);
  EXPECT_EQ(c.history, 3u);
  EXPECT_EQ(c.notify_max, s.notify_presence_max);
}

} // namespace
} // namespace herald
