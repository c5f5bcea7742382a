#include "actors/directory_actor.hpp"

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "actors/messages.hpp"
#include "actors/names.hpp"
#include "tests/actors/actor_fixture.hpp"

namespace herald {
namespace {

using namespace std::chrono_literals;

class DirectoryActor : public testing::actor_fixture {
protected:
  DirectoryActor() : asker_(spawn_recorder()) { config_.node = "web_1"; }

  // Starts the directory with `config_` as the test left it.
  caf::actor start() {
    directory_ = keep(spawn_directory_actor(sys_, std::make_shared<const settings>(config_)));
    run();
    return directory_;
  }

  // Asks the directory and returns the one message it answered.
  caf::message ask(caf::message request) {
    asker_.clear();
    caf::send_as(asker_.handle, directory_, std::move(request));
    run();
    EXPECT_EQ(asker_.log->size(), 1u);
    return asker_.log->empty() ? caf::message{} : asker_.log->back();
  }

  // create → (session_ref, reply); no lease means the default one.
  std::pair<session_ref, reply> create(const std::string& user,
                                       std::optional<std::int64_t> lease = std::nullopt) {
    auto answer
        = ask(caf::make_message(create_atom::value, user, lease.has_value(), lease.value_or(0)));
    EXPECT_TRUE((answer.match_elements<session_ref, reply>())) << caf::to_string(answer);
    if (!answer.match_elements<session_ref, reply>())
      return {};
    return {answer.get_as<session_ref>(0), answer.get_as<reply>(1)};
  }

  session_ref lookup(const std::string& id) {
    auto answer = ask(caf::make_message(lookup_atom::value, id));
    EXPECT_TRUE(answer.match_elements<session_ref>()) << caf::to_string(answer);
    return answer.match_elements<session_ref>() ? answer.get_as<session_ref>(0) : session_ref{};
  }

  group_ref group(const std::string& name) {
    auto answer = ask(caf::make_message(group_atom::value, name));
    EXPECT_TRUE(answer.match_elements<group_ref>()) << caf::to_string(answer);
    return answer.match_elements<group_ref>() ? answer.get_as<group_ref>(0) : group_ref{};
  }

  std::vector<caf::actor> sessions_of(const std::string& user) {
    auto answer = ask(caf::make_message(user_atom::value, user));
    EXPECT_TRUE(answer.match_elements<std::vector<caf::actor>>()) << caf::to_string(answer);
    return answer.match_elements<std::vector<caf::actor>>()
               ? answer.get_as<std::vector<caf::actor>>(0)
               : std::vector<caf::actor>{};
  }

  node_stats stats() {
    auto answer = ask(caf::make_message(stats_atom::value));
    EXPECT_TRUE(answer.match_elements<node_stats>()) << caf::to_string(answer);
    return answer.match_elements<node_stats>() ? answer.get_as<node_stats>(0) : node_stats{};
  }

  settings config_;
  caf::actor directory_;
  testing::recorder asker_;
};

// --- sessions ----------------------------------------------------------------

TEST_F(DirectoryActor, CreateReturnsANewSessionOfThatUser) {
  start();
  auto [ref, status] = create("alice");
  EXPECT_TRUE(status.ok()) << status.error_message;
  EXPECT_TRUE(ref.handle);
  EXPECT_EQ(ref.user, "alice");
  EXPECT_TRUE(std::regex_match(ref.id, std::regex{"web-1_[0-9A-Za-z]{22}"})) << ref.id;
  EXPECT_EQ(node_of_session_id(ref.id), "web-1");
  auto other = create("alice").first;
  EXPECT_NE(other.id, ref.id);
  EXPECT_NE(other.handle, ref.handle);
}

TEST_F(DirectoryActor, CreateClampsTheLeaseBetweenOneSecondAndMaxLease) {
  config_.lease = 100s;
  config_.max_lease = 3600s;
  start();
  EXPECT_EQ(create("a").first.lease, 100) << "no lease asked: the default";
  EXPECT_EQ(create("a", 50).first.lease, 50);
  EXPECT_EQ(create("a", 0).first.lease, 1);
  EXPECT_EQ(create("a", -5).first.lease, 1);
  EXPECT_EQ(create("a", 3600).first.lease, 3600);
  EXPECT_EQ(create("a", 99999).first.lease, 3600);
}

TEST_F(DirectoryActor, LookupFindsACreatedSession) {
  start();
  auto created = create("alice").first;
  auto found = lookup(created.id);
  EXPECT_EQ(found.handle, created.handle);
  EXPECT_EQ(found.id, created.id);
  EXPECT_EQ(found.user, "alice");
  EXPECT_EQ(found.lease, created.lease);
}

TEST_F(DirectoryActor, LookupOfAnUnknownIdAnswersAnEmptyHandle) {
  start();
  create("alice");
  auto found = lookup("web-1_0000000000000000000000");
  EXPECT_FALSE(found.handle);
}

TEST_F(DirectoryActor, UserLookupReturnsThatUsersSessions) {
  start();
  auto a1 = create("alice").first;
  auto a2 = create("alice").first;
  create("bob");
  auto sessions = sessions_of("alice");
  ASSERT_EQ(sessions.size(), 2u);
  EXPECT_TRUE((sessions[0] == a1.handle && sessions[1] == a2.handle)
              || (sessions[0] == a2.handle && sessions[1] == a1.handle));
  EXPECT_EQ(sessions_of("bob").size(), 1u);
  EXPECT_TRUE(sessions_of("nobody").empty());
}

TEST_F(DirectoryActor, ASessionThatEndsIsForgotten) {
  start();
  auto alice = create("alice").first;
  auto bob = create("bob").first;
  caf::anon_send(alice.handle, exit_atom::value);
  run();
  EXPECT_FALSE(lookup(alice.id).handle);
  EXPECT_TRUE(sessions_of("alice").empty());
  EXPECT_TRUE(lookup(bob.id).handle);
  EXPECT_EQ(stats().sessions, 1u);
}

TEST_F(DirectoryActor, CreateBeyondMaxSessionsIsUnavailable) {
  config_.max_sessions = 1;
  start();
  auto first = create("alice");
  ASSERT_TRUE(first.second.ok());
  auto second = create("bob");
  EXPECT_EQ(second.second.error_code, "unavailable");
  EXPECT_FALSE(second.first.handle);
  caf::anon_send(first.first.handle, exit_atom::value);
  run();
  EXPECT_TRUE(create("bob").second.ok()) << "the ended session freed its slot";
}

TEST_F(DirectoryActor, DrainingRefusesCreateWithUnavailable) {
  start();
  auto before = create("alice").first;
  caf::anon_send(directory_, drain_atom::value);
  run();
  auto [ref, status] = create("bob");
  EXPECT_EQ(status.error_code, "unavailable");
  EXPECT_FALSE(ref.handle);
  EXPECT_TRUE(lookup(before.id).handle) << "existing sessions stay";
}

TEST_F(DirectoryActor, DrainingAnswersEveryWaitingListener) {
  start();
  auto session = create("alice").first;
  auto listener = spawn_recorder();
  send(listener, session.handle, listen_atom::value, std::uint64_t{0}, std::uint64_t{100}, true);
  run();
  ASSERT_TRUE(listener.log->empty());
  caf::anon_send(directory_, drain_atom::value);
  run();
  ASSERT_EQ(listener.deliveries().size(), 1u);
  EXPECT_EQ(listener.deliveries()[0].events_json, "[]");
}

TEST_F(DirectoryActor, CreatedSessionsUseTheNodesQueueAndGroupLimits) {
  config_.queue_max = 2;
  config_.max_groups_per_session = 1;
  start();
  auto session = create("alice").first;
  for (int i = 0; i < 3; ++i)
    caf::anon_send(session.handle, event_atom::value, event{"join", R"("user":"u","time":1})"});
  run();
  auto listener = spawn_recorder();
  send(listener, session.handle, listen_atom::value, std::uint64_t{0}, std::uint64_t{100}, false);
  run();
  auto events = nlohmann::json::parse(listener.deliveries().at(0).events_json);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["type"], "overflow");
  auto lobby = group("lobby").handle;
  auto news = group("news").handle;
  auto requester = spawn_recorder();
  send(requester, session.handle, join_atom::value, std::string{"lobby"}, lobby, since_point{});
  run();
  send(requester, session.handle, join_atom::value, std::string{"news"}, news, since_point{});
  run();
  auto replies = requester.replies();
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_TRUE(replies[0].ok());
  EXPECT_EQ(replies[1].error_code, "forbidden");
}

// --- groups ------------------------------------------------------------------

TEST_F(DirectoryActor, GroupIsCreatedOnceAndThenFound) {
  start();
  auto first = group("lobby");
  EXPECT_TRUE(first.failure.ok());
  EXPECT_TRUE(first.handle);
  EXPECT_EQ(first.name, "lobby");
  auto again = group("lobby");
  EXPECT_EQ(again.handle, first.handle);
  EXPECT_NE(group("news").handle, first.handle);
  EXPECT_EQ(stats().groups, 2u);
}

TEST_F(DirectoryActor, UndeclaredGroupsAreNotFoundWhenRefused) {
  declared_group lobby;
  lobby.name = "lobby";
  config_.groups.push_back(lobby);
  config_.allow_undeclared_groups = false;
  start();
  auto declared = group("lobby");
  EXPECT_TRUE(declared.failure.ok());
  EXPECT_TRUE(declared.handle);
  auto undeclared = group("elsewhere");
  EXPECT_EQ(undeclared.failure.error_code, "not_found");
  EXPECT_NE(undeclared.failure.error_message.find("elsewhere"), std::string::npos);
  EXPECT_FALSE(undeclared.handle);
  EXPECT_EQ(stats().groups, 1u);
}

TEST_F(DirectoryActor, UndeclaredGroupsAreCreatedWhenAllowed) {
  config_.allow_undeclared_groups = true;
  start();
  EXPECT_TRUE(group("anything").handle);
}

TEST_F(DirectoryActor, GroupsBeyondMaxGroupsAreUnavailable) {
  config_.max_groups = 1;
  start();
  auto lobby = group("lobby");
  ASSERT_TRUE(lobby.handle);
  auto news = group("news");
  EXPECT_EQ(news.failure.error_code, "unavailable");
  EXPECT_FALSE(news.handle);
  EXPECT_EQ(group("lobby").handle, lobby.handle) << "an existing group is still found";
}

TEST_F(DirectoryActor, AGroupThatEndsIsForgotten) {
  config_.group_idle_timeout = 300s;
  start();
  auto first = group("lobby").handle;
  auto ended = watch_exit(first);
  advance(300s);
  ASSERT_TRUE(*ended);
  EXPECT_EQ(stats().groups, 0u);
  auto again = group("lobby").handle;
  EXPECT_TRUE(again);
  EXPECT_NE(again, first) << "a fresh group, with a fresh epoch";
}

TEST_F(DirectoryActor, DeclaredGroupsGetTheirDeclaredSettings) {
  declared_group lobby;
  lobby.name = "lobby";
  lobby.history = 1;
  config_.groups.push_back(lobby);
  config_.history = 100;
  start();
  auto handle = group("lobby").handle;
  auto publisher = spawn_recorder();
  for (int i = 0; i < 3; ++i)
    send(publisher, handle, publish_atom::value, std::string{"alice"}, std::to_string(i));
  send(publisher, handle, history_atom::value, false, std::uint64_t{0}, std::uint64_t{0});
  run();
  auto history = publisher.results().back(); // after the three publishes' seqs
  EXPECT_EQ(history["messages"].size(), 1u) << history.dump();
  advance(3600s);
  EXPECT_EQ(group("lobby").handle, handle) << "declared groups never idle out";
}

TEST_F(DirectoryActor, ShutdownEndsEverySessionAndGroupThenTheDirectory) {
  start();
  auto session = create("alice").first.handle;
  auto lobby = group("lobby").handle;
  auto session_ended = watch_exit(session);
  auto group_ended = watch_exit(lobby);
  auto directory_ended = watch_exit(directory_);
  caf::anon_send_exit(directory_, caf::exit_reason::user_shutdown);
  run();
  EXPECT_TRUE(*session_ended);
  EXPECT_TRUE(*group_ended);
  EXPECT_TRUE(*directory_ended);
}

TEST_F(DirectoryActor, StatsCountSessionsAndGroups) {
  start();
  EXPECT_EQ(stats().sessions, 0u);
  create("alice");
  create("bob");
  group("lobby");
  auto s = stats();
  EXPECT_EQ(s.sessions, 2u);
  EXPECT_EQ(s.groups, 1u);
}

} // namespace
} // namespace herald
