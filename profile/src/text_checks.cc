#include "pipeguard/profile/text_checks.h"

#include <vector>

namespace pipeguard::api {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

std::vector<std::string_view> Split(std::string_view s, char sep, size_t max_parts) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < max_parts) {
    const auto pos = s.find(sep);
    if (pos == std::string_view::npos) break;
    out.push_back(s.substr(0, pos));
    s.remove_prefix(pos + 1);
  }
  out.push_back(s);
  return out;
}

}  // namespace

bool IsDnsLabel(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!IsLowerAlnum(s[i]) && (s[i] != '-' || i == 0 || i + 1 == s.size())) return false;
  }
  return true;
}

bool IsDnsSubdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (auto label : Split(s, '.', s.size() + 1)) {
    if (!IsDnsLabel(label)) return false;
  }
  return true;
}

bool IsDns1035Label(std::string_view s) { return IsDnsLabel(s) && s[0] >= 'a' && s[0] <= 'z'; }

bool IsPolicyText(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x80) continue;
    // U+0080..U+00FF are the two-byte sequences C2 80..C3 BF.
    if ((c == 0xC2 || c == 0xC3) && i + 1 < s.size() && (static_cast<unsigned char>(s[i + 1]) & 0xC0) == 0x80) {
      ++i;
      continue;
    }
    return false;
  }
  return true;
}

std::string Quoted(std::string_view s) {
  std::string out = "\"";
  out.append(s.substr(0, 200)).append("\"");
  return out;
}

bool ParseArn(std::string_view text, std::string_view service, Arn& out, bool region_and_account_required) {
  const auto parts = Split(text, ':', 6);
  if (parts.size() != 6 || parts[0] != "arn") return false;
  const auto partition = parts[1];
  if (partition.substr(0, 3) != "aws") return false;
  for (char c : partition) {
    if (!(c >= 'a' && c <= 'z') && c != '-') return false;
  }
  if (parts[2] != service) return false;
  const auto region = parts[3];
  const auto account = parts[4];
  if (region_and_account_required || !region.empty()) {
    if (region.empty()) return false;
    for (char c : region) {
      if (!IsLowerAlnum(c) && c != '-') return false;
    }
  }
  if (region_and_account_required || !account.empty()) {
    if (account.size() != 12) return false;
    for (char c : account) {
      if (c < '0' || c > '9') return false;
    }
  }
  if (parts[5].empty()) return false;
  out = Arn{std::string(partition), std::string(parts[2]), std::string(region), std::string(account),
            std::string(parts[5])};
  return true;
}

}  // namespace pipeguard::api
