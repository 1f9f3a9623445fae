#include "pipeguard/policy/verdict_text.h"

#include "pipeguard/base/text.h"

namespace pipeguard::policy {

Disposition DispositionOf(const Verdict& verdict, const Violation& violation) {
  if (violation.waived) return Disposition::kWaived;
  if (!violation.blocking) return Disposition::kWarns;
  return verdict.mode == Mode::kEnforce ? Disposition::kDenies : Disposition::kWouldDeny;
}

std::string_view ToString(Disposition disposition) {
  switch (disposition) {
    case Disposition::kDenies:
      return "deny";
    case Disposition::kWouldDeny:
      return "would-deny";
    case Disposition::kWarns:
      return "warn";
    case Disposition::kWaived:
      return "waived";
  }
  return "warn";
}

std::string_view Describe(Disposition disposition) {
  switch (disposition) {
    case Disposition::kDenies:
      return "denied";
    case Disposition::kWouldDeny:
      return "audit (would deny)";
    case Disposition::kWarns:
      return "warning";
    case Disposition::kWaived:
      return "break-glass waived";
  }
  return "warning";
}

std::string FindingLine(const Violation& violation) {
  std::string line = violation.rule;
  if (!violation.path.empty()) line += " at " + base::TruncateUtf8(violation.path, kMaxFindingPathBytes);
  line += ": ";
  line += base::TruncateUtf8(violation.message, kMaxFindingMessageBytes);
  return line;
}

std::string ModeLine(const Verdict& verdict) {
  std::string line(ToString(verdict.mode));
  if (!verdict.mode_source.empty()) line += " from " + verdict.mode_source;
  return line;
}

std::string ModeContext(const Verdict& verdict) {
  std::string context = "mode " + ModeLine(verdict);
  if (verdict.profiles.empty()) return context;
  std::string profiles;
  for (const auto& id : verdict.profiles) {
    if (!profiles.empty()) profiles += ", ";
    profiles += id;
  }
  return context + "; profile " + base::TruncateUtf8(profiles, kMaxProfileListBytes);
}

std::string DenialSummary(const Verdict& verdict) {
  const std::size_t total = verdict.DenialCount();
  return std::to_string(total) + (total == 1 ? " violation (" : " violations (") + ModeContext(verdict) + ")";
}

}  // namespace pipeguard::policy
