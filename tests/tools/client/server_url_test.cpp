#include "tools/client/server_url.hpp"

#include <gtest/gtest.h>

namespace herald::client {
namespace {

server_url parse_ok(std::string_view text) {
  std::string error;
  auto url = parse_server_url(text, error);
  EXPECT_TRUE(url.has_value()) << text << ": " << error;
  return url.value_or(server_url{});
}

std::string parse_error(std::string_view text) {
  std::string error;
  EXPECT_FALSE(parse_server_url(text, error).has_value()) << text;
  return error;
}

TEST(ServerUrl, ParsesHostPortAndPrefix) {
  auto url = parse_ok("http://127.0.0.1:8080");
  EXPECT_EQ(url.host, "127.0.0.1");
  EXPECT_EQ(url.port, "8080");
  EXPECT_EQ(url.target("/v1/ws"), "/v1/ws");
  EXPECT_EQ(url.to_string(), "http://127.0.0.1:8080");

  auto prefixed = parse_ok("http://chat.example.com/herald/");
  EXPECT_EQ(prefixed.port, "80");
  EXPECT_EQ(prefixed.host_header(), "chat.example.com:80");
  EXPECT_EQ(prefixed.target("/v1/rpc"), "/herald/v1/rpc");
}

TEST(ServerUrl, AcceptsIpv6AndTheWsScheme) {
  auto url = parse_ok("ws://[::1]:9000");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.host_header(), "[::1]:9000");
}

TEST(ServerUrl, RefusesWhatItCannotSpeakNamingTheProblem) {
  EXPECT_NE(parse_error("https://x").find("https"), std::string::npos);
  EXPECT_NE(parse_error("127.0.0.1:8080").find("http://"), std::string::npos);
  EXPECT_NE(parse_error("http://:80").find("host"), std::string::npos);
  EXPECT_NE(parse_error("http://h:0").find("port"), std::string::npos);
  EXPECT_NE(parse_error("http://h:70000").find("port"), std::string::npos);
  EXPECT_NE(parse_error("http://h:8x").find("port"), std::string::npos);
  EXPECT_NE(parse_error("http://h:").find("port"), std::string::npos);
  EXPECT_NE(parse_error("http://h/?a=1").find("query"), std::string::npos);
}

} // namespace
} // namespace herald::client
