#include "actors/token_grant.hpp"

#include <string>

#include <gtest/gtest.h>

namespace herald {
namespace {

TEST(GroupPattern, StarMatchesAnyRunIncludingNone) {
  EXPECT_TRUE(matches_group_pattern("room.*", "room.a"));
  EXPECT_TRUE(matches_group_pattern("room.*", "room."));
  EXPECT_TRUE(matches_group_pattern("room.*", "room.a.b"));
  EXPECT_TRUE(matches_group_pattern("*", "anything"));
  EXPECT_TRUE(matches_group_pattern("*.log", "a.b.log"));
  EXPECT_TRUE(matches_group_pattern("a*b*c", "aXXbYYc"));
  EXPECT_TRUE(matches_group_pattern("a**", "a"));
}

TEST(GroupPattern, EverythingElseMatchesOnlyItselfAndWhole) {
  EXPECT_FALSE(matches_group_pattern("room.*", "xroom.a"));
  EXPECT_FALSE(matches_group_pattern("room.*", "room"));
  EXPECT_FALSE(matches_group_pattern("lobby", "lobby2"));
  EXPECT_FALSE(matches_group_pattern("lobby", "lobb"));
  EXPECT_FALSE(matches_group_pattern("a*b*c", "aXXbYY"));
  EXPECT_FALSE(matches_group_pattern("", "a"));
  EXPECT_TRUE(matches_group_pattern("lobby", "lobby"));
}

TEST(GroupPattern, HostilePatternStaysCheap) {
  // A backtracking matcher would take exponential time here.
  std::string pattern(60, '*');
  pattern += "b";
  std::string name(4000, 'a');
  EXPECT_FALSE(matches_group_pattern(pattern, name));
}

TEST(GroupPermitted, NoClaimPermitsEveryGroup) {
  EXPECT_TRUE(group_permitted(false, {}, "x"));
  EXPECT_FALSE(group_permitted(true, {}, "x"));
  EXPECT_TRUE(group_permitted(true, {"a", "x*"}, "xy"));
}

} // namespace
} // namespace herald
