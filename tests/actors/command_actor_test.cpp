#include "actors/command_actor.hpp"

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "actors/directory_actor.hpp"
#include "actors/messages.hpp"
#include "tests/actors/actor_fixture.hpp"

namespace herald {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

command make_command(method verb, command_params params = {}) {
  command c;
  c.verb = verb;
  c.params = std::move(params);
  return c;
}

command_params with_session(std::string session) {
  command_params p;
  p.session = std::move(session);
  return p;
}

// The replies of one request actor, once it completed.
struct completion {
  std::shared_ptr<std::optional<std::vector<reply>>> replies
      = std::make_shared<std::optional<std::vector<reply>>>();

  bool done() const { return replies->has_value(); }

  const reply& at(std::size_t i) const { return replies->value().at(i); }

  json result(std::size_t i = 0) const {
    const auto& r = at(i);
    EXPECT_TRUE(r.ok()) << r.error_code << ": " << r.error_message;
    return r.ok() ? json::parse(r.result_json) : json{};
  }
};

class CommandActor : public testing::actor_fixture {
protected:
  // Starts the node's directory with `config_` as the test left it.
  void start() {
    directory_ = keep(spawn_directory_actor(sys_, std::make_shared<const settings>(config_)));
    run();
  }

  command_context context() const {
    return command_context{directory_, std::make_shared<const settings>(config_), nullptr};
  }

  // Spawns a request actor for `commands` and runs until nothing moves.
  completion submit(std::vector<command> commands) {
    completion c;
    auto replies = c.replies;
    spawn_command_actor(sys_, context(), std::move(commands),
                        [replies](std::vector<reply> r) { *replies = std::move(r); });
    run();
    return c;
  }

  completion submit(command cmd) { return submit(std::vector<command>{std::move(cmd)}); }

  // Enters `user` into `groups`; returns the session id.
  std::string enter(const std::string& user, std::vector<std::string> groups = {}) {
    command_params p;
    p.user = user;
    p.groups = std::move(groups);
    auto c = submit(make_command(method::enter, p));
    EXPECT_TRUE(c.done());
    if (!c.done())
      return {};
    auto id = c.result()["session"].get<std::string>();
    // Keep the session actor, so the fixture ends it after the test.
    auto asker = spawn_recorder();
    send(asker, directory_, lookup_atom::value, id);
    run();
    keep(asker.values<session_ref>().at(0).handle);
    return id;
  }

  completion speak(const std::string& session, std::vector<std::string> groups, std::string data) {
    auto p = with_session(session);
    p.groups = std::move(groups);
    p.data = std::move(data);
    return submit(make_command(method::speak, p));
  }

  completion listen(const std::string& session, std::uint64_t cursor,
                    std::optional<double> timeout) {
    auto p = with_session(session);
    p.cursor = cursor;
    p.timeout = timeout;
    return submit(make_command(method::listen, p));
  }

  // Polls everything queued for `session` after `cursor`.
  json poll(const std::string& session, std::uint64_t cursor = 0) {
    auto c = listen(session, cursor, 0.0);
    EXPECT_TRUE(c.done()) << "a poll answers at once";
    return c.done() ? c.result() : json{};
  }

  static std::vector<json> of_type(const json& listen_result, const std::string& type) {
    std::vector<json> out;
    for (const auto& e : listen_result["events"])
      if (e["type"] == type)
        out.push_back(e);
    return out;
  }

  settings config_;
  caf::actor directory_;
};

// --- enter -------------------------------------------------------------------

TEST_F(CommandActor, EnterCreatesASessionAndJoinsItsGroups) {
  config_.node = "n1";
  start();
  command_params p;
  p.user = "alice";
  p.groups = {"lobby", "news"};
  auto c = submit(make_command(method::enter, p));
  ASSERT_TRUE(c.done());
  auto r = c.result();
  EXPECT_TRUE(std::regex_match(r["session"].get<std::string>(), std::regex{"n1_[0-9A-Za-z]{22}"}))
      << r.dump();
  EXPECT_EQ(r["user"], "alice");
  EXPECT_EQ(r["lease"], 100);
  ASSERT_EQ(r["groups"].size(), 2u) << r.dump();
  for (const char* name : {"lobby", "news"}) {
    EXPECT_EQ(r["groups"][name]["seq"], 0) << name;
    EXPECT_TRUE(
        std::regex_match(r["groups"][name]["epoch"].get<std::string>(), std::regex{"[0-9a-f]{12}"}))
        << name;
  }
  auto events = poll(r["session"]);
  EXPECT_EQ(of_type(events, "join").size(), 2u) << "its own join in each group";
}

TEST_F(CommandActor, EnterClampsTheRequestedLease) {
  config_.max_lease = 600s;
  start();
  command_params p;
  p.user = "alice";
  p.lease = 100000;
  EXPECT_EQ(submit(make_command(method::enter, p)).result()["lease"], 600);
  p.lease = 0;
  EXPECT_EQ(submit(make_command(method::enter, p)).result()["lease"], 1);
}

TEST_F(CommandActor, EnterWithAGroupThatMayNotBeUsedFailsBeforeAnySessionExists) {
  declared_group lobby;
  lobby.name = "lobby";
  config_.groups.push_back(lobby);
  config_.allow_undeclared_groups = false;
  start();
  command_params p;
  p.user = "alice";
  p.groups = {"lobby", "undeclared"};
  auto c = submit(make_command(method::enter, p));
  ASSERT_TRUE(c.done());
  EXPECT_EQ(c.at(0).error_code, "not_found");
  auto asker = spawn_recorder();
  send(asker, directory_, stats_atom::value);
  send(asker, directory_, user_atom::value, std::string{"alice"});
  run();
  EXPECT_EQ(asker.values<node_stats>().at(0).sessions, 0u);
  EXPECT_TRUE(asker.values<std::vector<caf::actor>>().at(0).empty());
}

TEST_F(CommandActor, EnterWhileDrainingIsUnavailable) {
  start();
  caf::anon_send(directory_, drain_atom::value);
  run();
  command_params p;
  p.user = "alice";
  auto c = submit(make_command(method::enter, p));
  ASSERT_TRUE(c.done());
  EXPECT_EQ(c.at(0).error_code, "unavailable");
}

// --- speak and send ----------------------------------------------------------

TEST_F(CommandActor, SpeakAnswersTheNewSeqOfEveryGroup) {
  start();
  auto alice = enter("alice");
  EXPECT_EQ(speak(alice, {"lobby"}, "1").result(),
            json::parse(R"({"groups":{"lobby":{"seq":1}}})"));
  EXPECT_EQ(speak(alice, {"lobby", "news"}, "2").result(),
            json::parse(R"({"groups":{"lobby":{"seq":2},"news":{"seq":1}}})"));
}

TEST_F(CommandActor, SpeakDeliversToEveryMemberTheSenderIncluded) {
  start();
  auto alice = enter("alice", {"lobby"});
  auto bob = enter("bob", {"lobby"});
  auto carol = enter("carol"); // not a member
  ASSERT_TRUE(speak(alice, {"lobby"}, R"({"text":"hi"})").done());
  for (const auto& session : {alice, bob}) {
    auto messages = of_type(poll(session), "message");
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0]["from"], "alice");
    EXPECT_EQ(messages[0]["group"], "lobby");
    EXPECT_EQ(messages[0]["seq"], 1);
    EXPECT_EQ(messages[0]["data"], json::parse(R"({"text":"hi"})"));
  }
  EXPECT_TRUE(of_type(poll(carol), "message").empty());
}

TEST_F(CommandActor, SpeakNeedsNoMembership) {
  start();
  auto alice = enter("alice");
  auto bob = enter("bob", {"lobby"});
  EXPECT_EQ(speak(alice, {"lobby"}, "1").result()["groups"]["lobby"]["seq"], 1);
  EXPECT_EQ(of_type(poll(bob), "message").size(), 1u);
  EXPECT_TRUE(of_type(poll(alice), "message").empty());
}

TEST_F(CommandActor, SendAnswersHowManySessionsOfThatUserItReached) {
  start();
  auto alice = enter("alice");
  auto bob1 = enter("bob");
  auto bob2 = enter("bob");
  auto p = with_session(alice);
  p.to = "bob";
  p.data = R"("psst")";
  EXPECT_EQ(submit(make_command(method::send, p)).result(), json::parse(R"({"delivered":2})"));
  for (const auto& session : {bob1, bob2}) {
    auto direct = of_type(poll(session), "direct");
    ASSERT_EQ(direct.size(), 1u);
    EXPECT_EQ(direct[0]["from"], "alice");
    EXPECT_EQ(direct[0]["to"], "bob");
    EXPECT_EQ(direct[0]["data"], "psst");
  }
  p.to = "nobody";
  EXPECT_EQ(submit(make_command(method::send, p)).result(), json::parse(R"({"delivered":0})"));
}

// --- listen ------------------------------------------------------------------

TEST_F(CommandActor, ListenAnswersQueuedEventsWithTheirEidsAndTheLastCursor) {
  start();
  auto alice = enter("alice", {"lobby"});
  speak(alice, {"lobby"}, "1");
  auto r = poll(alice);
  ASSERT_EQ(r["events"].size(), 2u) << r.dump();
  EXPECT_EQ(r["events"][0]["type"], "join");
  EXPECT_EQ(r["events"][0]["eid"], 1);
  EXPECT_EQ(r["events"][1]["type"], "message");
  EXPECT_EQ(r["events"][1]["eid"], 2);
  EXPECT_EQ(r["cursor"], 2);
  EXPECT_FALSE(r.contains("superseded"));
  EXPECT_EQ(poll(alice, 2), json::parse(R"({"events":[],"cursor":2})"));
}

TEST_F(CommandActor, ListenTimeoutAnswersNoEventsAndTheGivenCursor) {
  start();
  auto alice = enter("alice", {"lobby"}); // eid 1: its own join
  auto c = listen(alice, 1, 5.0);
  advance(4s);
  EXPECT_FALSE(c.done()) << "still waiting after 4 of 5 s";
  advance(1s);
  ASSERT_TRUE(c.done());
  EXPECT_EQ(c.result(), json::parse(R"({"events":[],"cursor":1})"));
}

TEST_F(CommandActor, ListenWithoutTimeoutWaitsTheConfiguredListenTimeout) {
  config_.listen_timeout = 20s;
  start();
  auto alice = enter("alice");
  auto c = listen(alice, 0, std::nullopt);
  advance(19s);
  EXPECT_FALSE(c.done());
  advance(1s);
  EXPECT_TRUE(c.done());
}

TEST_F(CommandActor, ListenTimeoutIsClampedToMaxListenTimeout) {
  config_.max_listen_timeout = 60s;
  config_.listen_timeout = 30s;
  start();
  auto alice = enter("alice");
  auto c = listen(alice, 0, 1000.0);
  advance(59s);
  EXPECT_FALSE(c.done());
  advance(1s);
  ASSERT_TRUE(c.done());
  EXPECT_EQ(c.result(), json::parse(R"({"events":[],"cursor":0})"));
}

TEST_F(CommandActor, AWaitingListenAnswersAsSoonAsAnEventArrives) {
  start();
  auto alice = enter("alice");
  auto bob = enter("bob", {"lobby"});
  auto pending = listen(bob, 1, 30.0);
  ASSERT_FALSE(pending.done());
  speak(alice, {"lobby"}, R"("now")");
  ASSERT_TRUE(pending.done()) << "no clock moved";
  auto r = pending.result();
  ASSERT_EQ(r["events"].size(), 1u);
  EXPECT_EQ(r["events"][0]["data"], "now");
  EXPECT_EQ(r["cursor"], 2);
}

TEST_F(CommandActor, ANewerListenSupersedesAPendingOne) {
  start();
  auto alice = enter("alice");
  auto first = listen(alice, 0, 30.0);
  auto second = listen(alice, 0, 30.0);
  ASSERT_TRUE(first.done());
  EXPECT_EQ(first.result(), json::parse(R"({"events":[],"cursor":0,"superseded":true})"));
  EXPECT_FALSE(second.done());
}

TEST_F(CommandActor, ListenWithACursorPastTheLastEventIsABadRequest) {
  start();
  auto alice = enter("alice");
  auto c = listen(alice, 7, 30.0);
  ASSERT_TRUE(c.done());
  EXPECT_EQ(c.at(0).error_code, "bad_request");
}

TEST_F(CommandActor, APendingListenOfASessionThatExitsIsUnknownSession) {
  start();
  auto alice = enter("alice");
  auto pending = listen(alice, 0, 30.0);
  auto exit = submit(make_command(method::exit, with_session(alice)));
  ASSERT_TRUE(exit.done());
  EXPECT_EQ(exit.result(), json::parse(R"({"ok":true})"));
  ASSERT_TRUE(pending.done());
  EXPECT_EQ(pending.at(0).error_code, "unknown_session");
}

// --- join, leave, presence, history ------------------------------------------

TEST_F(CommandActor, JoinAnswersSeqAndEpochAndWithSinceWhetherItRecovered) {
  start();
  auto alice = enter("alice");
  speak(alice, {"lobby"}, "1");
  speak(alice, {"lobby"}, "2");
  auto p = with_session(alice);
  p.group = "lobby";
  auto joined = submit(make_command(method::join, p)).result();
  EXPECT_EQ(joined["group"], "lobby");
  EXPECT_EQ(joined["seq"], 2);
  EXPECT_FALSE(joined.contains("recovered"));
  auto bob = enter("bob");
  p.session = bob;
  p.since = since_point{true, 1, joined["epoch"].get<std::string>()};
  auto recovered = submit(make_command(method::join, p)).result();
  EXPECT_EQ(recovered["recovered"], true);
  auto messages = of_type(poll(bob), "message");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0]["seq"], 2);
  p.since = since_point{true, 1, "000000000000"};
  EXPECT_EQ(submit(make_command(method::join, p)).result()["recovered"], false);
}

TEST_F(CommandActor, LeaveAnswersOkWhetherJoinedOrNot) {
  start();
  auto alice = enter("alice", {"lobby"});
  auto bob = enter("bob", {"lobby"});
  auto p = with_session(alice);
  p.group = "lobby";
  EXPECT_EQ(submit(make_command(method::leave, p)).result(), json::parse(R"({"ok":true})"));
  EXPECT_EQ(submit(make_command(method::leave, p)).result(), json::parse(R"({"ok":true})"));
  auto leaves = of_type(poll(bob), "leave");
  ASSERT_EQ(leaves.size(), 1u);
  EXPECT_EQ(leaves[0]["user"], "alice");
  EXPECT_EQ(leaves[0]["reason"], "leave");
}

TEST_F(CommandActor, PresenceListsTheGroupsUsers) {
  start();
  auto alice = enter("alice", {"lobby"});
  enter("bob", {"lobby"});
  auto p = with_session(alice);
  p.group = "lobby";
  EXPECT_EQ(submit(make_command(method::presence, p)).result(),
            json::parse(R"({"users":["alice","bob"],"count":2})"));
}

TEST_F(CommandActor, HistoryPagesWithSinceAndLimit) {
  start();
  auto alice = enter("alice");
  for (int i = 1; i <= 4; ++i)
    speak(alice, {"lobby"}, std::to_string(i));
  auto p = with_session(alice);
  p.group = "lobby";
  p.limit = 2;
  auto newest = submit(make_command(method::history, p)).result();
  ASSERT_EQ(newest["messages"].size(), 2u);
  EXPECT_EQ(newest["messages"][0]["seq"], 3);
  EXPECT_EQ(newest["messages"][1]["seq"], 4);
  EXPECT_TRUE(newest["epoch"].is_string());
  p.history_since = 1;
  auto page = submit(make_command(method::history, p)).result();
  ASSERT_EQ(page["messages"].size(), 2u);
  EXPECT_EQ(page["messages"][0]["seq"], 2);
  EXPECT_EQ(page["messages"][1]["seq"], 3);
}

// --- errors and odd methods --------------------------------------------------

TEST_F(CommandActor, AnUnknownSessionIsUnknownSessionForEveryMethodThatNeedsOne) {
  start();
  const std::string ghost = "node_0000000000000000000000";
  for (auto verb : {method::exit, method::join, method::leave, method::speak, method::send,
                    method::listen, method::presence, method::history, method::ping}) {
    auto p = with_session(ghost);
    p.group = "lobby";
    p.groups = {"lobby"};
    p.to = "bob";
    p.data = "1";
    auto c = submit(make_command(verb, p));
    ASSERT_TRUE(c.done()) << to_string(verb);
    EXPECT_EQ(c.at(0).error_code, "unknown_session") << to_string(verb);
    EXPECT_NE(c.at(0).error_message.find(ghost), std::string::npos) << to_string(verb);
  }
}

TEST_F(CommandActor, AttachIsABadRequestOutsideWebSocket) {
  start();
  auto alice = enter("alice");
  auto c = submit(make_command(method::attach, with_session(alice)));
  ASSERT_TRUE(c.done());
  EXPECT_EQ(c.at(0).error_code, "bad_request");
}

TEST_F(CommandActor, PingWithoutASessionAnswersTheTime) {
  start();
  auto c = submit(make_command(method::ping));
  ASSERT_TRUE(c.done());
  auto r = c.result();
  EXPECT_EQ(r.size(), 1u);
  EXPECT_TRUE(r["time"].is_number_integer());
  EXPECT_GT(r["time"].get<std::int64_t>(), 1577836800000);
}

TEST_F(CommandActor, PingWithASessionAnswersTheTime) {
  start();
  auto alice = enter("alice");
  EXPECT_TRUE(submit(make_command(method::ping, with_session(alice))).result().contains("time"));
}

TEST_F(CommandActor, ABatchRunsInOrderWithOneReplyPerCommand) {
  start();
  auto alice = enter("alice");
  auto speak_cmd = make_command(method::speak, with_session(alice));
  speak_cmd.params.groups = {"lobby"};
  speak_cmd.params.data = "1";
  auto bad = make_command(method::listen, with_session(alice));
  bad.params.cursor = 99;
  auto c = submit({speak_cmd, make_command(method::ping), speak_cmd, bad,
                   make_command(method::exit, with_session(alice)), speak_cmd});
  ASSERT_TRUE(c.done());
  ASSERT_EQ(c.replies->value().size(), 6u);
  EXPECT_EQ(c.result(0)["groups"]["lobby"]["seq"], 1);
  EXPECT_TRUE(c.result(1).contains("time"));
  EXPECT_EQ(c.result(2)["groups"]["lobby"]["seq"], 2) << "the second speak ran after the first";
  EXPECT_EQ(c.at(3).error_code, "bad_request") << "an error does not stop the batch";
  EXPECT_EQ(c.result(4), json::parse(R"({"ok":true})"));
  EXPECT_EQ(c.at(5).error_code, "unknown_session") << "the exit ran before it";
}

TEST_F(CommandActor, AnEmptyBatchCompletesWithNoReplies) {
  start();
  auto c = submit(std::vector<command>{});
  ASSERT_TRUE(c.done());
  EXPECT_TRUE(c.replies->value().empty());
}

// Regression: speak (and enter) collect per-group results keyed by group
// name; a name given twice used to make them publish forever. Names are now
// deduplicated where groups are resolved.
TEST_F(CommandActor, SpeakToTheSameGroupTwiceTerminates) {
  start();
  auto alice = enter("alice");
  completion c;
  auto replies = c.replies;
  auto cmd = make_command(method::speak, with_session(alice));
  cmd.params.groups = {"lobby", "lobby"};
  cmd.params.data = "1";
  spawn_command_actor(sys_, context(), {cmd},
                      [replies](std::vector<reply> r) { *replies = std::move(r); });
  sched_.run(10000);
  ASSERT_TRUE(c.done());
  EXPECT_EQ(c.result()["groups"]["lobby"]["seq"], 1);
}

// --- server-side publish -----------------------------------------------------

TEST_F(CommandActor, PublishToGroupsAnswersSeqsAndComesFromServer) {
  start();
  auto bob = enter("bob", {"lobby"});
  completion c;
  auto replies = c.replies;
  publish_request request;
  request.groups = {"lobby"};
  request.data = R"({"a":1})";
  spawn_publish_actor(sys_, context(), {request},
                      [replies](std::vector<reply> r) { *replies = std::move(r); });
  run();
  ASSERT_TRUE(c.done());
  EXPECT_EQ(c.result(), json::parse(R"({"groups":{"lobby":{"seq":1}}})"));
  auto messages = of_type(poll(bob), "message");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0]["from"], "server");
}

TEST_F(CommandActor, PublishToAUserAnswersTheDeliveredCount) {
  start();
  auto bob = enter("bob");
  completion c;
  auto replies = c.replies;
  publish_request request;
  request.user = "bob";
  request.from = "ops";
  request.data = "1";
  spawn_publish_actor(sys_, context(), {request},
                      [replies](std::vector<reply> r) { *replies = std::move(r); });
  run();
  ASSERT_TRUE(c.done());
  EXPECT_EQ(c.result(), json::parse(R"({"delivered":1})"));
  EXPECT_EQ(of_type(poll(bob), "direct").at(0)["from"], "ops");
}

// Pipelined publishes of one connection share one actor: each gets its own
// reply, in order, and the group sequences them in that order.
TEST_F(CommandActor, PublishBatchPerformsItsRequestsInOrder) {
  declared_group lobby;
  lobby.name = "lobby";
  config_.groups.push_back(lobby);
  config_.allow_undeclared_groups = false;
  start();
  auto bob = enter("bob", {"lobby"});
  std::vector<publish_request> requests;
  for (int i = 1; i <= 3; ++i) {
    publish_request request;
    request.groups = {"lobby"};
    request.data = std::to_string(i);
    requests.push_back(request);
  }
  publish_request to_user;
  to_user.user = "bob";
  to_user.data = "4";
  requests.push_back(to_user);
  publish_request undeclared_fails;
  undeclared_fails.groups = {"undeclared"};
  undeclared_fails.data = "5";
  requests.push_back(undeclared_fails);
  completion c;
  auto replies = c.replies;
  spawn_publish_actor(sys_, context(), requests,
                      [replies](std::vector<reply> r) { *replies = std::move(r); });
  run();
  ASSERT_TRUE(c.done());
  ASSERT_EQ(replies->value().size(), 5u);
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_EQ(c.result(i)["groups"]["lobby"]["seq"], i + 1);
  EXPECT_EQ(c.result(3), json::parse(R"({"delivered":1})"));
  EXPECT_EQ(c.at(4).error_code, "not_found");
  auto events = poll(bob);
  std::vector<std::string> data;
  for (const auto& e : events["events"])
    if (e["type"] == "message" || e["type"] == "direct")
      data.push_back(e["data"].dump());
  EXPECT_EQ(data, (std::vector<std::string>{"1", "2", "3", "4"})) << events.dump();
}

} // namespace
} // namespace herald
