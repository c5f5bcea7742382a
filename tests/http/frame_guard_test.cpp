#include "http/frame_guard.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace {

using bytes = std::vector<unsigned char>;

// A masked client frame with a zero mask key, so the payload reads as sent.
bytes frame(unsigned char first, bytes payload = {}) {
  bytes out{first, static_cast<unsigned char>(0x80 | payload.size()), 0, 0, 0, 0};
  for (auto b : payload) // not insert(): GCC 12 warns falsely about its bounds
    out.push_back(b);
  return out;
}

bytes concat(std::initializer_list<bytes> parts) {
  bytes out;
  for (const auto& p : parts)
    for (auto b : p)
      out.push_back(b);
  return out;
}

} // namespace

TEST(FrameGuard, ValidCloseCodesAreThoseOfRfc6455) {
  for (unsigned code : {1000u, 1003u, 1007u, 1011u, 3000u, 4999u})
    EXPECT_TRUE(herald::is_valid_close_code(static_cast<std::uint16_t>(code))) << code;
  for (unsigned code : {0u, 999u, 1004u, 1005u, 1006u, 1012u, 1015u, 2999u, 5000u, 65535u})
    EXPECT_FALSE(herald::is_valid_close_code(static_cast<std::uint16_t>(code))) << code;
}

TEST(FrameGuard, AdmitsMessagesWithinTheFragmentLimit) {
  herald::frame_guard guard{3};
  auto data = concat({frame(0x01, {'a'}), frame(0x00), frame(0x80, {'b'}), frame(0x81, {'c'})});
  EXPECT_EQ(guard.admit(data), data.size());
  EXPECT_FALSE(guard.violated());
}

TEST(FrameGuard, StopsAtTheFrameBeyondTheFragmentLimit) {
  herald::frame_guard guard{2};
  auto ok = frame(0x81, {'x'});
  auto data = concat({ok, frame(0x01), frame(0x00), frame(0x00)});
  EXPECT_EQ(guard.admit(data), ok.size() + 2 * 6);
  ASSERT_TRUE(guard.violated());
  EXPECT_EQ(guard.violated()->close_code, 1009);
  EXPECT_EQ(guard.admit(ok), 0u);
}

TEST(FrameGuard, ControlFramesDoNotCountAsFragments) {
  herald::frame_guard guard{2};
  auto data = concat({frame(0x01), frame(0x89), frame(0x89), frame(0x80)});
  EXPECT_EQ(guard.admit(data), data.size());
}

TEST(FrameGuard, RefusesAnUndefinedCloseCodeEvenSplitAcrossReads) {
  herald::frame_guard guard{8};
  auto close = frame(0x88, {0x03, 0xf4}); // 1012
  EXPECT_EQ(guard.admit({close.data(), 7}), 7u);
  EXPECT_EQ(guard.admit({close.data() + 7, 1}), 0u);
  ASSERT_TRUE(guard.violated());
  EXPECT_EQ(guard.violated()->close_code, 1002);
}

TEST(FrameGuard, AdmitsADefinedCloseCode) {
  herald::frame_guard guard{8};
  auto close = frame(0x88, {0x03, 0xe8, 'b', 'y', 'e'}); // 1000
  EXPECT_EQ(guard.admit(close), close.size());
  EXPECT_FALSE(guard.violated());
}
