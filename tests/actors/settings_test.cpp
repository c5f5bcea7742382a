#include "actors/settings.hpp"

#include <string>

#include <gtest/gtest.h>

namespace herald {
namespace {

using namespace std::chrono_literals;

declared_group group(std::string name, std::uint64_t bit = 0) {
  declared_group g;
  g.name = std::move(name);
  g.bit = bit;
  return g;
}

TEST(Settings, DefaultsAreValid) {
  EXPECT_EQ(validate(settings{}), "");
}

TEST(Settings, DefaultsAreTheContracts) {
  settings s;
  EXPECT_EQ(s.listen, "0.0.0.0:8080");
  EXPECT_EQ(s.lease, 100s);
  EXPECT_EQ(s.max_lease, 3600s);
  EXPECT_EQ(s.queue_max, 1000u);
  EXPECT_EQ(s.history, 100u);
  EXPECT_TRUE(s.notify_presence);
  EXPECT_EQ(s.notify_presence_max, 1000u);
  EXPECT_TRUE(s.allow_undeclared_groups);
  EXPECT_EQ(s.max_body, 1024u * 1024u);
  EXPECT_EQ(s.max_data, 64u * 1024u);
  EXPECT_EQ(s.heartbeat, 15s);
  EXPECT_EQ(s.listen_timeout, 30s);
  EXPECT_EQ(s.max_listen_timeout, 120s);
  EXPECT_EQ(s.drain_timeout, 10s);
  EXPECT_EQ(s.group_idle_timeout, 300s);
}

TEST(Settings, LeaseMustBeAtLeastOneSecond) {
  settings s;
  s.lease = 0s;
  EXPECT_EQ(validate(s), "lease must be at least 1 s");
  s.lease = 1s;
  EXPECT_EQ(validate(s), "");
}

TEST(Settings, MaxLeaseMustNotBeBelowLease) {
  settings s;
  s.lease = 60s;
  s.max_lease = 59s;
  EXPECT_EQ(validate(s), "max-lease must not be below lease");
  s.max_lease = 60s;
  EXPECT_EQ(validate(s), "");
}

TEST(Settings, QueueMaxMustLeaveRoomForAnOverflowEvent) {
  settings s;
  s.queue_max = 1;
  EXPECT_EQ(validate(s), "queue-max must be at least 2 (an overflow event needs a slot)");
  s.queue_max = 2;
  EXPECT_EQ(validate(s), "");
}

TEST(Settings, MaxListenTimeoutIsAtMost120Seconds) {
  settings s;
  s.max_listen_timeout = 121s;
  EXPECT_EQ(validate(s), "max-listen-timeout must be at most 120 s");
}

TEST(Settings, ListenTimeoutIsAtMostMaxListenTimeout) {
  settings s;
  s.listen_timeout = 121s;
  EXPECT_EQ(validate(s), "listen-timeout must be at most 120 s");
  s.max_listen_timeout = 60s;
  s.listen_timeout = 61s;
  EXPECT_EQ(validate(s), "listen-timeout must be at most 60 s");
  s.listen_timeout = 60s;
  EXPECT_EQ(validate(s), "");
}

TEST(Settings, ListenTimeoutMustNotBeNegative) {
  settings s;
  s.listen_timeout = -1s;
  EXPECT_EQ(validate(s), "listen-timeout must not be negative");
  s.listen_timeout = 0s;
  EXPECT_EQ(validate(s), "") << "0 = every listen polls";
}

TEST(Settings, HeartbeatMustBeAtLeastOneSecond) {
  settings s;
  s.heartbeat = 0s;
  EXPECT_EQ(validate(s), "heartbeat must be at least 1 s");
}

TEST(Settings, MaxBodyMustBeAtLeast64Bytes) {
  settings s;
  s.max_body = 63;
  s.max_data = 63;
  EXPECT_EQ(validate(s), "max-body must be at least 64 bytes");
}

TEST(Settings, MaxDataMustFitTheBody) {
  settings s;
  s.max_data = 0;
  EXPECT_EQ(validate(s), "max-data must be between 1 and max-body");
  s.max_data = s.max_body + 1;
  EXPECT_EQ(validate(s), "max-data must be between 1 and max-body");
  s.max_data = s.max_body;
  EXPECT_EQ(validate(s), "");
}

TEST(Settings, BatchLimitsMustBeAtLeastOne) {
  settings s;
  s.max_batch = 0;
  EXPECT_EQ(validate(s), "max-batch must be at least 1");
  s = settings{};
  s.listen_batch = 0;
  EXPECT_EQ(validate(s), "listen-batch must be at least 1");
  s = settings{};
  s.publish_batch = 0;
  EXPECT_EQ(validate(s), "publish-batch must be at least 1");
}

TEST(Settings, MaxConnectionsAndThreadsMustBeAtLeastOne) {
  settings s;
  s.max_connections = 0;
  EXPECT_EQ(validate(s), "max-connections must be at least 1");
  s = settings{};
  s.io_threads = 0;
  EXPECT_EQ(validate(s), "io-threads and actor-threads must be at least 1");
  s = settings{};
  s.actor_threads = 0;
  EXPECT_EQ(validate(s), "io-threads and actor-threads must be at least 1");
}

TEST(Settings, DeclaredGroupNamesAreUnique) {
  settings s;
  s.groups = {group("lobby"), group("news"), group("lobby")};
  EXPECT_EQ(validate(s), "group \"lobby\" is declared twice");
}

TEST(Settings, DeclaredGroupNamesMustBeValidGroupNames) {
  settings s;
  s.groups = {group("bad name")};
  EXPECT_EQ(validate(s), "group \"bad name\": name must be 1-128 chars of [A-Za-z0-9_.:/-]");
  s.groups = {group("")};
  EXPECT_NE(validate(s), "");
}

TEST(Settings, DeclaredGroupBitsArePowersOfTwo) {
  settings s;
  s.groups = {group("lobby", 1), group("news", 6)};
  EXPECT_EQ(validate(s), "group \"news\": bit must be a power of two");
  s.groups = {group("lobby", 1), group("news", std::uint64_t{1} << 63)};
  EXPECT_EQ(validate(s), "");
}

TEST(Settings, DeclaredGroupBitsAreUnique) {
  settings s;
  s.groups = {group("lobby", 4), group("news", 4)};
  EXPECT_EQ(validate(s), "group \"news\": bit 4 is already taken");
}

TEST(Settings, ManyDeclaredGroupsMayHaveNoBit) {
  settings s;
  s.groups = {group("lobby"), group("news"), group("sport", 2)};
  EXPECT_EQ(validate(s), "");
}

TEST(Settings, FindDeclaredByNameAndByBit) {
  settings s;
  s.groups = {group("lobby", 1), group("news", 2), group("plain")};
  ASSERT_NE(s.find_declared("news"), nullptr);
  EXPECT_EQ(s.find_declared("news")->bit, 2u);
  EXPECT_EQ(s.find_declared("missing"), nullptr);
  ASSERT_NE(s.find_declared_bit(1), nullptr);
  EXPECT_EQ(s.find_declared_bit(1)->name, "lobby");
  EXPECT_EQ(s.find_declared_bit(4), nullptr);
}

} // namespace
} // namespace herald
