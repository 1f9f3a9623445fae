// The byte helpers of the detectors (detect/text.h) against their one-byte-at-a-time definitions, on every length
// around their word and unrolling boundaries and on every byte value.
#include "detect/text.h"

#include <gtest/gtest.h>

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
