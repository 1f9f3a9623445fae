// Vocabulary shared by the policy engine and every adapter: severities, modes, violations and verdicts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pipeguard::policy {

// Stable rule IDs (DESIGN.md: add new IDs, never rename).
namespace rules {
inline constexpr std::string_view kUnsignedImage = "unsigned-image";
inline constexpr std::string_view kUntrustedRegistry = "untrusted-registry";
inline constexpr std::string_view kPlaintextSecret = "plaintext-secret";
inline constexpr std::string_view kInsecureTransport = "insecure-transport";
inline constexpr std::string_view kServiceAccountScope = "service-account-scope";
inline constexpr std::string_view kMissingProfile = "missing-profile";
inline constexpr std::string_view kProfileGuardrail = "profile-guardrail";
inline constexpr std::string_view kBreakGlass = "break-glass";  // a malformed or refused break-glass request
// A field the rules read has the wrong JSON type: the object cannot be evaluated, so it is denied (severity
// critical, never waived by break-glass).
inline constexpr std::string_view kMalformedObject = "malformed-object";
// The evaluation stopped when its work budget (Config::review_budget, or the caller's deadline) ran out: what was
// not judged is unknown, so the object is denied (severity critical, never waived by break-glass).
inline constexpr std::string_view kReviewBudget = "review-budget";
}  // namespace rules

enum class Severity : std::uint8_t { kInfo = 0, kLow, kMedium, kHigh, kCritical };
std::string_view ToString(Severity s);
std::optional<Severity> ParseSeverity(std::string_view s);

// enforce: blocking violations deny the request. audit: everything is allowed, findings become warnings.
enum class Mode : std::uint8_t { kEnforce, kAudit };
std::string_view ToString(Mode m);
std::optional<Mode> ParseMode(std::string_view s);

// One finding of one rule. `message` names the key and the detector but never contains a secret value.
struct Violation {
  std::string rule;  // a stable rule ID from `rules`
  Severity severity = Severity::kHigh;
  std::string path;       // RFC 6901 JSON pointer into the evaluated object, e.g. /spec/containers/1/env/3/value
  std::string message;    // what is wrong and how to fix it
  std::string detector;   // which detector fired, e.g. "SEC-080 generic-sensitive-name"; empty for structural rules
  bool blocking = false;  // set by the engine from severity and configuration; see Verdict
  bool waived = false;    // waived by a valid, honoured break-glass annotation
};

// At most this many violations are listed per object (Verdict::violations); the rest are only counted
// (Verdict::unlisted), so that the reply, the audit line and a scan report stay bounded whatever the object holds.
inline constexpr std::size_t kMaxReportedViolations = 100;

// The violations of one verdict beyond kMaxReportedViolations: counted, not listed.
struct UnlistedViolations {
  std::size_t count = 0;
  std::size_t denials = 0;                     // of which blocking and not waived
  std::map<std::string, std::size_t> by_rule;  // rule ID -> count
};

// The outcome of evaluating one object.
//  - governed=false: pipeguard does not govern the object; allowed is true and violations is empty.
//  - allowed: false only in enforce mode when at least one violation is blocking and not waived. Decided on every
//    finding, listed or not.
//  - violations: the findings, blocking ones first, in a stable order; at most kMaxReportedViolations of them, the
//    rest counted in `unlisted`. Since denials come first, every listed violation is a denial when the rest holds
//    one.
struct Verdict {
  bool governed = false;
  bool allowed = true;
  Mode mode = Mode::kEnforce;
  std::string mode_source;            // "config", "namespace", or "profile <ns>/<name>"
  std::vector<std::string> profiles;  // "<ns>/<name>" of the profiles that select the object
  std::vector<Violation> violations;
  UnlistedViolations unlisted;
  std::optional<std::string> break_glass_ticket;  // set when a break-glass waiver was honoured

  bool HasBlocking() const;
  // Listed violations that would deny in enforce mode (blocking and not waived).
  std::vector<const Violation*> Denials() const;
  // Every violation found, listed or not; and those that would deny in enforce mode.
  std::size_t ViolationCount() const { return violations.size() + unlisted.count; }
  std::size_t DenialCount() const;
};

}  // namespace pipeguard::policy
