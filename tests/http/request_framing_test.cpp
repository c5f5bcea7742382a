#include "http/request_framing.hpp"

#include <gtest/gtest.h>

namespace http = boost::beast::http;
using herald::request_head;

namespace {

request_head head(unsigned version = 11) {
  request_head h;
  h.method(http::verb::post);
  h.target("/v1/rpc");
  h.version(version);
  h.set(http::field::host, "h");
  return h;
}

} // namespace

TEST(RequestFraming, OnlyPlainChunkedTransferEncodingPasses) {
  auto ok = head();
  ok.set(http::field::transfer_encoding, "Chunked");
  EXPECT_EQ(herald::framing_problem(ok), "");
  for (const char* value : {"xchunked", "chunked, identity", "identity", "gzip, chunked", ""}) {
    auto h = head();
    h.set(http::field::transfer_encoding, value);
    EXPECT_NE(herald::framing_problem(h), "") << value;
  }
}

TEST(RequestFraming, TransferEncodingWithContentLengthOrInHttp10IsRefused) {
  auto both = head();
  both.set(http::field::transfer_encoding, "chunked");
  both.set(http::field::content_length, "5");
  EXPECT_NE(herald::framing_problem(both), "");
  auto old = head(10);
  old.set(http::field::transfer_encoding, "chunked");
  EXPECT_NE(herald::framing_problem(old), "");
}

TEST(RequestFraming, HostIsRequiredOnceInHttp11AndAtMostOnceInHttp10) {
  auto none = head();
  none.erase(http::field::host);
  EXPECT_NE(herald::framing_problem(none), "");
  auto old = head(10);
  old.erase(http::field::host);
  EXPECT_EQ(herald::framing_problem(old), "");
  auto two = head(10);
  two.insert(http::field::host, "other");
  EXPECT_NE(herald::framing_problem(two), "");
}

TEST(RequestFraming, ExpectationsAreRead) {
  auto h = head();
  EXPECT_EQ(herald::expectation_of(h), herald::expectation::none);
  h.set(http::field::expect, "100-Continue");
  EXPECT_EQ(herald::expectation_of(h), herald::expectation::send_continue);
  h.set(http::field::expect, "200-ok");
  EXPECT_EQ(herald::expectation_of(h), herald::expectation::unknown);
  auto old = head(10);
  old.set(http::field::expect, "100-continue");
  EXPECT_EQ(herald::expectation_of(old), herald::expectation::none);
}

TEST(RequestFraming, AbsoluteFormBecomesOriginFormWithItsAuthorityAsHost) {
  auto h = head();
  h.target("HTTP://node.example:8080/readyz?x=1");
  ASSERT_TRUE(herald::normalize_target(h));
  EXPECT_EQ(h.target(), "/readyz?x=1");
  EXPECT_EQ(h[http::field::host], "node.example:8080");
  h.target("http://node.example");
  ASSERT_TRUE(herald::normalize_target(h));
  EXPECT_EQ(h.target(), "/");
  h.target("http://user@node.example/");
  EXPECT_FALSE(herald::normalize_target(h));
  h.target("ftp://node.example/");
  EXPECT_FALSE(herald::normalize_target(h));
}
