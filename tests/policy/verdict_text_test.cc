// The one presentation of a verdict (policy/verdict_text.h) and the bounded-text helper it rests on.
#include "pipeguard/policy/verdict_text.h"

#include <gtest/gtest.h>

#include "pipeguard/base/text.h"

namespace pipeguard::policy {
namespace {

Violation MakeViolation(std::string rule, std::string path, std::string message, bool blocking, bool waived = false) {
  Violation v;
  v.rule = std::move(rule);
  v.path = std::move(path);
  v.message = std::move(message);
  v.blocking = blocking;
  v.waived = waived;
  return v;
}

TEST(TruncateUtf8, KeepsShortTextAndCutsLongTextOnACharacterBoundary) {
  EXPECT_EQ(base::TruncateUtf8("abc", 3), "abc");
  EXPECT_EQ(base::TruncateUtf8("abcdef", 5), "ab...");
  // "é" is two bytes: a cut that would split it moves before it.
  EXPECT_EQ(base::TruncateUtf8("a\xC3\xA9zzzz", 5), "a...");
  EXPECT_EQ(base::TruncateUtf8("ab\xC3\xA9zzzz", 7), "ab\xC3\xA9...");
  // Never longer than asked, even below the mark's length.
  EXPECT_EQ(base::TruncateUtf8("abcdef", 2), "..");
  EXPECT_EQ(base::TruncateUtf8("abcdef", 0), "");
}

TEST(VerdictText, FindingLineNamesRulePathAndMessage) {
  EXPECT_EQ(FindingLine(MakeViolation("break-glass", "/metadata/annotations/pipeguard.io~1break-glass-rules",
                                      "break-glass not honoured: the waiver has expired", false)),
            "break-glass at /metadata/annotations/pipeguard.io~1break-glass-rules: break-glass not honoured: the "
            "waiver has expired");
  EXPECT_EQ(FindingLine(MakeViolation("profile-guardrail", "", "spec.podSelector is required", true)),
            "profile-guardrail: spec.podSelector is required");
}

TEST(VerdictText, FindingLineBoundsPathAndMessage) {
  const std::string line = FindingLine(
      MakeViolation("plaintext-secret", "/" + std::string(1000, 'p'), "env var X " + std::string(1000, 'm'), true));
  EXPECT_EQ(line.size(),
            std::string("plaintext-secret at ").size() + kMaxFindingPathBytes + 2 + kMaxFindingMessageBytes);
  EXPECT_NE(line.find("ppp...: env var X mmm"), std::string::npos);
  EXPECT_EQ(line.substr(line.size() - 3), "...");
}

TEST(VerdictText, ModeLineAndContextSayWhereTheModeCameFrom) {
  Verdict verdict;
  verdict.mode = Mode::kAudit;
  verdict.mode_source = "namespace etl";
  EXPECT_EQ(ModeLine(verdict), "audit from namespace etl");
  EXPECT_EQ(ModeContext(verdict), "mode audit from namespace etl");
  verdict.mode = Mode::kEnforce;
  verdict.mode_source = "profile etl/loader";
  verdict.profiles = {"etl/loader", "etl/shared"};
  EXPECT_EQ(ModeContext(verdict), "mode enforce from profile etl/loader; profile etl/loader, etl/shared");
  verdict.mode_source.clear();
  EXPECT_EQ(ModeLine(verdict), "enforce");
  verdict.profiles.assign(100, "etl/" + std::string(40, 'n'));
  EXPECT_LE(ModeContext(verdict).size(), std::string("mode enforce; profile ").size() + kMaxProfileListBytes);
}

TEST(VerdictText, DenialSummaryCountsListedAndUnlistedDenials) {
  Verdict verdict;
  verdict.governed = true;
  verdict.allowed = false;
  verdict.mode_source = "config";
  verdict.violations = {MakeViolation("plaintext-secret", "/a", "m", true),
                        MakeViolation("insecure-transport", "/b", "m", false)};
  EXPECT_EQ(DenialSummary(verdict), "1 violation (mode enforce from config)");
  verdict.unlisted.count = 5;
  verdict.unlisted.denials = 4;
  verdict.profiles = {"etl/a"};
  EXPECT_EQ(DenialSummary(verdict), "5 violations (mode enforce from config; profile etl/a)");
}

TEST(VerdictText, DispositionFollowsModeBlockingAndWaiver) {
  Verdict enforce;
  Verdict audit;
  audit.mode = Mode::kAudit;
  const Violation blocking = MakeViolation("plaintext-secret", "/a", "m", true);
  const Violation low = MakeViolation("break-glass", "/b", "m", false);
  const Violation waived = MakeViolation("untrusted-registry", "/c", "m", true, true);
  EXPECT_EQ(DispositionOf(enforce, blocking), Disposition::kDenies);
  EXPECT_EQ(DispositionOf(audit, blocking), Disposition::kWouldDeny);
  EXPECT_EQ(DispositionOf(enforce, low), Disposition::kWarns);
  EXPECT_EQ(DispositionOf(audit, low), Disposition::kWarns);
  EXPECT_EQ(DispositionOf(enforce, waived), Disposition::kWaived);
  EXPECT_EQ(ToString(Disposition::kWouldDeny), "would-deny");
  EXPECT_EQ(Describe(Disposition::kWouldDeny), "audit (would deny)");
  EXPECT_EQ(Describe(Disposition::kWaived), "break-glass waived");
  EXPECT_EQ(Describe(Disposition::kWarns), "warning");
}

}  // namespace
}  // namespace pipeguard::policy
