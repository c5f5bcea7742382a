#include "tools/client/resume_state.hpp"

#include <gtest/gtest.h>

namespace herald::client {
namespace {

using verdict = resume_state::verdict;

json message(std::uint64_t eid, std::uint64_t seq, const std::string& epoch = "e1",
             const std::string& group = "lobby") {
  return json{{"type", "message"}, {"eid", eid},  {"group", group}, {"seq", seq},
              {"epoch", epoch},    {"from", "a"}, {"data", 1}};
}

resume_state entered_lobby(std::uint64_t seq = 0) {
  resume_state state;
  state.begin_session("s_1");
  state.entered(json{{"session", "s_1"}, {"groups", {{"lobby", {{"seq", seq}, {"epoch", "e1"}}}}}});
  return state;
}

TEST(ResumeState, TakesEachEidOnceAndAdvancesTheCursor) {
  auto state = entered_lobby();
  EXPECT_EQ(state.admit(json{{"type", "join"}, {"eid", 1}}), verdict::fresh);
  EXPECT_EQ(state.admit(message(2, 1)), verdict::fresh);
  EXPECT_EQ(state.last_eid(), 2u);
  // A resume replays from the cursor the server last saw: already taken.
  EXPECT_EQ(state.admit(json{{"type", "join"}, {"eid", 1}}), verdict::duplicate);
  EXPECT_EQ(state.admit(message(2, 1)), verdict::duplicate);
  EXPECT_EQ(state.admit(message(3, 2)), verdict::fresh);
  EXPECT_EQ(state.last_eid(), 3u);
}

TEST(ResumeState, HeartbeatsPassAndChangeNothing) {
  auto state = entered_lobby();
  EXPECT_EQ(state.admit(json{{"type", "heartbeat"}, {"time", 1}}), verdict::fresh);
  EXPECT_EQ(state.last_eid(), 0u);
}

TEST(ResumeState, AnOverflowMayJumpAhead) {
  auto state = entered_lobby();
  EXPECT_EQ(state.admit(json{{"type", "overflow"}, {"eid", 40}, {"dropped", 39}}), verdict::fresh);
  EXPECT_EQ(state.last_eid(), 40u);
}

TEST(ResumeState, TracksEachGroupsLastMessage) {
  auto state = entered_lobby(5);
  EXPECT_EQ(state.groups().at("lobby").seq, 5u);
  state.admit(message(1, 6));
  state.admit(message(2, 7));
  EXPECT_EQ(state.groups().at("lobby").seq, 7u);
  EXPECT_EQ(state.groups().at("lobby").epoch, "e1");
}

TEST(ResumeState, ANewSessionRestartsEidsButKeepsGroupPositions) {
  auto state = entered_lobby();
  state.admit(message(1, 1));
  state.admit(message(2, 2));
  state.begin_session("s_2");
  EXPECT_EQ(state.session(), "s_2");
  EXPECT_EQ(state.last_eid(), 0u);
  EXPECT_EQ(state.groups().at("lobby").seq, 2u);
}

TEST(ResumeState, AGroupMessageSeenBeforeIsADuplicateEvenUnderANewEid) {
  auto state = entered_lobby();
  state.admit(message(1, 1));
  state.admit(message(2, 2));
  state.begin_session("s_2");
  state.rejoined("lobby", json{{"group", "lobby"}, {"seq", 3}, {"epoch", "e1"}}, true);
  EXPECT_EQ(state.admit(message(1, 2)), verdict::duplicate) << "seq 2 was printed already";
  EXPECT_EQ(state.admit(message(2, 3)), verdict::fresh) << "recovered";
  EXPECT_EQ(state.last_eid(), 2u);
}

TEST(ResumeState, ARecoveredRejoinKeepsThePositionSoRecoveredMessagesArrive) {
  auto state = entered_lobby(4);
  state.begin_session("s_2");
  state.rejoined("lobby", json{{"group", "lobby"}, {"seq", 9}, {"epoch", "e1"}}, true);
  EXPECT_EQ(state.groups().at("lobby").seq, 4u);
}

TEST(ResumeState, AnUnrecoveredRejoinJumpsToTheGroupsNewPosition) {
  auto state = entered_lobby(4);
  state.begin_session("s_2");
  state.rejoined("lobby", json{{"group", "lobby"}, {"seq", 0}, {"epoch", "e2"}}, false);
  EXPECT_EQ(state.groups().at("lobby").seq, 0u);
  EXPECT_EQ(state.groups().at("lobby").epoch, "e2");
  EXPECT_EQ(state.admit(message(1, 1, "e2")), verdict::fresh);
}

TEST(ResumeState, JoiningAgainDoesNotSkipMessagesStillOnTheirWay) {
  auto state = entered_lobby(2);
  // The server reports seq 5 while 3..5 are still queued for us.
  state.joined(json{{"group", "lobby"}, {"seq", 5}, {"epoch", "e1"}});
  EXPECT_EQ(state.admit(message(1, 3)), verdict::fresh);
  // A changed epoch means the group started over: take its position.
  state.joined(json{{"group", "lobby"}, {"seq", 1}, {"epoch", "e9"}});
  EXPECT_EQ(state.groups().at("lobby").epoch, "e9");
}

TEST(ResumeState, JoinAndLeaveMaintainTheGroupsToRejoin) {
  auto state = entered_lobby();
  state.joined(json{{"group", "side"}, {"seq", 3}, {"epoch", "x"}});
  EXPECT_EQ(state.groups().size(), 2u);
  EXPECT_EQ(state.groups().at("side").seq, 3u);
  state.left("side");
  EXPECT_EQ(state.groups().count("side"), 0u);
  // Messages of a group no longer joined pass on eid alone.
  EXPECT_EQ(state.admit(message(1, 1, "x", "side")), verdict::fresh);
}

TEST(ResumeState, IgnoresMalformedResults) {
  auto state = entered_lobby();
  state.joined(json{{"group", "side"}, {"seq", "three"}, {"epoch", "x"}});
  state.joined(json::array());
  EXPECT_EQ(state.groups().count("side"), 0u);
  EXPECT_EQ(state.admit(json{{"type", "message"}, {"eid", -1}}), verdict::fresh);
}

} // namespace
} // namespace herald::client
