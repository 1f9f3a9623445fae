#include "detect/text.h"

#include <cmath>
#include <cstring>

namespace pipeguard::policy::detect {

// The byte tables and the byte predicates say what they compute: every byte, checked at compile time.
static_assert([] {
  constexpr BigramSet kSample({"ab", "zq", "\x80\x01", "\xff\xff"});
  constexpr ByteTable kFirsts = kSample.FirstBytes();
  constexpr ByteTable kSpaces = ByteTableOf(IsAsciiSpace);
  for (unsigned a = 0; a < 256; ++a) {
    bool starts = false;
    for (unsigned b = 0; b < 256; ++b) starts |= kSample.Contains(static_cast<char>(a), static_cast<char>(b));
    if (starts != InTable(kFirsts, static_cast<char>(a))) return false;
    if (IsAsciiSpace(static_cast<char>(a)) != InTable(kSpaces, static_cast<char>(a))) return false;
    const char c = static_cast<char>(a);
    const bool listed = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    if (IsAsciiSpace(c) != listed) return false;
  }
  return true;
}());  // ToLowerAscii8 is checked on every byte in every position by text_test (past clang's constexpr step limit)

std::string_view TrimAsciiEnds(std::string_view s) {
  static constexpr ByteTable kSpace = ByteTableOf(IsAsciiSpace);
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && InTable(kSpace, s[b])) ++b;
  while (e > b && InTable(kSpace, s[e - 1])) --e;
  return s.substr(b, e - b);
}

std::size_t FindIgnoreCase(std::string_view s, std::string_view lower_needle, std::size_t from) {
  if (lower_needle.empty()) return from <= s.size() ? from : std::string_view::npos;
  if (s.size() < lower_needle.size()) return std::string_view::npos;
  const char first = lower_needle[0];
  const std::size_t last = s.size() - lower_needle.size();
  for (std::size_t i = from; i <= last; ++i) {
    if (ToLowerAscii(s[i]) != first) continue;
    std::size_t j = 1;
    while (j < lower_needle.size() && ToLowerAscii(s[i + j]) == lower_needle[j]) ++j;
    if (j == lower_needle.size()) return i;
  }
  return std::string_view::npos;
}

double ShannonEntropy(std::string_view s) {
  if (s.empty()) return 0.0;
  std::array<std::uint32_t, 256> counts{};
  // Distinct bytes in first-seen order, so the sum visits only the symbols present.
  std::array<unsigned char, 256> seen;
  std::size_t distinct = 0;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (counts[u]++ == 0) seen[distinct++] = u;
  }
  const double n = static_cast<double>(s.size());
  double h = 0.0;
  for (std::size_t i = 0; i < distinct; ++i) {
    const double p = static_cast<double>(counts[seen[i]]) / n;
    h -= p * std::log2(p);
  }
  return h;
}

namespace {
int HexValue(char c) {
  if (IsAsciiDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int Base64Value(char c) {
  if (IsAsciiUpper(c)) return c - 'A';
  if (IsAsciiLower(c)) return c - 'a' + 26;
  if (IsAsciiDigit(c)) return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}
}  // namespace

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = HexValue(s[i + 1]);
      const int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

bool DecodeBase64(std::string_view in, std::string& out) {
  out.clear();
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  out.reserve(in.size() * 3 / 4 + 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = Base64Value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

LowerCopy::LowerCopy(std::string_view s) {
  char* dst;
  if (s.size() <= small_.size()) {
    dst = small_.data();
  } else {
    large_ = std::make_unique<char[]>(s.size());
    dst = large_.get();
  }
  const std::size_t n = s.size();
  if (n < 8) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = ToLowerAscii(s[i]);
  } else {
    // Eight bytes at a time; the last word overlaps the one before when n is not a multiple of 8 (it is read from
    // `s` again, so the bytes written twice are the same).
    for (std::size_t i = 0;; i += 8) {
      const std::size_t at = i + 8 <= n ? i : n - 8;
      std::uint64_t word;
      std::memcpy(&word, s.data() + at, 8);
      word = ToLowerAscii8(word);
      std::memcpy(dst + at, &word, 8);
      if (at + 8 >= n) break;
    }
  }
  view_ = std::string_view(dst, n);
}

std::string PrintableKey(std::string_view key) {
  constexpr std::size_t kMaxKeyChars = 128;
  std::string out;
  const std::size_t n = key.size() < kMaxKeyChars ? key.size() : kMaxKeyChars;
  out.reserve(n + 3);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(key[i]);
    out.push_back(c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?');
  }
  if (key.size() > kMaxKeyChars) out += "...";
  return out;
}

}  // namespace pipeguard::policy::detect
