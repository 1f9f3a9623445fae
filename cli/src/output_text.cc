#include <map>
#include <set>
#include <sstream>

#include "output_internal.h"
#include "pipeguard/cli/output.h"
#include "pipeguard/policy/verdict_text.h"

namespace pipeguard::cli {
namespace {

using policy::Violation;

class Painter {
 public:
  explicit Painter(bool color) : color_(color) {}
  std::string operator()(std::string_view code, std::string_view text) const {
    if (!color_) return std::string(text);
    return "\033[" + std::string(code) + "m" + std::string(text) + "\033[0m";
  }

 private:
  bool color_;
};

constexpr std::string_view kRed = "1;31", kYellow = "33", kGreen = "32", kDim = "2", kBold = "1";

const std::map<policy::Disposition, std::string_view> kTagCodes = {{policy::Disposition::kDenies, kRed},
                                                                   {policy::Disposition::kWouldDeny, kYellow},
                                                                   {policy::Disposition::kWarns, kYellow},
                                                                   {policy::Disposition::kWaived, kDim}};

enum class Outcome { kDenied, kWarned, kAllowed, kNotGoverned };

Outcome OutcomeOf(const ScanResult& r) {
  if (!r.verdict.allowed) return Outcome::kDenied;
  if (!r.verdict.governed) return Outcome::kNotGoverned;
  return r.verdict.violations.empty() ? Outcome::kAllowed : Outcome::kWarned;
}

std::string Source(const ScanResult& r) {
  std::string s = r.Source();
  if (r.item_index >= 0) s += " items/" + std::to_string(r.item_index);
  return s;
}

void RenderObject(const ScanResult& r, const Painter& paint, std::ostringstream& out) {
  using internal::SanitizeForTerminal;
  const Outcome outcome = OutcomeOf(r);
  static const std::map<Outcome, std::pair<std::string_view, std::string_view>> kLabels = {
      {Outcome::kDenied, {"DENIED ", kRed}},
      {Outcome::kWarned, {"WARN   ", kYellow}},
      {Outcome::kAllowed, {"ALLOWED", kGreen}},
      {Outcome::kNotGoverned, {"ALLOWED", kDim}}};
  const auto& [label, code] = kLabels.at(outcome);
  out << paint(code, label) << " " << paint(kBold, SanitizeForTerminal(r.ObjectName())) << "  "
      << paint(kDim, SanitizeForTerminal(Source(r)));
  if (outcome == Outcome::kNotGoverned) out << paint(kDim, "  (not governed)");
  if (outcome == Outcome::kDenied) {
    out << "  " << paint(kRed, SanitizeForTerminal(policy::DenialSummary(r.verdict)));
  } else if (r.verdict.governed) {
    out << paint(r.verdict.mode == policy::Mode::kAudit ? kYellow : kDim,
                 "  (" + SanitizeForTerminal(policy::ModeContext(r.verdict)) + ")");
  }
  out << "\n";

  // One line per finding, in the words the webhook uses (policy/verdict_text.h): the disposition, the finding line,
  // then its severity and detector.
  std::set<std::string> rules_seen;
  std::vector<std::string> rule_order;
  for (const Violation& v : r.verdict.violations) {
    const policy::Disposition disposition = policy::DispositionOf(r.verdict, v);
    std::string tag = "[" + std::string(policy::ToString(disposition));
    if (disposition == policy::Disposition::kWaived) tag += " " + r.verdict.break_glass_ticket.value_or("break-glass");
    tag += "]";
    std::string details(policy::ToString(v.severity));
    if (!v.detector.empty() && v.message.find(v.detector) == std::string::npos) details += ", " + v.detector;
    out << "  " << paint(kTagCodes.at(disposition), SanitizeForTerminal(tag)) << " "
        << SanitizeForTerminal(policy::FindingLine(v)) << paint(kDim, " (" + SanitizeForTerminal(details) + ")")
        << "\n";
    if (rules_seen.insert(v.rule).second) rule_order.push_back(v.rule);
  }
  if (r.verdict.unlisted.count > 0) {
    out << "  "
        << paint(kDim, "... and " + std::to_string(r.verdict.unlisted.count) +
                           " more findings in this object, not listed (at most " +
                           std::to_string(policy::kMaxReportedViolations) + " are listed per object)")
        << "\n";
    for (const auto& [rule, n] : r.verdict.unlisted.by_rule) {
      if (rules_seen.insert(rule).second) rule_order.push_back(rule);
    }
  }
  for (const auto& rule : rule_order) {
    const std::string_view hint = FixHint(rule);
    if (hint.empty()) continue;
    out << "  " << paint(kGreen, "fix") << " (" << rule << "): " << hint << ". "
        << paint(kDim, "See docs/rules.md#" + rule) << "\n";
  }
}

}  // namespace

std::string RenderText(const ScanReport& report, bool color) {
  const Painter paint(color);
  std::ostringstream out;
  size_t counts[4] = {0, 0, 0, 0};
  for (const Outcome outcome : {Outcome::kDenied, Outcome::kWarned, Outcome::kAllowed, Outcome::kNotGoverned}) {
    for (const auto& r : report.results) {
      if (OutcomeOf(r) != outcome) continue;
      ++counts[static_cast<int>(outcome)];
      RenderObject(r, paint, out);
      if (outcome == Outcome::kDenied || outcome == Outcome::kWarned) out << "\n";
    }
  }
  if (report.results.empty()) out << "No Kubernetes objects to evaluate.\n";

  std::map<std::string, size_t> by_rule;
  for (const auto& r : report.results) {
    for (const auto& v : r.verdict.violations) ++by_rule[v.rule];
    for (const auto& [rule, n] : r.verdict.unlisted.by_rule) by_rule[rule] += n;
  }
  out << "\n" << paint(kBold, "Summary:") << " " << report.results.size() << " objects: ";
  out << paint(counts[0] ? kRed : kDim, std::to_string(counts[0]) + " denied") << ", ";
  out << paint(counts[1] ? kYellow : kDim, std::to_string(counts[1]) + " allowed with warnings") << ", ";
  out << paint(kGreen, std::to_string(counts[2] + counts[3]) + " allowed") << " (" << counts[3]
      << " not governed by pipeguard)";
  if (!report.skipped.empty()) {
    out << "; " << report.skipped.size() << (report.skipped.size() == 1 ? " document" : " documents")
        << (report.skipped.size() == 1 ? " skipped (not a Kubernetes object)" : " skipped (not Kubernetes objects)");
  }
  out << ".\n";
  if (!by_rule.empty()) {
    out << "Findings by rule:";
    bool first = true;
    for (const auto& [rule, n] : by_rule) {
      out << (first ? " " : ", ") << rule << " " << n;
      first = false;
    }
    out << ".\n";
  }
  return out.str();
}

}  // namespace pipeguard::cli
