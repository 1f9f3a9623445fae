#include "pipeguard/policy/types.h"

#include <array>

namespace pipeguard::policy {
namespace {
constexpr std::array<std::string_view, 5> kSeverityNames = {"info", "low", "medium", "high", "critical"};
}  // namespace

std::string_view ToString(Severity s) { return kSeverityNames[static_cast<size_t>(s)]; }

std::optional<Severity> ParseSeverity(std::string_view s) {
  for (size_t i = 0; i < kSeverityNames.size(); ++i) {
    if (kSeverityNames[i] == s) return static_cast<Severity>(i);
  }
  return std::nullopt;
}

std::string_view ToString(Mode m) { return m == Mode::kEnforce ? "enforce" : "audit"; }

std::optional<Mode> ParseMode(std::string_view s) {
  if (s == "enforce") return Mode::kEnforce;
  if (s == "audit") return Mode::kAudit;
  return std::nullopt;
}

bool Verdict::HasBlocking() const {
  if (unlisted.denials > 0) return true;
  for (const auto& v : violations) {
    if (v.blocking && !v.waived) return true;
  }
  return false;
}

std::size_t Verdict::DenialCount() const {
  std::size_t n = unlisted.denials;
  for (const auto& v : violations) n += v.blocking && !v.waived ? 1 : 0;
  return n;
}

std::vector<const Violation*> Verdict::Denials() const {
  std::vector<const Violation*> out;
  for (const auto& v : violations) {
    if (v.blocking && !v.waived) out.push_back(&v);
  }
  return out;
}

}  // namespace pipeguard::policy
