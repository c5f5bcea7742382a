// Session ids and epochs draw every bit from the kernel's CSPRNG (issue 15).
//
// This executable defines getrandom itself. The dynamic linker resolves a
// symbol in the executable before libc's, so every call the id generator
// makes lands here: a scripted answer then fixes the id completely, which
// proves that nothing else (a seeded generator, a clock) feeds it. Unscripted
// calls go to the kernel through the raw system call.

#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "actors/names.hpp"

namespace {

enum class script { kernel, fill, short_reads, interrupted_once, fail };

std::atomic<script> mode{script::kernel};
std::atomic<int> calls{0};
unsigned char fill_byte = 0;

struct scripted {
  explicit scripted(script s, unsigned char byte = 0) {
    fill_byte = byte;
    calls = 0;
    mode = s;
  }
  ~scripted() { mode = script::kernel; }
};

} // namespace

extern "C" ssize_t getrandom(void* buffer, size_t length, unsigned int flags) {
  auto current = mode.load();
  if (current == script::kernel)
    return syscall(SYS_getrandom, buffer, length, flags);
  auto call = ++calls;
  switch (current) {
    case script::fill: std::memset(buffer, fill_byte, length); return static_cast<ssize_t>(length);
    case script::short_reads: {
      auto n = length < 3 ? length : 3;
      std::memset(buffer, fill_byte, n);
      return static_cast<ssize_t>(n);
    }
    case script::interrupted_once:
      if (call == 1) {
        errno = EINTR;
        return -1;
      }
      std::memset(buffer, fill_byte, length);
      return static_cast<ssize_t>(length);
    case script::fail: errno = ENOSYS; return -1;
    case script::kernel: break;
  }
  return -1;
}

namespace herald {
namespace {

TEST(SessionIdEntropy, EveryBitOfAnIdComesFromGetrandom) {
  std::string id;
  {
    scripted zeros{script::fill, 0x00};
    id = make_session_id("n1");
    EXPECT_EQ(calls.load(), 2) << "two 64-bit words per id";
  }
  EXPECT_EQ(id, "n1_" + std::string(22, '0'));
  {
    scripted ones{script::fill, 0xFF};
    // 2^64 - 1 in base62, least significant digit first, once per word.
    EXPECT_EQ(make_session_id("n1"), "n1_FYHA61aHgyLFYHA61aHgyL");
  }
}

TEST(SessionIdEntropy, ShortReadsAndInterruptionsAreRetriedUntilTheWordIsFull) {
  {
    scripted shorts{script::short_reads, 0x00};
    EXPECT_EQ(make_session_id("n"), "n_" + std::string(22, '0'));
    EXPECT_EQ(calls.load(), 6) << "8 bytes in reads of 3, twice";
  }
  scripted interrupted{script::interrupted_once, 0x00};
  EXPECT_EQ(make_session_id("n"), "n_" + std::string(22, '0'));
}

TEST(SessionIdEntropy, NoIdIsMadeWhenTheKernelRefusesRandomness) {
  scripted failing{script::fail};
  EXPECT_THROW(make_session_id("n"), std::runtime_error);
  EXPECT_THROW(make_epoch(), std::runtime_error);
}

TEST(SessionIdEntropy, EpochsComeFromGetrandomToo) {
  scripted zeros{script::fill, 0x00};
  EXPECT_EQ(make_epoch(), std::string(12, '0'));
  EXPECT_EQ(calls.load(), 1);
}

TEST(SessionIdEntropy, KernelDrawnIdsDiffer) {
  EXPECT_NE(make_session_id("n"), make_session_id("n"));
}

} // namespace
} // namespace herald
