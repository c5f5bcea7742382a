#include "tools/client/link_problem.hpp"

#include <gtest/gtest.h>

namespace herald::client {
namespace {

link_problem from(std::string_view code) {
  return problem_from_error(json{{"code", code}, {"message", "why"}}, 400);
}

TEST(LinkProblem, MapsServerErrorCodesToTheClientsNextStep) {
  EXPECT_EQ(from("unknown_session").kind, problem_kind::unknown_session);
  EXPECT_EQ(from("unavailable").kind, problem_kind::lost);
  EXPECT_EQ(from("rate_limited").kind, problem_kind::lost);
  EXPECT_EQ(from("internal").kind, problem_kind::lost);
  EXPECT_EQ(from("bad_request").kind, problem_kind::refused);
  EXPECT_EQ(from("forbidden").kind, problem_kind::refused);
  EXPECT_EQ(from("unauthorized").kind, problem_kind::refused);
}

TEST(LinkProblem, KeepsTheServersWordsAndStatus) {
  auto problem = from("bad_request");
  EXPECT_EQ(problem.code, "bad_request");
  EXPECT_EQ(problem.message, "why");
  EXPECT_EQ(problem.http_status, 400);
}

TEST(LinkProblem, AMalformedErrorStillSaysSomething) {
  auto problem = problem_from_error(json("nonsense"));
  EXPECT_EQ(problem.kind, problem_kind::refused);
  EXPECT_FALSE(problem.message.empty());
}

} // namespace
} // namespace herald::client
