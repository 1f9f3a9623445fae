// Small text helpers for bounded, human-readable output (messages, warnings, audit records).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pipeguard::base {

// `text` when it fits in `max_bytes`; otherwise its longest prefix that ends on a UTF-8 character boundary and, with
// "..." appended, fits in `max_bytes` (just "..." cut to `max_bytes` when `max_bytes` < 4). Never splits a
// multi-byte character, so the result is valid UTF-8 whenever `text` is.
inline std::string TruncateUtf8(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  constexpr std::string_view kMark = "...";
  if (max_bytes < kMark.size() + 1) return std::string(kMark.substr(0, max_bytes));
  std::size_t cut = max_bytes - kMark.size();
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
  std::string out(text.substr(0, cut));
  out += kMark;
  return out;
}

}  // namespace pipeguard::base
