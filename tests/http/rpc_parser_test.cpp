#include "http/rpc_parser.hpp"

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "actors/names.hpp"

namespace {

using herald::method;
using herald::parse_outcome;
using herald::settings;
using nlohmann::json;

// Declared groups, listed out of bit order on purpose: a bitmask must
// resolve in ascending bit order, not in declaration order.
settings declared_groups(bool allow_undeclared) {
  settings s;
  s.allow_undeclared_groups = allow_undeclared;
  for (auto [name, bit] : {std::pair{"ops", 4}, {"lobby", 1}, {"news", 2}, {"nobit", 0}}) {
    herald::declared_group group;
    group.name = name;
    group.bit = static_cast<std::uint64_t>(bit);
    s.groups.push_back(group);
  }
  return s;
}

parse_outcome parse(const std::string& frame, const settings& s = settings{}) {
  return herald::parse_command(json::parse(frame), s);
}

testing::AssertionResult succeeds(const parse_outcome& outcome) {
  if (outcome.failure)
    return testing::AssertionFailure() << "failed with " << outcome.failure->error_code << ": "
                                       << outcome.failure->error_message;
  return testing::AssertionSuccess();
}

// Checks the error code and that the message contains `fragment` (the name
// of the offending field, usually).
testing::AssertionResult fails_with(const parse_outcome& outcome, const std::string& code,
                                    const std::string& fragment) {
  if (!outcome.failure)
    return testing::AssertionFailure() << "parsed without failure";
  const auto& failure = *outcome.failure;
  if (failure.error_code != code)
    return testing::AssertionFailure() << "code " << failure.error_code << " ("
                                       << failure.error_message << "), expected " << code;
  if (failure.error_message.find(fragment) == std::string::npos)
    return testing::AssertionFailure()
           << "message \"" << failure.error_message << "\" does not contain \"" << fragment << "\"";
  return testing::AssertionSuccess();
}

const char* valid_session = "n1_abcdefghijklmnopqrstuv";

// Returns a frame for `verb` with a valid session and `params_tail` added to
// its params (`"group":"lobby"`).
std::string with_session(const std::string& verb, const std::string& params_tail = "") {
  std::string params = std::string{"\"session\":\""} + valid_session + "\"";
  if (!params_tail.empty())
    params += "," + params_tail;
  return R"({"method":")" + verb + R"(","params":{)" + params + "}}";
}

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

} // namespace

// --- frame shape ---------------------------------------------------------------

TEST(RpcParser, FrameThatIsNotAnObjectIsBadRequest) {
  for (const char* frame : {"[]", "\"ping\"", "1", "null", "true"}) {
    auto outcome = parse(frame);
    EXPECT_TRUE(fails_with(outcome, "bad_request", "frame")) << frame;
    EXPECT_FALSE(outcome.cmd.has_id) << frame;
  }
}

TEST(RpcParser, ScalarIdsAreKeptForTheReply) {
  for (const char* id : {"7", "\"abc\"", "null", "true", "-1.5", "18446744073709551615"}) {
    auto outcome = parse(std::string{R"({"id":)"} + id + R"(,"method":"ping"})");
    ASSERT_TRUE(succeeds(outcome)) << id;
    EXPECT_TRUE(outcome.cmd.has_id) << id;
    EXPECT_EQ(outcome.cmd.id, json::parse(id)) << id;
  }
}

TEST(RpcParser, MissingIdIsNotEchoed) {
  auto outcome = parse(R"({"method":"ping"})");
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_FALSE(outcome.cmd.has_id);
}

TEST(RpcParser, ObjectIdIsBadRequestAndNotEchoed) {
  auto outcome = parse(R"({"id":{"nested":{"deeper":1}},"method":"ping"})");
  EXPECT_TRUE(fails_with(outcome, "bad_request", "id"));
  EXPECT_FALSE(outcome.cmd.has_id);
}

TEST(RpcParser, ArrayIdIsBadRequestAndNotEchoed) {
  auto outcome = parse(R"({"id":[1,[2]],"method":"ping"})");
  EXPECT_TRUE(fails_with(outcome, "bad_request", "id"));
  EXPECT_FALSE(outcome.cmd.has_id);
}

TEST(RpcParser, IdIsKeptWhenTheFrameFailsLater) {
  auto outcome = parse(R"({"id":42,"method":"exit","params":{}})");
  EXPECT_TRUE(fails_with(outcome, "bad_request", "params.session"));
  EXPECT_TRUE(outcome.cmd.has_id);
  EXPECT_EQ(outcome.cmd.id, 42);
}

TEST(RpcParser, MissingMethodIsBadRequest) {
  auto outcome = parse(R"({"id":1,"params":{}})");
  EXPECT_TRUE(fails_with(outcome, "bad_request", "method: required"));
  EXPECT_TRUE(outcome.cmd.has_id);
}

TEST(RpcParser, NonStringMethodIsBadRequest) {
  for (const char* value : {"1", "null", "[\"ping\"]", "{}"})
    EXPECT_TRUE(fails_with(parse(std::string{R"({"method":)"} + value + "}"), "bad_request",
                           "method: must be a string"))
        << value;
}

TEST(RpcParser, UnknownMethodIsNotFoundAndNamed) {
  auto outcome = parse(R"({"id":"a","method":"fly"})");
  ASSERT_TRUE(fails_with(outcome, "not_found", "unknown method \"fly\""));
  EXPECT_EQ(outcome.cmd.id, "a");
}

TEST(RpcParser, MethodNamesAreCaseSensitive) {
  EXPECT_TRUE(fails_with(parse(R"({"method":"Ping"})"), "not_found", "unknown method"));
}

TEST(RpcParser, LongUnknownMethodNameIsCutInTheMessage) {
  std::string name(10000, 'x');
  auto outcome = parse(R"({"method":")" + name + "\"}");
  ASSERT_TRUE(fails_with(outcome, "not_found", "unknown method"));
  EXPECT_LT(outcome.failure->error_message.size(), 200u);
}

TEST(RpcParser, CutMethodNameStaysValidUtf8) {
  // 63 ASCII bytes then a two-byte character straddling the 64-byte cut.
  std::string name = std::string(63, 'x') + "\xC3\xA9" + std::string(10, 'y');
  auto outcome = parse(R"({"method":")" + name + "\"}");
  ASSERT_TRUE(outcome.failure);
  EXPECT_TRUE(herald::is_valid_utf8(outcome.failure->error_message))
      << outcome.failure->error_message;
}

TEST(RpcParser, ParamsThatAreNotAnObjectAreBadRequest) {
  for (const char* value : {"[]", "\"x\"", "1", "null"})
    EXPECT_TRUE(fails_with(parse(std::string{R"({"method":"ping","params":)"} + value + "}"),
                           "bad_request", "params: must be an object"))
        << value;
}

TEST(RpcParser, AbsentParamsAreAnEmptyObject) {
  EXPECT_TRUE(succeeds(parse(R"({"method":"ping"})")));
  EXPECT_TRUE(fails_with(parse(R"({"method":"exit"})"), "bad_request", "params.session: required"));
}

TEST(RpcParser, UnknownParamsAreIgnored) {
  auto outcome = parse(with_session("exit", R"("colour":"blue","extra":{"a":[1]})"));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.verb, method::exit);
}

TEST(RpcParser, EveryMethodNameMapsToItsVerb) {
  const std::vector<std::pair<std::string, std::string>> frames = {
      {"enter", R"({"method":"enter","params":{"user":"alice"}})"},
      {"exit", with_session("exit")},
      {"join", with_session("join", R"("group":"lobby")")},
      {"leave", with_session("leave", R"("group":"lobby")")},
      {"speak", with_session("speak", R"("group":"lobby","data":1)")},
      {"send", with_session("send", R"("to":"bob","data":1)")},
      {"listen", with_session("listen")},
      {"presence", with_session("presence", R"("group":"lobby")")},
      {"history", with_session("history", R"("group":"lobby")")},
      {"attach", with_session("attach")},
      {"ping", with_session("ping")},
  };
  for (const auto& [name, frame] : frames) {
    auto outcome = parse(frame);
    ASSERT_TRUE(succeeds(outcome)) << name;
    EXPECT_EQ(herald::to_string(outcome.cmd.verb), name);
  }
}

// --- aliases -------------------------------------------------------------------

TEST(RpcParser, SendUserMessageAliasMapsUserIdToTo) {
  auto outcome = parse(
      R"({"method":"sendUserMessage","params":{"chatId":"s1","userId":"bob","message":"hi"}})");
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.verb, method::send);
  EXPECT_EQ(outcome.cmd.params.to, "bob");
  EXPECT_EQ(outcome.cmd.params.user, "");
  EXPECT_EQ(outcome.cmd.params.session, "s1");
  EXPECT_EQ(outcome.cmd.params.data, "\"hi\"");
}

TEST(RpcParser, EnterMapsUserIdToUser) {
  auto outcome = parse(R"({"method":"enter","params":{"userId":"alice"}})");
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.params.user, "alice");
  EXPECT_EQ(outcome.cmd.params.to, "");
}

TEST(RpcParser, ChatIdAliasesSessionForEveryMethod) {
  for (const char* verb : {"exit", "listen", "attach", "ping"}) {
    auto outcome = parse(std::string{R"({"method":")"} + verb + R"(","params":{"chatId":"c1"}})");
    ASSERT_TRUE(succeeds(outcome)) << verb;
    EXPECT_EQ(outcome.cmd.params.session, "c1") << verb;
  }
  auto join = parse(R"({"method":"join","params":{"chatId":"c1","group":"g"}})");
  ASSERT_TRUE(succeeds(join));
  EXPECT_EQ(join.cmd.params.session, "c1");
}

TEST(RpcParser, CanonicalSessionWinsOverChatId) {
  auto outcome = parse(R"({"method":"exit","params":{"chatId":"bad id!","session":"good"}})");
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.params.session, "good");
}

TEST(RpcParser, CanonicalUserWinsOverUserId) {
  auto outcome = parse(R"({"method":"enter","params":{"userId":"x","user":"alice"}})");
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.params.user, "alice");
}

TEST(RpcParser, CanonicalToWinsOverUserId) {
  auto outcome = parse(with_session("send", R"("userId":"x","to":"bob","data":1)"));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.params.to, "bob");
}

TEST(RpcParser, MessageAliasesDataInSpeakAndSend) {
  auto speak = parse(with_session("speak", R"("group":"g","message":{"t":"hi"})"));
  ASSERT_TRUE(succeeds(speak));
  EXPECT_EQ(speak.cmd.params.data, R"({"t":"hi"})");
  auto send = parse(with_session("send", R"("to":"bob","message":[1,2])"));
  ASSERT_TRUE(succeeds(send));
  EXPECT_EQ(send.cmd.params.data, "[1,2]");
}

TEST(RpcParser, CanonicalDataWinsOverMessage) {
  auto outcome = parse(with_session("speak", R"("group":"g","message":"old","data":"new")"));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.params.data, "\"new\"");
}

TEST(RpcParser, UserIsNoAliasOfTo) {
  EXPECT_TRUE(fails_with(parse(with_session("send", R"("user":"bob","data":1)")), "bad_request",
                         "params.to: required"));
}

TEST(RpcParser, ToIsNoAliasOfUser) {
  EXPECT_TRUE(fails_with(parse(R"({"method":"enter","params":{"to":"bob"}})"), "bad_request",
                         "params.user: required"));
}

TEST(RpcParser, ErrorNamesTheAliasTheClientSent) {
  EXPECT_TRUE(fails_with(parse(R"({"method":"exit","params":{"chatId":5}})"), "bad_request",
                         "params.chatId:"));
  EXPECT_TRUE(fails_with(parse(R"({"method":"send","params":{"chatId":"s","userId":""}})"),
                         "bad_request", "params.userId:"));
}

// --- session -------------------------------------------------------------------

TEST(RpcParser, SessionIsRequiredForAllButEnterAndPing) {
  const std::vector<std::string> frames = {
      R"({"method":"exit"})",
      R"({"method":"join","params":{"group":"g"}})",
      R"({"method":"leave","params":{"group":"g"}})",
      R"({"method":"speak","params":{"group":"g","data":1}})",
      R"({"method":"send","params":{"to":"bob","data":1}})",
      R"({"method":"listen"})",
      R"({"method":"presence","params":{"group":"g"}})",
      R"({"method":"history","params":{"group":"g"}})",
      R"({"method":"attach"})",
  };
  for (const auto& frame : frames)
    EXPECT_TRUE(fails_with(parse(frame), "bad_request", "params.session: required")) << frame;
}

TEST(RpcParser, MalformedSessionIsBadRequest) {
  for (const char* value : {"5", "\"\"", "\"bad id!\"", "\"a/b\"", "null", "[\"s\"]"}) {
    auto frame = std::string{R"({"method":"exit","params":{"session":)"} + value + "}}";
    EXPECT_TRUE(fails_with(parse(frame), "bad_request", "params.session: must be")) << value;
  }
  auto too_long = R"({"method":"exit","params":{"session":")" + std::string(65, 'a') + "\"}}";
  EXPECT_TRUE(fails_with(parse(too_long), "bad_request", "params.session"));
  auto longest = R"({"method":"exit","params":{"session":")" + std::string(64, 'a') + "\"}}";
  EXPECT_TRUE(succeeds(parse(longest)));
}

TEST(RpcParser, PingSessionIsOptional) {
  auto outcome = parse(R"({"method":"ping","params":{}})");
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.verb, method::ping);
  EXPECT_EQ(outcome.cmd.params.session, "");
}

TEST(RpcParser, PingSessionIsValidatedWhenPresent) {
  EXPECT_TRUE(fails_with(parse(R"({"method":"ping","params":{"session":"no spaces"}})"),
                         "bad_request", "params.session"));
  auto outcome = parse(with_session("ping"));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.params.session, valid_session);
}

// --- enter ---------------------------------------------------------------------

TEST(RpcParser, EnterReadsEveryParam) {
  auto outcome = parse(
      R"({"method":"enter","params":{"user":"alice","groups":["lobby","news"],"lease":30,"token":"t0k"}})");
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.verb, method::enter);
  EXPECT_EQ(outcome.cmd.params.user, "alice");
  EXPECT_EQ(outcome.cmd.params.groups, (std::vector<std::string>{"lobby", "news"}));
  EXPECT_EQ(outcome.cmd.params.lease, 30);
  EXPECT_EQ(outcome.cmd.params.token, "t0k");
}

TEST(RpcParser, EnterDefaultsToNoGroupsNoLeaseNoToken) {
  auto outcome = parse(R"({"method":"enter","params":{"user":"alice"}})");
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_TRUE(outcome.cmd.params.groups.empty());
  EXPECT_FALSE(outcome.cmd.params.lease);
  EXPECT_EQ(outcome.cmd.params.token, "");
}

TEST(RpcParser, EnterRequiresUser) {
  EXPECT_TRUE(fails_with(parse(R"({"method":"enter","params":{}})"), "bad_request",
                         "params.user: required"));
}

TEST(RpcParser, EnterRejectsMalformedUser) {
  for (const char* value : {"5", "\"\"", "null", "[\"a\"]", "\"tab\\there\"", "\"nul\\u0000\""}) {
    auto frame = std::string{R"({"method":"enter","params":{"user":)"} + value + "}}";
    EXPECT_TRUE(
        fails_with(parse(frame), "bad_request", "params.user: must be a string of 1-64 characters"))
        << value;
  }
}

TEST(RpcParser, EnterCountsUserLengthInCodePoints) {
  std::string e_acute = "\xC3\xA9";
  std::string longest, too_long;
  for (int i = 0; i < 64; ++i)
    longest += e_acute;
  too_long = longest + e_acute;
  EXPECT_TRUE(succeeds(parse(R"({"method":"enter","params":{"user":")" + longest + "\"}}")));
  EXPECT_TRUE(fails_with(parse(R"({"method":"enter","params":{"user":")" + too_long + "\"}}"),
                         "bad_request", "params.user"));
}

TEST(RpcParser, EnterRejectsMalformedGroupNameNamingTheElement) {
  auto outcome = parse(R"({"method":"enter","params":{"user":"a","groups":["lobby","bad name"]}})");
  EXPECT_TRUE(fails_with(outcome, "bad_request", "params.groups[1]"));
  EXPECT_TRUE(fails_with(parse(R"({"method":"enter","params":{"user":"a","groups":["ok",3]}})"),
                         "bad_request", "params.groups[1]"));
  auto long_name = std::string(129, 'g');
  EXPECT_TRUE(fails_with(
      parse(R"({"method":"enter","params":{"user":"a","groups":[")" + long_name + "\"]}}"),
      "bad_request", "params.groups[0]"));
}

TEST(RpcParser, EnterRefusesUndeclaredGroupWhenConfiguredTo) {
  auto s = declared_groups(false);
  auto outcome
      = parse(R"({"method":"enter","params":{"user":"a","groups":["lobby","secret"]}})", s);
  EXPECT_TRUE(fails_with(outcome, "not_found", "group \"secret\" is not declared"));
}

TEST(RpcParser, EnterAcceptsDeclaredGroupWhenUndeclaredAreRefused) {
  auto outcome = parse(R"({"method":"enter","params":{"user":"a","groups":["nobit","lobby"]}})",
                       declared_groups(false));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.params.groups, (std::vector<std::string>{"nobit", "lobby"}));
}

TEST(RpcParser, EnterAcceptsUndeclaredGroupWhenAllowed) {
  auto outcome = parse(R"({"method":"enter","params":{"user":"a","groups":["secret"]}})",
                       declared_groups(true));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.params.groups, (std::vector<std::string>{"secret"}));
}

TEST(RpcParser, EnterDropsRepeatedGroupsKeepingFirstOrder) {
  auto outcome
      = parse(R"({"method":"enter","params":{"user":"a","groups":["b","a","b","c","a"]}})");
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.params.groups, (std::vector<std::string>{"b", "a", "c"}));
}

TEST(RpcParser, EnterAcceptsEmptyGroupArray) {
  auto outcome = parse(R"({"method":"enter","params":{"user":"a","groups":[]}})");
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_TRUE(outcome.cmd.params.groups.empty());
}

TEST(RpcParser, EnterWithMoreThanMaxGroupsIsForbidden) {
  settings s;
  s.max_groups_per_session = 2;
  EXPECT_TRUE(succeeds(parse(R"({"method":"enter","params":{"user":"a","groups":["a","b"]}})", s)));
  EXPECT_TRUE(
      fails_with(parse(R"({"method":"enter","params":{"user":"a","groups":["a","b","c"]}})", s),
                 "forbidden", "params.groups"));
}

TEST(RpcParser, EnterRepeatedGroupsDoNotCountTowardsTheLimit) {
  settings s;
  s.max_groups_per_session = 2;
  EXPECT_TRUE(
      succeeds(parse(R"({"method":"enter","params":{"user":"a","groups":["a","b","a","b"]}})", s)));
}

TEST(RpcParser, EnterBitmaskResolvesToNamesInAscendingBitOrder) {
  auto outcome
      = parse(R"({"method":"enter","params":{"user":"a","groups":7}})", declared_groups(true));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.params.groups, (std::vector<std::string>{"lobby", "news", "ops"}));
}

TEST(RpcParser, EnterBitmaskWorksWhenUndeclaredGroupsAreRefused) {
  auto outcome
      = parse(R"({"method":"enter","params":{"user":"a","groups":5}})", declared_groups(false));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.params.groups, (std::vector<std::string>{"lobby", "ops"}));
}

TEST(RpcParser, EnterBitmaskZeroNamesNoGroups) {
  auto outcome
      = parse(R"({"method":"enter","params":{"user":"a","groups":0}})", declared_groups(true));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_TRUE(outcome.cmd.params.groups.empty());
}

TEST(RpcParser, EnterBitmaskAcceptsIntegralFloat) {
  auto outcome
      = parse(R"({"method":"enter","params":{"user":"a","groups":3.0}})", declared_groups(true));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.params.groups, (std::vector<std::string>{"lobby", "news"}));
}

TEST(RpcParser, EnterBitmaskWithUndeclaredBitIsBadRequest) {
  auto outcome
      = parse(R"({"method":"enter","params":{"user":"a","groups":9}})", declared_groups(true));
  EXPECT_TRUE(fails_with(outcome, "bad_request", "params.groups: bit 8 names no declared group"));
}

TEST(RpcParser, EnterBitmaskWithHighestBitIsBadRequestWhenUndeclared) {
  auto outcome = parse(R"({"method":"enter","params":{"user":"a","groups":9223372036854775808}})",
                       declared_groups(true));
  EXPECT_TRUE(fails_with(outcome, "bad_request", "bit 9223372036854775808 names no declared"));
}

TEST(RpcParser, EnterBitmaskNeedsBitsEvenWithoutDeclaredGroups) {
  EXPECT_TRUE(fails_with(parse(R"({"method":"enter","params":{"user":"a","groups":1}})"),
                         "bad_request", "bit 1 names no declared group"));
}

TEST(RpcParser, EnterBitmaskBeyondMaxGroupsIsForbidden) {
  auto s = declared_groups(true);
  s.max_groups_per_session = 2;
  EXPECT_TRUE(fails_with(parse(R"({"method":"enter","params":{"user":"a","groups":7}})", s),
                         "forbidden", "params.groups"));
}

TEST(RpcParser, EnterRejectsGroupsOfOtherTypes) {
  for (const char* value :
       {"-1", "1.5", "\"1\"", "\"lobby\"", "true", "null", "{}", "18446744073709551616", "1e30"}) {
    auto frame = std::string{R"({"method":"enter","params":{"user":"a","groups":)"} + value + "}}";
    EXPECT_TRUE(fails_with(parse(frame, declared_groups(true)), "bad_request", "params.groups:"))
        << value;
  }
}

TEST(RpcParser, EnterKeepsLeaseUnclamped) {
  for (std::int64_t lease :
       {std::int64_t{0}, std::int64_t{-5}, std::int64_t{1000000},
        std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::min()}) {
    auto frame
        = R"({"method":"enter","params":{"user":"a","lease":)" + std::to_string(lease) + "}}";
    auto outcome = parse(frame);
    ASSERT_TRUE(succeeds(outcome)) << lease;
    EXPECT_EQ(outcome.cmd.params.lease, lease);
  }
}

TEST(RpcParser, EnterAcceptsIntegralFloatLease) {
  auto outcome = parse(R"({"method":"enter","params":{"user":"a","lease":1.0}})");
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.params.lease, 1);
}

TEST(RpcParser, EnterRejectsNonIntegerLease) {
  for (const char* value : {"1.5", "\"30\"", "true", "null", "[30]", "9223372036854775808", "1e19",
                            "-9223372036854775809"}) {
    auto frame = std::string{R"({"method":"enter","params":{"user":"a","lease":)"} + value + "}}";
    EXPECT_TRUE(fails_with(parse(frame), "bad_request", "params.lease")) << value;
  }
}

TEST(RpcParser, EnterRejectsNonStringToken) {
  EXPECT_TRUE(fails_with(parse(R"({"method":"enter","params":{"user":"a","token":1}})"),
                         "bad_request", "params.token: must be a string"));
}

// --- join, leave, presence ------------------------------------------------------

TEST(RpcParser, JoinReadsGroupWithoutSince) {
  auto outcome = parse(with_session("join", R"("group":"lobby")"));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.verb, method::join);
  EXPECT_EQ(outcome.cmd.params.session, valid_session);
  EXPECT_EQ(outcome.cmd.params.group, "lobby");
  EXPECT_FALSE(outcome.cmd.params.since.given);
}

TEST(RpcParser, JoinReadsSince) {
  auto outcome
      = parse(with_session("join", R"("group":"lobby","since":{"seq":41,"epoch":"9f2c"})"));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_TRUE(outcome.cmd.params.since.given);
  EXPECT_EQ(outcome.cmd.params.since.seq, 41u);
  EXPECT_EQ(outcome.cmd.params.since.epoch, "9f2c");
}

TEST(RpcParser, JoinAcceptsSinceSeqZeroAndIntegralFloat) {
  auto zero = parse(with_session("join", R"("group":"g","since":{"seq":0,"epoch":""})"));
  ASSERT_TRUE(succeeds(zero));
  EXPECT_TRUE(zero.cmd.params.since.given);
  auto integral = parse(with_session("join", R"("group":"g","since":{"seq":7.0,"epoch":"e"})"));
  ASSERT_TRUE(succeeds(integral));
  EXPECT_EQ(integral.cmd.params.since.seq, 7u);
}

TEST(RpcParser, JoinRejectsMalformedSince) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"(5)", "params.since:"},
      {R"(null)", "params.since:"},
      {R"([1,"e"])", "params.since:"},
      {R"({"epoch":"e"})", "params.since.seq: required"},
      {R"({"seq":-1,"epoch":"e"})", "params.since.seq"},
      {R"({"seq":"1","epoch":"e"})", "params.since.seq"},
      {R"({"seq":1.5,"epoch":"e"})", "params.since.seq"},
      {R"({"seq":18446744073709551616,"epoch":"e"})", "params.since.seq"},
      {R"({"seq":1})", "params.since.epoch: required"},
      {R"({"seq":1,"epoch":12})", "params.since.epoch: must be a string"},
  };
  for (const auto& [since, fragment] : cases)
    EXPECT_TRUE(fails_with(parse(with_session("join", R"("group":"g","since":)" + since)),
                           "bad_request", fragment))
        << since;
}

TEST(RpcParser, GroupIsRequiredForJoinLeavePresenceHistory) {
  for (const char* verb : {"join", "leave", "presence", "history"})
    EXPECT_TRUE(fails_with(parse(with_session(verb)), "bad_request", "params.group: required"))
        << verb;
}

TEST(RpcParser, MalformedGroupIsBadRequestForEveryGroupMethod) {
  for (const char* verb : {"join", "leave", "presence", "history"})
    for (const char* value : {"\"\"", "\"sp ace\"", "\"caf\\u00e9\"", "1", "null", "[\"g\"]"})
      EXPECT_TRUE(fails_with(parse(with_session(verb, std::string{"\"group\":"} + value)),
                             "bad_request", "params.group: must be a group name"))
          << verb << " " << value;
}

TEST(RpcParser, GroupNameMayUseEveryAllowedCharacter) {
  auto outcome = parse(with_session("leave", R"("group":"a-Z_0.9:x/y")"));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.params.group, "a-Z_0.9:x/y");
}

TEST(RpcParser, UndeclaredGroupIsNotFoundForEveryGroupMethodWhenRefused) {
  auto s = declared_groups(false);
  for (const char* verb : {"join", "leave", "presence", "history"}) {
    EXPECT_TRUE(fails_with(parse(with_session(verb, R"("group":"secret")"), s), "not_found",
                           "group \"secret\" is not declared"))
        << verb;
    EXPECT_TRUE(succeeds(parse(with_session(verb, R"("group":"lobby")"), s))) << verb;
  }
}

TEST(RpcParser, LeaveAndPresenceReadTheirGroup) {
  auto leave = parse(with_session("leave", R"("group":"lobby")"));
  ASSERT_TRUE(succeeds(leave));
  EXPECT_EQ(leave.cmd.verb, method::leave);
  EXPECT_EQ(leave.cmd.params.group, "lobby");
  auto presence = parse(with_session("presence", R"("group":"news")"));
  ASSERT_TRUE(succeeds(presence));
  EXPECT_EQ(presence.cmd.verb, method::presence);
  EXPECT_EQ(presence.cmd.params.group, "news");
}

// --- history -------------------------------------------------------------------

TEST(RpcParser, HistoryDefaultsToNoSinceAndNoLimit) {
  auto outcome = parse(with_session("history", R"("group":"lobby")"));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.params.group, "lobby");
  EXPECT_FALSE(outcome.cmd.params.history_since);
  EXPECT_FALSE(outcome.cmd.params.limit);
}

TEST(RpcParser, HistoryReadsSinceAndLimit) {
  auto outcome = parse(with_session("history", R"("group":"lobby","since":0,"limit":20)"));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.params.history_since, 0u);
  EXPECT_EQ(outcome.cmd.params.limit, 20u);
}

TEST(RpcParser, HistoryRejectsMalformedSince) {
  for (const char* value : {"-1", "\"3\"", "1.5", "{\"seq\":1}", "null", "true"})
    EXPECT_TRUE(
        fails_with(parse(with_session("history", std::string{R"("group":"g","since":)"} + value)),
                   "bad_request", "params.since: must be a non-negative integer"))
        << value;
}

TEST(RpcParser, HistoryRejectsLimitThatIsNotPositive) {
  for (const char* value : {"0", "-1", "2.5", "\"10\"", "null", "18446744073709551616"})
    EXPECT_TRUE(
        fails_with(parse(with_session("history", std::string{R"("group":"g","limit":)"} + value)),
                   "bad_request", "params.limit"))
        << value;
}

// --- speak ---------------------------------------------------------------------

TEST(RpcParser, SpeakWithGroupPutsItIntoGroups) {
  auto outcome = parse(with_session("speak", R"("group":"lobby","data":{"text":"hi"})"));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.verb, method::speak);
  EXPECT_EQ(outcome.cmd.params.groups, (std::vector<std::string>{"lobby"}));
  EXPECT_EQ(outcome.cmd.params.data, R"({"text":"hi"})");
}

TEST(RpcParser, SpeakWithGroupsDropsRepeats) {
  auto outcome = parse(with_session("speak", R"("groups":["b","a","b"],"data":1)"));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.params.groups, (std::vector<std::string>{"b", "a"}));
}

TEST(RpcParser, SpeakNeedsGroupOrGroups) {
  EXPECT_TRUE(
      fails_with(parse(with_session("speak", R"("data":1)")), "bad_request", "params.group"));
}

TEST(RpcParser, SpeakRejectsBothGroupAndGroups) {
  EXPECT_TRUE(fails_with(parse(with_session("speak", R"("group":"a","groups":["b"],"data":1)")),
                         "bad_request", "not both"));
}

TEST(RpcParser, SpeakRejectsEmptyOrNonArrayGroups) {
  for (const char* value : {"[]", "\"a\"", "3", "null", "{}"})
    EXPECT_TRUE(
        fails_with(parse(with_session("speak", std::string{"\"groups\":"} + value + ",\"data\":1")),
                   "bad_request", "params.groups: must be a non-empty array"))
        << value;
}

TEST(RpcParser, SpeakRejectsMalformedGroupNames) {
  EXPECT_TRUE(fails_with(parse(with_session("speak", R"("group":"a b","data":1)")), "bad_request",
                         "params.group: must be a group name"));
  EXPECT_TRUE(fails_with(parse(with_session("speak", R"("groups":["a",["b"]],"data":1)")),
                         "bad_request", "params.groups[1]"));
}

TEST(RpcParser, SpeakToUndeclaredGroupIsNotFoundWhenRefused) {
  auto s = declared_groups(false);
  EXPECT_TRUE(fails_with(parse(with_session("speak", R"("group":"secret","data":1)"), s),
                         "not_found", "group \"secret\" is not declared"));
  EXPECT_TRUE(fails_with(parse(with_session("speak", R"("groups":["lobby","x"],"data":1)"), s),
                         "not_found", "group \"x\" is not declared"));
  EXPECT_TRUE(succeeds(parse(with_session("speak", R"("groups":["lobby","news"],"data":1)"), s)));
}

TEST(RpcParser, SpeakRequiresTheDataKey) {
  EXPECT_TRUE(fails_with(parse(with_session("speak", R"("group":"g")")), "bad_request",
                         "params.data: required"));
}

TEST(RpcParser, SpeakAcceptsNullData) {
  auto outcome = parse(with_session("speak", R"("group":"g","data":null)"));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.params.data, "null");
}

TEST(RpcParser, DataIsSerializedCompactly) {
  for (const char* value : {"\"text\"", "0", "-2.5", "false", "[]", R"({"a":[1,{"b":null}]})"}) {
    auto outcome = parse(with_session("speak", std::string{R"("group":"g","data": )"} + value));
    ASSERT_TRUE(succeeds(outcome)) << value;
    EXPECT_EQ(outcome.cmd.params.data, json::parse(value).dump());
  }
}

TEST(RpcParser, DataBeyondMaxDataIsTooLarge) {
  // 69,998 characters plus the two quotes serialize to 70,000 bytes.
  auto data = std::string(69998, 'x');
  auto outcome = parse(with_session("speak", R"("group":"g","data":")" + data + "\""));
  EXPECT_TRUE(fails_with(outcome, "too_large", "params.data: 70000 bytes exceeds max-data 65536"));
}

TEST(RpcParser, DataOfExactlyMaxDataIsAccepted) {
  settings s;
  s.max_data = 10;
  EXPECT_TRUE(succeeds(parse(with_session("send", R"("to":"b","data":"12345678")"), s)));
  EXPECT_TRUE(fails_with(parse(with_session("send", R"("to":"b","data":"123456789")"), s),
                         "too_large", "params.data: 11 bytes exceeds max-data 10"));
}

TEST(RpcParser, DataSizeCountsTheSerializedForm) {
  settings s;
  s.max_data = 5;
  // Seven bytes as sent, but `[1,2]` once whitespace is gone.
  EXPECT_TRUE(succeeds(parse(with_session("speak", R"("group":"g","data":[1, 2 ])"), s)));
}

TEST(RpcParser, TooLargeMessageNamesTheAlias) {
  settings s;
  s.max_data = 2;
  EXPECT_TRUE(fails_with(parse(with_session("speak", R"("group":"g","message":"abc")"), s),
                         "too_large", "params.message: 5 bytes"));
}

TEST(RpcParser, DataNestedUpToTheLimitIsAccepted) {
  auto outcome = parse(
      with_session("speak", R"("group":"g","data":)" + nested_arrays(herald::max_data_depth)));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.params.data, nested_arrays(herald::max_data_depth));
}

TEST(RpcParser, DataNestedBeyondTheLimitIsBadRequest) {
  auto outcome = parse(
      with_session("speak", R"("group":"g","data":)" + nested_arrays(herald::max_data_depth + 1)));
  EXPECT_TRUE(fails_with(outcome, "bad_request", "params.data: nests deeper than"));
}

TEST(RpcParser, VeryDeepDataFailsWithoutCrashing) {
  // Serializing this recursively would overflow the stack.
  auto outcome = parse(with_session("send", R"("to":"b","data":)" + nested_arrays(200000)));
  EXPECT_TRUE(fails_with(outcome, "bad_request", "params.data"));
}

TEST(RpcParser, DataWithInvalidUtf8BuiltInCodeIsBadRequest) {
  json frame
      = {{"method", "speak"}, {"params", {{"session", "s"}, {"group", "g"}, {"data", "\xFF\xFE"}}}};
  EXPECT_TRUE(fails_with(herald::parse_command(frame, settings{}), "bad_request", "params.data"));
}

// --- send ----------------------------------------------------------------------

TEST(RpcParser, SendReadsToAndData) {
  auto outcome = parse(with_session("send", R"("to":"bob","data":{"x":1})"));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.verb, method::send);
  EXPECT_EQ(outcome.cmd.params.to, "bob");
  EXPECT_EQ(outcome.cmd.params.data, R"({"x":1})");
}

TEST(RpcParser, SendRequiresTo) {
  EXPECT_TRUE(
      fails_with(parse(with_session("send", R"("data":1)")), "bad_request", "params.to: required"));
}

TEST(RpcParser, SendRejectsMalformedTo) {
  for (const char* value : {"\"\"", "7", "null", "\"line\\nbreak\""})
    EXPECT_TRUE(
        fails_with(parse(with_session("send", std::string{"\"to\":"} + value + ",\"data\":1")),
                   "bad_request", "params.to: must be a string of 1-64 characters"))
        << value;
}

TEST(RpcParser, SendRequiresData) {
  EXPECT_TRUE(fails_with(parse(with_session("send", R"("to":"bob")")), "bad_request",
                         "params.data: required"));
}

// --- listen, attach ------------------------------------------------------------

TEST(RpcParser, ListenDefaultsToCursorZeroAndNoTimeout) {
  auto outcome = parse(with_session("listen"));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.verb, method::listen);
  EXPECT_EQ(outcome.cmd.params.cursor, 0u);
  EXPECT_FALSE(outcome.cmd.params.timeout);
}

TEST(RpcParser, ListenReadsCursorAndTimeoutUnclamped) {
  auto outcome = parse(with_session("listen", R"("cursor":17,"timeout":1000.5)"));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.params.cursor, 17u);
  EXPECT_EQ(outcome.cmd.params.timeout, 1000.5);
}

TEST(RpcParser, ListenAcceptsZeroTimeout) {
  auto outcome = parse(with_session("listen", R"("timeout":0)"));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.params.timeout, 0.0);
}

TEST(RpcParser, ListenAcceptsLargestCursor) {
  auto outcome = parse(with_session("listen", R"("cursor":18446744073709551615)"));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.params.cursor, std::numeric_limits<std::uint64_t>::max());
}

TEST(RpcParser, ListenAcceptsIntegralFloatCursor) {
  auto outcome = parse(with_session("listen", R"("cursor":5.0)"));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.params.cursor, 5u);
}

TEST(RpcParser, ListenRejectsMalformedCursor) {
  for (const char* value : {"-1", "\"5\"", "5.5", "true", "null", "18446744073709551616", "1e20"})
    EXPECT_TRUE(fails_with(parse(with_session("listen", std::string{"\"cursor\":"} + value)),
                           "bad_request", "params.cursor: must be a non-negative integer"))
        << value;
}

TEST(RpcParser, ListenRejectsNegativeOrNonNumericTimeout) {
  for (const char* value : {"-1", "-0.5", "\"30\"", "true", "null", "[]"})
    EXPECT_TRUE(fails_with(parse(with_session("listen", std::string{"\"timeout\":"} + value)),
                           "bad_request", "params.timeout"))
        << value;
}

TEST(RpcParser, AttachReadsCursor) {
  auto outcome = parse(with_session("attach", R"("cursor":99)"));
  ASSERT_TRUE(succeeds(outcome));
  EXPECT_EQ(outcome.cmd.verb, method::attach);
  EXPECT_EQ(outcome.cmd.params.cursor, 99u);
  auto defaulted = parse(with_session("attach"));
  ASSERT_TRUE(succeeds(defaulted));
  EXPECT_EQ(defaulted.cmd.params.cursor, 0u);
}

TEST(RpcParser, AttachRejectsMalformedCursor) {
  EXPECT_TRUE(
      fails_with(parse(with_session("attach", R"("cursor":-3)")), "bad_request", "params.cursor"));
}

// --- parse_rpc_body -------------------------------------------------------------

TEST(RpcBody, SingleFrameIsNotABatch) {
  auto body = herald::parse_rpc_body(R"({"id":1,"method":"ping"})", settings{});
  ASSERT_FALSE(body.failure);
  EXPECT_FALSE(body.batch);
  ASSERT_EQ(body.commands.size(), 1u);
  EXPECT_TRUE(succeeds(body.commands[0]));
  EXPECT_EQ(body.commands[0].cmd.id, 1);
}

TEST(RpcBody, SingleBadFrameFailsAsACommand) {
  auto body = herald::parse_rpc_body(R"("ping")", settings{});
  ASSERT_FALSE(body.failure);
  ASSERT_EQ(body.commands.size(), 1u);
  EXPECT_TRUE(fails_with(body.commands[0], "bad_request", "frame"));
}

TEST(RpcBody, InvalidJsonIsBadRequest) {
  for (const char* text :
       {"", "{", "{\"method\":\"ping\"} trailing", "{'method':'ping'}", "[1,]", "1e400"}) {
    auto body = herald::parse_rpc_body(text, settings{});
    ASSERT_TRUE(body.failure) << text;
    EXPECT_EQ(body.failure->error_code, "bad_request");
    EXPECT_EQ(body.failure->error_message, "body is not valid JSON");
    EXPECT_TRUE(body.commands.empty());
  }
}

// Issue 15: nlohmann's parser ends its input at a NUL byte, so a body with a valid frame before
// a NUL and anything after it was accepted (tests/fuzz/corpus/command_json/nul_then_garbage).
TEST(RpcBody, NulByteAnywhereIsBadRequest) {
  using namespace std::string_literals;
  for (const auto& text : {"{\"method\":\"ping\"}\0junk"s, "16\0[\xFF"s, "[\0]"s, "\0"s}) {
    auto body = herald::parse_rpc_body(text, settings{});
    ASSERT_TRUE(body.failure) << text;
    EXPECT_EQ(body.failure->error_code, "bad_request");
    EXPECT_EQ(body.failure->error_message, "body is not valid JSON");
  }
}

TEST(RpcBody, InvalidUtf8IsBadRequest) {
  for (const char* text :
       {"{\"method\":\"ping\",\"params\":{\"x\":\"\xFF\"}}",
        "{\"method\":\"enter\",\"params\":{\"user\":\"\xC3\"}}",
        "{\"method\":\"ping\",\"id\":\"\xED\xA0\x80\"}", R"({"method":"ping","id":"\ud800"})"}) {
    auto body = herald::parse_rpc_body(text, settings{});
    ASSERT_TRUE(body.failure) << text;
    EXPECT_EQ(body.failure->error_code, "bad_request");
  }
}

TEST(RpcBody, BatchKeepsCommandOrderAndPerCommandErrors) {
  auto body = herald::parse_rpc_body(
      R"([{"id":1,"method":"ping"},{"id":2,"method":"nope"},7,{"id":3,"method":"exit","params":{"session":"s"}}])",
      settings{});
  ASSERT_FALSE(body.failure);
  EXPECT_TRUE(body.batch);
  ASSERT_EQ(body.commands.size(), 4u);
  EXPECT_TRUE(succeeds(body.commands[0]));
  EXPECT_EQ(body.commands[0].cmd.id, 1);
  EXPECT_TRUE(fails_with(body.commands[1], "not_found", "unknown method"));
  EXPECT_EQ(body.commands[1].cmd.id, 2);
  EXPECT_TRUE(fails_with(body.commands[2], "bad_request", "frame"));
  EXPECT_TRUE(succeeds(body.commands[3]));
  EXPECT_EQ(body.commands[3].cmd.verb, method::exit);
}

TEST(RpcBody, BatchOfOneIsStillABatch) {
  auto body = herald::parse_rpc_body(R"([{"method":"ping"}])", settings{});
  ASSERT_FALSE(body.failure);
  EXPECT_TRUE(body.batch);
  EXPECT_EQ(body.commands.size(), 1u);
}

TEST(RpcBody, EmptyBatchIsBadRequest) {
  auto body = herald::parse_rpc_body(" [ ] ", settings{});
  ASSERT_TRUE(body.failure);
  EXPECT_EQ(body.failure->error_code, "bad_request");
  EXPECT_EQ(body.failure->error_message, "empty batch");
  EXPECT_TRUE(body.commands.empty());
}

TEST(RpcBody, BatchAtMaxBatchIsAccepted) {
  settings s;
  s.max_batch = 3;
  auto body
      = herald::parse_rpc_body(R"([{"method":"ping"},{"method":"ping"},{"method":"ping"}])", s);
  ASSERT_FALSE(body.failure);
  EXPECT_EQ(body.commands.size(), 3u);
}

TEST(RpcBody, BatchBeyondMaxBatchIsTooLarge) {
  settings s;
  s.max_batch = 3;
  auto body = herald::parse_rpc_body(
      R"([{"method":"ping"},{"method":"ping"},{"method":"ping"},{"method":"ping"}])", s);
  ASSERT_TRUE(body.failure);
  EXPECT_EQ(body.failure->error_code, "too_large");
  EXPECT_NE(body.failure->error_message.find("max-batch 3"), std::string::npos);
  EXPECT_TRUE(body.commands.empty());
}

TEST(RpcBody, NestedBatchElementFailsAsAFrame) {
  auto body = herald::parse_rpc_body(R"([[{"method":"ping"}]])", settings{});
  ASSERT_FALSE(body.failure);
  ASSERT_EQ(body.commands.size(), 1u);
  EXPECT_TRUE(fails_with(body.commands[0], "bad_request", "frame"));
}

TEST(RpcBody, DeeplyNestedBodyFailsWithoutCrashing) {
  auto body = herald::parse_rpc_body(nested_arrays(500000), settings{});
  ASSERT_FALSE(body.failure);
  ASSERT_EQ(body.commands.size(), 1u);
  EXPECT_TRUE(fails_with(body.commands[0], "bad_request", "frame"));
}

TEST(RpcBody, AcceptsLeadingByteOrderMark) {
  auto body = herald::parse_rpc_body("\xEF\xBB\xBF{\"method\":\"ping\"}", settings{});
  ASSERT_FALSE(body.failure);
  EXPECT_TRUE(succeeds(body.commands.at(0)));
}
