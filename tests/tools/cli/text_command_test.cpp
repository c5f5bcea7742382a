#include "tools/cli/text_command.hpp"

#include <gtest/gtest.h>

namespace herald::cli {
namespace {

using kind = text_command::kind;
using client::json;

TEST(TextCommand, SayAndSendCarryTheRestOfTheLineAsText) {
  auto say = parse_text_command("say lobby  hello   world ");
  ASSERT_EQ(say.what, kind::call);
  EXPECT_EQ(say.method, "speak");
  EXPECT_EQ(say.params, (json{{"group", "lobby"}, {"data", {{"text", "hello   world"}}}}));

  auto send = parse_text_command("\tsend alice hi there");
  ASSERT_EQ(send.what, kind::call);
  EXPECT_EQ(send.method, "send");
  EXPECT_EQ(send.params, (json{{"to", "alice"}, {"data", {{"text", "hi there"}}}}));
}

TEST(TextCommand, GroupCommandsMapToTheirMethods) {
  EXPECT_EQ(parse_text_command("join x").method, "join");
  EXPECT_EQ(parse_text_command("leave x").method, "leave");
  auto who = parse_text_command("who lobby");
  EXPECT_EQ(who.method, "presence");
  EXPECT_EQ(who.params, (json{{"group", "lobby"}}));
  auto history = parse_text_command("history lobby 5");
  EXPECT_EQ(history.method, "history");
  EXPECT_EQ(history.params, (json{{"group", "lobby"}, {"limit", 5}}));
}

TEST(TextCommand, CallSendsAnyMethodWithJsonParams) {
  auto ping = parse_text_command("call ping");
  ASSERT_EQ(ping.what, kind::call);
  EXPECT_EQ(ping.method, "ping");
  EXPECT_TRUE(ping.params.empty());
  auto speak = parse_text_command(R"(call speak {"group":"a","data":[1,2]})");
  ASSERT_EQ(speak.what, kind::call);
  EXPECT_EQ(speak.params["data"], json::array({1, 2}));
}

TEST(TextCommand, QuitHelpAndBlankLines) {
  EXPECT_EQ(parse_text_command("quit").what, kind::quit);
  EXPECT_EQ(parse_text_command(" exit ").what, kind::quit);
  EXPECT_EQ(parse_text_command("help").what, kind::help);
  EXPECT_EQ(parse_text_command("").what, kind::empty);
  EXPECT_EQ(parse_text_command("   \r").what, kind::empty);
  EXPECT_EQ(parse_text_command("# a comment").what, kind::empty);
}

TEST(TextCommand, MistakesAreExplained) {
  auto expect_invalid = [](std::string_view line, std::string_view mentions) {
    auto command = parse_text_command(line);
    EXPECT_EQ(command.what, kind::invalid) << line;
    EXPECT_NE(command.error.find(mentions), std::string::npos) << line << ": " << command.error;
  };
  expect_invalid("shout lobby hi", "unknown command 'shout'");
  expect_invalid("say lobby", "say needs a group and a text");
  expect_invalid("send", "send needs a user and a text");
  expect_invalid("join", "join needs a group");
  expect_invalid("who a b", "one group");
  expect_invalid("history lobby many", "limit must be a number");
  expect_invalid("call", "needs a method");
  expect_invalid("call speak [1]", "JSON object");
  expect_invalid("call speak {", "JSON object");
  expect_invalid("call enter {}", "client's own business");
}

} // namespace
} // namespace herald::cli
