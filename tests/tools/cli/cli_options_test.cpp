#include "tools/cli/cli_options.hpp"

#include <gtest/gtest.h>

namespace herald::cli {
namespace {

parse_outcome parse(std::vector<std::string> args) {
  return parse_command_line(args);
}

TEST(CliOptions, ReadsTheIssuesExampleCommandLine) {
  auto out = parse({"--url", "http://host:8080", "--user", "bob", "--join", "lobby"});
  ASSERT_EQ(out.error, "");
  const auto& client = out.options.client;
  EXPECT_EQ(client.url.host, "host");
  EXPECT_EQ(client.url.port, "8080");
  EXPECT_EQ(client.user, "bob");
  EXPECT_EQ(client.groups, std::vector<std::string>{"lobby"});
  EXPECT_EQ(client.transport, client::transport_kind::websocket);
  EXPECT_FALSE(client.deliver_heartbeats);
}

TEST(CliOptions, JoinRepeatsAndTakesCommaLists) {
  auto out = parse({"--user=bob", "--join", "a,b", "--join=c", "--join", ",d,,"});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.options.client.groups, (std::vector<std::string>{"a", "b", "c", "d"}));
}

TEST(CliOptions, ReadsEveryFlag) {
  auto out = parse({"--user", "u", "--transport", "sse", "--lease", "30", "--queue-max", "7",
                    "--give-up-after", "60", "--retry-max", "100", "--heartbeats", "-q"});
  ASSERT_EQ(out.error, "");
  const auto& client = out.options.client;
  EXPECT_EQ(client.transport, client::transport_kind::sse);
  EXPECT_EQ(client.lease, 30u);
  EXPECT_EQ(client.max_queued_commands, 7u);
  EXPECT_EQ(client.give_up_after, std::chrono::seconds{60});
  EXPECT_EQ(client.backoff.maximum, std::chrono::milliseconds{100});
  EXPECT_LE(client.backoff.initial, client.backoff.maximum);
  EXPECT_TRUE(client.deliver_heartbeats);
  EXPECT_TRUE(out.options.quiet);
  EXPECT_EQ(parse({"--user", "u", "--transport", "longpoll"}).options.client.transport,
            client::transport_kind::longpoll);
}

TEST(CliOptions, DefaultsToTheLocalServer) {
  auto out = parse({"--user", "u"});
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.options.client.url.to_string(), "http://127.0.0.1:8080");
}

TEST(CliOptions, HelpNeedsNothingElse) {
  auto out = parse({"--help"});
  EXPECT_TRUE(out.options.show_help);
  EXPECT_EQ(out.error, "");
  EXPECT_NE(help_text().find("Exit codes"), std::string::npos);
}

TEST(CliOptions, UsageErrorsNameTheFlag) {
  auto expect_error = [](std::vector<std::string> args, std::string_view mentions) {
    auto out = parse_command_line(args);
    EXPECT_NE(out.error.find(mentions), std::string::npos) << out.error;
  };
  expect_error({}, "--user is required");
  expect_error({"--user", ""}, "--user");
  expect_error({"--user"}, "--user needs a value");
  expect_error({"--user", "u", "--transport", "carrier-pigeon"}, "--transport");
  expect_error({"--user", "u", "--lease", "0"}, "--lease");
  expect_error({"--user", "u", "--lease", "ten"}, "--lease");
  expect_error({"--user", "u", "--url", "ftp://x"}, "--url");
  expect_error({"--user", "u", "--nope"}, "unknown flag '--nope'");
  expect_error({"--user", "u", "stray"}, "unexpected argument 'stray'");
}

} // namespace
} // namespace herald::cli
