// Byte-level ASCII helpers shared by the detectors. Every function is total on arbitrary bytes (binary input,
// invalid UTF-8) and runs in time linear in its input (patterns searched for are short constants).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

namespace pipeguard::policy::detect {

constexpr char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
// ToLowerAscii on each of the eight bytes of `word` (SWAR): a byte below 0x80 whose low seven bits are in
// 'A'..'Z' gets bit 0x20 set. No carry crosses a byte: the seven-bit values plus 0x3f or 0x25 stay below 0x100.
constexpr std::uint64_t ToLowerAscii8(std::uint64_t word) {
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  const std::uint64_t seven = word & ~kHigh;
  const std::uint64_t at_least_a = seven + 0x3f3f3f3f3f3f3f3fULL;      // high bit set where seven >= 'A' (0x41)
  const std::uint64_t beyond_z = seven + 0x2525252525252525ULL;        // high bit set where seven >= '[' (0x5b)
  const std::uint64_t upper = at_least_a & ~beyond_z & ~word & kHigh;  // ... and the byte itself is below 0x80
  return word | (upper >> 2);                                          // 0x80 >> 2 == 'a' - 'A'
}
// ' ', '\t', '\n', '\v', '\f', '\r' (the last five are the consecutive bytes 9..13).
constexpr bool IsAsciiSpace(char c) { return c == ' ' || static_cast<unsigned char>(c - '\t') <= '\r' - '\t'; }
constexpr bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
constexpr bool IsAsciiUpper(char c) { return c >= 'A' && c <= 'Z'; }
constexpr bool IsAsciiLower(char c) { return c >= 'a' && c <= 'z'; }
constexpr bool IsAsciiAlpha(char c) { return IsAsciiUpper(c) || IsAsciiLower(c); }
constexpr bool IsAsciiAlnum(char c) { return IsAsciiAlpha(c) || IsAsciiDigit(c); }
constexpr bool IsHexDigit(char c) { return IsAsciiDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
// Standard and URL-safe base64 alphabets plus padding.
constexpr bool IsBase64Char(char c) {
  return IsAsciiAlnum(c) || c == '+' || c == '/' || c == '-' || c == '_' || c == '=';
}

// `s` without leading and trailing ASCII blanks. Inline: most values have none, and the detectors trim each value
// several times.
std::string_view TrimAsciiEnds(std::string_view s);
inline std::string_view TrimAscii(std::string_view s) {
  if (s.empty() || (!IsAsciiSpace(s.front()) && !IsAsciiSpace(s.back()))) return s;
  return TrimAsciiEnds(s);
}

// True when the literal `s` occurs in `v` at index `i`. An inline byte loop: the needles are short constants and
// a libc memcmp call per candidate position dominated the hot path.
template <std::size_t N>
inline bool HasAt(std::string_view v, std::size_t i, const char (&s)[N]) {
  constexpr std::size_t n = N - 1;
  if (i > v.size() || v.size() - i < n) return false;
  for (std::size_t k = 0; k < n; ++k) {
    if (v[i + k] != s[k]) return false;
  }
  return true;
}

// The bytes for which `pred` holds, as a table computed at compile time: hot byte loops probe it once per byte
// instead of running a chain of comparisons, with the predicate's own answers.
using ByteTable = std::array<bool, 256>;

template <typename Pred>
constexpr ByteTable ByteTableOf(Pred pred) {
  ByteTable table{};
  for (unsigned c = 0; c < 256; ++c) table[c] = pred(static_cast<char>(c));
  return table;
}

constexpr bool InTable(const ByteTable& table, char c) { return table[static_cast<unsigned char>(c)]; }

// The index of the first byte at or after `pos` (<= v.size()) that is in `table`, or v.size(). The hot scanning
// loops of the URI and parameter parsers; unrolled, since compilers turn the plain loop into ~10 instructions per
// byte.
inline std::size_t FindFirstIn(std::string_view v, std::size_t pos, const ByteTable& table) {
  const std::size_t n = v.size();
  const char* const d = v.data();
  for (; pos + 4 <= n; pos += 4) {
    if (InTable(table, d[pos])) return pos;
    if (InTable(table, d[pos + 1])) return pos + 1;
    if (InTable(table, d[pos + 2])) return pos + 2;
    if (InTable(table, d[pos + 3])) return pos + 3;
  }
  while (pos < n && !InTable(table, d[pos])) ++pos;
  return pos;
}

// A set of byte pairs (64 Ki bits): the pre-filter for keyword scans. A position whose two bytes are not in
// the set cannot start any of the keywords, so the per-byte cost of a scan is one table probe.
class BigramSet {
 public:
  constexpr BigramSet(std::initializer_list<const char*> bigrams) {
    for (const char* b : bigrams) Add(b[0], b[1]);
  }
  constexpr void Add(char a, char b) {
    const unsigned idx = Index(a, b);
    bits_[idx / 64] |= std::uint64_t{1} << (idx % 64);
  }
  // Adds every pair of `other`.
  constexpr void AddAll(const BigramSet& other) {
    for (std::size_t w = 0; w < 1024; ++w) bits_[w] |= other.bits_[w];
  }
  // Adds every pair that ends with `b`.
  constexpr void AddAllEndingWith(char b) {
    for (unsigned a = 0; a < 256; ++a) Add(static_cast<char>(a), b);
  }
  // Adds every pair that starts with `a`.
  constexpr void AddAllStartingWith(char a) {
    const unsigned row = Index(a, '\0') / 64;
    for (unsigned w = row; w < row + 256 / 64; ++w) bits_[w] = ~std::uint64_t{0};
  }
  constexpr bool Contains(char a, char b) const {
    const unsigned idx = Index(a, b);
    return (bits_[idx / 64] >> (idx % 64)) & 1u;
  }
  // The bytes that start a pair of the set.
  constexpr ByteTable FirstBytes() const {
    ByteTable table{};
    for (unsigned idx = 0; idx < 65536; ++idx) {
      if ((bits_[idx / 64] >> (idx % 64)) & 1u) table[idx >> 8] = true;
    }
    return table;
  }

 private:
  static constexpr unsigned Index(char a, char b) {
    return (static_cast<unsigned>(static_cast<unsigned char>(a)) << 8) | static_cast<unsigned char>(b);
  }
  std::uint64_t bits_[1024] = {};
};

// HasAt ignoring ASCII case; `s` must be lower-case.
template <std::size_t N>
inline bool HasAtIgnoreCase(std::string_view v, std::size_t i, const char (&s)[N]) {
  constexpr std::size_t n = N - 1;
  if (i > v.size() || v.size() - i < n) return false;
  for (std::size_t k = 0; k < n; ++k) {
    const char c = v[i + k];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != s[k]) return false;
  }
  return true;
}

// Inline: most calls compare a key with a constant of another length and return at the size test.
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != ToLowerAscii(b[i])) return false;
  }
  return true;
}
inline bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}
inline bool EndsWithIgnoreCase(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && EqualsIgnoreCase(s.substr(s.size() - suffix.size()), suffix);
}
// Position of the first case-insensitive occurrence of `needle` (lower-case ASCII) at or after `from`, or npos.
// O(|s| * |needle|); callers only pass short constant needles.
std::size_t FindIgnoreCase(std::string_view s, std::string_view lower_needle, std::size_t from = 0);
inline bool ContainsIgnoreCase(std::string_view s, std::string_view lower_needle) {
  return FindIgnoreCase(s, lower_needle) != std::string_view::npos;
}

// Shannon entropy in bits per byte.
double ShannonEntropy(std::string_view s);

// Percent-decodes `%XX` sequences; malformed escapes are kept verbatim.
std::string PercentDecode(std::string_view s);

// Decodes standard or URL-safe base64 (padding optional). Returns false on any invalid character.
bool DecodeBase64(std::string_view in, std::string& out);

// A lower-cased copy of a short string kept on the stack; longer strings spill to the heap. Used for keys so the
// no-finding path does not allocate.
class LowerCopy {
 public:
  explicit LowerCopy(std::string_view s);
  LowerCopy(const LowerCopy&) = delete;
  LowerCopy& operator=(const LowerCopy&) = delete;
  std::string_view view() const { return view_; }

 private:
  std::array<char, 192> small_;
  std::unique_ptr<char[]> large_;
  std::string_view view_;
};

// Replaces control and non-ASCII bytes by '?' and caps the length, so a key can be echoed in a message and
// serialised as JSON whatever bytes the object carried.
std::string PrintableKey(std::string_view key);

}  // namespace pipeguard::policy::detect
