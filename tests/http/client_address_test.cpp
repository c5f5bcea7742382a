#include "http/client_address.hpp"

#include <gtest/gtest.h>

namespace herald {
namespace {

namespace ip = boost::asio::ip;

proxy_list proxies(std::vector<std::string> entries) {
  std::string error;
  auto parsed = proxy_list::parse(entries, error);
  EXPECT_TRUE(parsed) << error;
  return parsed.value_or(proxy_list{});
}

TEST(ProxyList, PrefixesOfBothFamilies) {
  auto list = proxies({"10.0.0.0/8", "192.168.1.7", "fd00::/8"});
  EXPECT_TRUE(list.trusts(ip::make_address("10.200.3.4")));
  EXPECT_FALSE(list.trusts(ip::make_address("11.0.0.1")));
  EXPECT_TRUE(list.trusts(ip::make_address("192.168.1.7")));
  EXPECT_FALSE(list.trusts(ip::make_address("192.168.1.8")));
  EXPECT_TRUE(list.trusts(ip::make_address("fd12::1")));
  EXPECT_FALSE(list.trusts(ip::make_address("fe80::1")));
  EXPECT_TRUE(list.trusts(ip::make_address("::ffff:10.1.1.1"))) << "v4-mapped peers";
}

TEST(ProxyList, RefusesBadEntries) {
  std::string error;
  EXPECT_FALSE(proxy_list::parse({"10.0.0.0/33"}, error));
  EXPECT_FALSE(proxy_list::parse({"host.example"}, error));
  EXPECT_FALSE(proxy_list::parse({"::/200"}, error));
  EXPECT_FALSE(proxy_list::parse({"10.0.0.0/"}, error));
  EXPECT_NE(error.find("trusted-proxies"), std::string::npos);
}

TEST(ClientAddress, PeerUnlessTrusted) {
  auto list = proxies({"127.0.0.1"});
  EXPECT_EQ(client_address_of(ip::make_address("127.0.0.2"), "1.2.3.4", list), "127.0.0.2");
  EXPECT_EQ(client_address_of(ip::make_address("127.0.0.1"), "1.2.3.4", list), "1.2.3.4");
  EXPECT_EQ(client_address_of(ip::make_address("127.0.0.1"), "", list), "127.0.0.1");
  EXPECT_EQ(client_address_of(ip::make_address("127.0.0.1"), "1.2.3.4", proxy_list{}), "127.0.0.1");
}

TEST(ClientAddress, RightMostUntrustedHop) {
  auto list = proxies({"127.0.0.1", "10.0.0.0/8"});
  auto peer = ip::make_address("127.0.0.1");
  EXPECT_EQ(client_address_of(peer, "6.6.6.6, 1.2.3.4", list), "1.2.3.4");
  EXPECT_EQ(client_address_of(peer, "1.2.3.4, 10.0.0.5", list), "1.2.3.4");
  EXPECT_EQ(client_address_of(peer, "10.0.0.9, 10.0.0.5", list), "10.0.0.9");
  EXPECT_EQ(client_address_of(peer, "garbage", list), "127.0.0.1");
  EXPECT_EQ(client_address_of(peer, " 2001:db8::1 ", list), "2001:db8::1");
}

TEST(AddressCounter, LimitAndRelease) {
  address_counter counter;
  auto a = counter.acquire("a", 2);
  auto b = counter.acquire("a", 2);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(counter.acquire("a", 2));
  EXPECT_TRUE(counter.acquire("b", 2));
  a.reset();
  EXPECT_TRUE(counter.acquire("a", 2));
}

} // namespace
} // namespace herald
