// Every type nodes exchange, sent over a real middleman connection between two
// actor systems and echoed back: a type that is not registered, or whose inspect
// leaves a field out, fails here rather than between two production nodes.

#include "actors/messages.hpp"

#include <chrono>
#include <string>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <gtest/gtest.h>

namespace herald {
namespace {

using namespace std::chrono_literals;

caf::actor_system_config& node_config(caf::actor_system_config& cfg) {
  cfg.load<caf::io::middleman>();
  cfg.add_message_types<caf::id_block::herald>();
  cfg.set("scheduler.max-threads", std::size_t{1});
  cfg.set("logger.verbosity", caf::atom("quiet"));
  return cfg;
}

// Answers every message with itself. (Spawned functions take an argument:
// CAF 0.17's spawn of one without arguments trips UBSan.)
caf::behavior echo(caf::event_based_actor* self, const std::string& /* label */) {
  self->set_default_handler(caf::reflect);
  return {[](caf::unit_t) {}};
}

caf::behavior idle(caf::event_based_actor*, const std::string& /* label */) {
  return {[](caf::unit_t) {}};
}

class MessagesOverTheWire : public ::testing::Test {
protected:
  MessagesOverTheWire() : home_(node_config(home_cfg_)), away_(node_config(away_cfg_)) {}

  void SetUp() override {
    auto echoer = home_.spawn(echo, std::string{"echo"});
    auto port = home_.middleman().publish(echoer, 0, "127.0.0.1", true);
    ASSERT_TRUE(port) << home_.render(port.error());
    auto remote = away_.middleman().remote_actor("127.0.0.1", *port);
    ASSERT_TRUE(remote) << away_.render(remote.error());
    echo_ = *remote;
    ASSERT_NE(echo_.node(), away_.node()) << "the echo must be a proxy of the other node";
    local_ = away_.spawn(idle, std::string{"local"});
  }

  void TearDown() override {
    caf::anon_send_exit(local_, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(echo_, caf::exit_reason::user_shutdown);
  }

  // Sends `value` to the other node and expects the same value back.
  template <class T>
  void round_trip(T value) {
    caf::scoped_actor self{away_};
    auto sent = caf::deep_to_string(value);
    bool answered = false;
    self->request(echo_, 10s, value)
        .receive(
            [&](const T& back) {
              answered = true;
              EXPECT_EQ(caf::deep_to_string(back), sent);
            },
            [&](const caf::error& err) { ADD_FAILURE() << away_.render(err) << " for " << sent; });
    EXPECT_TRUE(answered) << sent;
  }

  caf::actor_system_config home_cfg_;
  caf::actor_system_config away_cfg_;
  caf::actor_system home_;
  caf::actor_system away_;
  caf::actor echo_;  // on home_, seen from away_
  caf::actor local_; // on away_: crosses twice and must come back as itself
};

event sample_event() {
  return event{"message", R"("group":"lobby","seq":7})", 1'796'000'000'000'000'000, 7};
}

group_member sample_member(const caf::actor& session, const caf::actor& relay) {
  return group_member{session, "alice", relay};
}

peer_hello sample_hello(const caf::actor& a, const caf::actor& b) {
  return peer_hello{3, "n1", "4f2a9c", "d1g3st", "10.0.0.1:7000", a, b};
}

TEST_F(MessagesOverTheWire, ValuesOfTheSessionProtocol) {
  round_trip(sample_event());
  round_trip(since_point{true, 42, "3515ad1c7cee"});
  round_trip(make_result(R"({"seq":1})"));
  round_trip(make_failure("unknown_session", "unknown session \"x\""));
  round_trip(delivery{R"([{"type":"message"}])", 9, 1, true});
  round_trip(
      session_ref{local_, "n2_abcd", "bob", 100, echo_, true, {"room.*", "lobby"}, "10.0.0.1"});
  round_trip(group_ref{local_, "lobby", make_failure("forbidden", "no")});
  round_trip(node_stats{3, 4});
  round_trip(stream_event{5, "join", R"({"type":"join"})", 12});
  round_trip(stream_batch{{stream_event{1, "a", "{}", 0}, stream_event{2, "b", "[]", 3}}});
  round_trip(stream_end{"draining", "node is draining"});
  round_trip(std::vector<std::string>{"alice", "", "bob"});
}

TEST_F(MessagesOverTheWire, ValuesOfTheClusterProtocol) {
  round_trip(sample_member(local_, echo_));
  round_trip(sample_member(local_, caf::actor{}));
  round_trip(group_snapshot{"lobby",
                            "3515ad1c7cee",
                            7,
                            {sample_event(), sample_event()},
                            {sample_member(local_, echo_)},
                            {idempotency_entry{"order-1", 6, 1'796'000'000'000}}});
  round_trip(idempotency_entry{"k", 1, 2});
  round_trip(peer_node{"n3", local_});
  round_trip(cluster_view{{peer_node{"n1", echo_}, peer_node{"n2", local_}}, 3});
  round_trip(sample_hello(local_, echo_));
  round_trip(peer_welcome{"", sample_hello(echo_, local_), {"10.0.0.2:7000", "10.0.0.3:7000"}});
  round_trip(peer_welcome{"protocol 2, this node speaks 3", peer_hello{}, {}});
  round_trip(std::vector<event>{sample_event()});
  round_trip(std::vector<group_member>{sample_member(echo_, local_)});
  round_trip(std::vector<peer_node>{peer_node{"n1", echo_}});
}

// Whole messages as the group protocol sends them: atoms and values together.
TEST_F(MessagesOverTheWire, MessagesOfSeveralValues) {
  caf::scoped_actor self{away_};
  bool answered = false;
  self->request(echo_, 10s, join_atom::value, local_, std::string{"alice"},
                since_point{true, 3, "e"}, echo_)
      .receive(
          [&](join_atom, const caf::actor& session, const std::string& user,
              const since_point& since, const caf::actor& relay) {
            answered = true;
            EXPECT_EQ(session, local_);
            EXPECT_EQ(relay, echo_);
            EXPECT_EQ(user, "alice");
            EXPECT_EQ(caf::deep_to_string(since), caf::deep_to_string(since_point{true, 3, "e"}));
          },
          [&](const caf::error& err) { ADD_FAILURE() << away_.render(err); });
  EXPECT_TRUE(answered);
}

} // namespace
} // namespace herald
