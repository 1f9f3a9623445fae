// The byte helpers of the detectors (detect/text.h) against their one-byte-at-a-time definitions, on every length
// around their word and unrolling boundaries and on every byte value.
#include "detect/text.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

namespace pipeguard::policy::detect {
namespace {

std::string RandomBytes(std::mt19937& rng, std::size_t n) {
  std::string s(n, '\0');
  // Mostly the bytes the helpers single out (letters, blanks, table stops), sometimes any byte.
  const std::string common = "AZaz@[`{ \t\n\r\v\f=;?/:#\"'";
  for (char& c : s) c = rng() % 3 ? common[rng() % common.size()] : static_cast<char>(rng() % 256);
  return s;
}

TEST(ToLowerAscii8, IsToLowerAsciiOnEveryByteWhateverItsNeighbours) {
  for (unsigned a = 0; a < 256; ++a) {
    for (unsigned shift = 0; shift < 64; shift += 8) {
      for (const std::uint64_t fill : {0ULL, 0x4141414141414141ULL, 0x5a5a5a5a5a5a5a5aULL, 0xc1c1c1c1c1c1c1c1ULL,
                                       0xffffffffffffffffULL, 0x4060405b7f80daffULL}) {
        const std::uint64_t word = (fill & ~(0xffULL << shift)) | (std::uint64_t{a} << shift);
        std::uint64_t want = 0;
        for (unsigned k = 0; k < 64; k += 8) {
          const auto byte = static_cast<char>((word >> k) & 0xff);
          want |= std::uint64_t{static_cast<unsigned char>(ToLowerAscii(byte))} << k;
        }
        ASSERT_EQ(ToLowerAscii8(word), want) << "byte " << a << " at bit " << shift << " in " << std::hex << fill;
      }
    }
  }
}

TEST(LowerCopy, LowerCasesEveryByteAtEveryLength) {
  std::mt19937 rng(7);
  for (std::size_t n = 0; n <= 260; ++n) {  // across the 8-byte words and the 192-byte inline buffer
    for (int round = 0; round < 20; ++round) {
      const std::string s = RandomBytes(rng, n);
      std::string want = s;
      for (char& c : want) c = ToLowerAscii(c);
      EXPECT_EQ(LowerCopy(s).view(), want) << "length " << n;
    }
  }
}

TEST(FindFirstIn, FindsTheFirstTableByteFromEveryStart) {
  constexpr ByteTable kStops = ByteTableOf([](char c) { return c == '=' || c == ';' || c == '?'; });
  std::mt19937 rng(11);
  for (std::size_t n = 0; n <= 40; ++n) {
    for (int round = 0; round < 20; ++round) {
      const std::string s = RandomBytes(rng, n);
      for (std::size_t pos = 0; pos <= n; ++pos) {
        std::size_t want = pos;
        while (want < n && !InTable(kStops, s[want])) ++want;
        EXPECT_EQ(FindFirstIn(s, pos, kStops), want) << "length " << n << " from " << pos;
      }
    }
  }
}

TEST(TrimAscii, RemovesLeadingAndTrailingBlanksOnly) {
  std::mt19937 rng(13);
  for (std::size_t n = 0; n <= 24; ++n) {
    for (int round = 0; round < 50; ++round) {
      const std::string s = RandomBytes(rng, n);
      std::size_t b = 0;
      std::size_t e = n;
      while (b < e && IsAsciiSpace(s[b])) ++b;
      while (e > b && IsAsciiSpace(s[e - 1])) --e;
      EXPECT_EQ(TrimAscii(s), std::string_view(s).substr(b, e - b));
    }
  }
}

}  // namespace
}  // namespace pipeguard::policy::detect
