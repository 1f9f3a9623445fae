// Bounded work and output per object (issue 9 item 3): a governed pod with 30,000 findings is denied on all of
// them, lists at most kMaxReportedViolations and counts the rest. (Its CPU cost is measured by
// bench/findings_scale, not timed here.)
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "pipeguard/base/thread_cpu.h"
#include "pipeguard/policy/config.h"
#include "pipeguard/policy/context.h"
#include "pipeguard/policy/engine.h"
#include "representative_pod.h"

namespace pipeguard::policy {
namespace {

using nlohmann::json;

constexpr int kFindings = 30000;

// A governed pod whose only container has `n` env vars that each hold a credentialed URI (one plaintext-secret
// finding each), plus one plain setting.
json PodWithCredentialedUris(int n) {
  json env = bench::CredentialedUriEnv(n);
  env.insert(env.begin(), json{{"name", "TARGET"}, {"value", "raw"}});
  return bench::GovernedPodWithEnv(std::move(env));
}

std::shared_ptr<const ContextSnapshot> Context(const std::string& config_yaml) {
  auto config = ParseConfig(config_yaml, "test");
  EXPECT_TRUE(config.ok()) << config.status().message();
  ContextSnapshotBuilder builder(std::move(config).value());
  const auto added = builder.Add(json::parse(R"({"apiVersion": "pipeguard.io/v1alpha1",
      "kind": "PipelineSecurityProfile", "metadata": {"name": "payments", "namespace": "etl"},
      "spec": {"podSelector": {"matchLabels": {"pipeguard.io/pipeline": "payments"}},
               "serviceAccount": {"name": "payments-etl"}}})"));
  EXPECT_TRUE(added.ok()) << added.status().message();
  return std::move(builder).Build();
}

constexpr const char* kEnforce = "images: {verify: false}";

RequestInfo Create() {
  RequestInfo request;
  request.namespace_ = "etl";
  return request;
}

TEST(EngineBounds, ThirtyThousandFindingsAreDeniedListedUpToTheCapAndCounted) {
  const Verdict verdict = Engine().Evaluate(PodWithCredentialedUris(kFindings), Create(), *Context(kEnforce));
  EXPECT_TRUE(verdict.governed);
  EXPECT_FALSE(verdict.allowed);
  ASSERT_EQ(verdict.violations.size(), kMaxReportedViolations);
  EXPECT_EQ(verdict.unlisted.count, kFindings - kMaxReportedViolations);
  EXPECT_EQ(verdict.unlisted.denials, kFindings - kMaxReportedViolations);
  ASSERT_EQ(verdict.unlisted.by_rule.size(), 1u);
  EXPECT_EQ(verdict.unlisted.by_rule.at(std::string(rules::kPlaintextSecret)), kFindings - kMaxReportedViolations);
  EXPECT_EQ(verdict.ViolationCount(), static_cast<size_t>(kFindings));
  EXPECT_EQ(verdict.DenialCount(), static_cast<size_t>(kFindings));
  std::string previous;
  for (const Violation& v : verdict.violations) {
    EXPECT_EQ(v.rule, rules::kPlaintextSecret);
    EXPECT_TRUE(v.blocking);
    EXPECT_GE(v.path, previous) << "listed violations are sorted by path";
    previous = v.path;
    EXPECT_EQ(v.message.find("Xq7-vR93pLm"), std::string::npos) << v.message;
  }
}

// Denials are listed before anything else, so a single denial among many warnings is never cut.
TEST(EngineBounds, ADenialIsListedAheadOfManyNonBlockingFindings) {
  json pod = PodWithCredentialedUris(0);
  json& env = pod["spec"]["containers"][0]["env"];
  // LOW findings (audit-only entropy) on 300 env vars, then one literal password.
  for (int i = 0; i < 300; ++i) {
    env.push_back(
        {{"name", "BLOB_" + std::to_string(i)}, {"value", "Zq8vT3nW6yB1kM4pR7sX0cF5hJ2lD9gAe" + std::to_string(i)}});
  }
  env.push_back({{"name", "ZZ_DB_PASSWORD"}, {"value", "Sup3r-S3cret-Passw0rd!"}});
  const Verdict verdict = Engine().Evaluate(pod, Create(), *Context(kEnforce));
  EXPECT_FALSE(verdict.allowed);
  ASSERT_EQ(verdict.violations.size(), kMaxReportedViolations);
  EXPECT_TRUE(verdict.violations[0].blocking);
  EXPECT_EQ(verdict.violations[0].path, "/spec/containers/0/env/301/value");
  EXPECT_FALSE(verdict.violations[1].blocking);
  EXPECT_EQ(verdict.DenialCount(), 1u);
  EXPECT_EQ(verdict.unlisted.denials, 0u);
  EXPECT_EQ(verdict.ViolationCount(), 301u);
}

// In audit mode nothing is denied, and the counts still cover every finding.
TEST(EngineBounds, AuditModeCountsEveryFindingAndAllows) {
  const Verdict verdict =
      Engine().Evaluate(PodWithCredentialedUris(500), Create(), *Context("mode: audit\nimages: {verify: false}"));
  EXPECT_TRUE(verdict.allowed);
  EXPECT_EQ(verdict.mode, Mode::kAudit);
  EXPECT_EQ(verdict.violations.size(), kMaxReportedViolations);
  EXPECT_EQ(verdict.ViolationCount(), 500u);
  EXPECT_TRUE(verdict.HasBlocking());
}

// At or under the cap nothing is unlisted.
TEST(EngineBounds, UpToTheCapEverythingIsListed) {
  const Verdict verdict = Engine().Evaluate(PodWithCredentialedUris(static_cast<int>(kMaxReportedViolations)), Create(),
                                            *Context(kEnforce));
  EXPECT_EQ(verdict.violations.size(), kMaxReportedViolations);
  EXPECT_EQ(verdict.unlisted.count, 0u);
  EXPECT_TRUE(verdict.unlisted.by_rule.empty());
}

// The work budget (issue 9 item 3): once it is exhausted the engine stops judging and denies, whatever the mode of
// the findings so far; a budget that never runs out changes nothing.
TEST(EngineBounds, AnExhaustedBudgetStopsJudgingAndDenies) {
  const auto context = Context(kEnforce);
  const json pod = PodWithCredentialedUris(kFindings);  // the review points into it
  const Review review = PrepareReview(pod, Create(), *context);
  int calls = 0;
  const WorkBudget budget{[&calls] { return ++calls > 10; }, "a test budget"};
  const Verdict verdict = Engine().Evaluate(review, {}, budget);
  EXPECT_FALSE(verdict.allowed);
  EXPECT_LT(verdict.ViolationCount(), static_cast<size_t>(kFindings));  // it stopped early
  EXPECT_LE(calls, 12);  // checked every Detector::kBudgetCheckInterval settings, not per setting
  bool reported = false;
  for (const Violation& v : verdict.violations) {
    if (v.rule != rules::kReviewBudget) continue;
    reported = true;
    EXPECT_EQ(v.severity, Severity::kCritical);
    EXPECT_TRUE(v.blocking);
    EXPECT_EQ(v.path, "/spec");
    EXPECT_NE(v.message.find("after a test budget"), std::string::npos) << v.message;
  }
  EXPECT_TRUE(reported);

  const Verdict unbounded = Engine().Evaluate(review);
  const Verdict generous = Engine().Evaluate(review, {}, WorkBudget{[] { return false; }, "never"});
  EXPECT_EQ(generous.ViolationCount(), unbounded.ViolationCount());
  EXPECT_EQ(generous.ViolationCount(), static_cast<size_t>(kFindings));
}

TEST(EngineBounds, TheThreadCpuBudgetStopsThirtyThousandFindings) {
  // Judging 30,000 findings costs tens of ms of CPU (bench/findings_scale); 1 ms of it cannot finish.
  const auto context = Context(kEnforce);
  const json pod = PodWithCredentialedUris(kFindings);  // the review points into it
  const Review review = PrepareReview(pod, Create(), *context);
  const Verdict verdict =
      Engine().Evaluate(review, {}, {base::CpuBudgetExhausted(std::chrono::milliseconds(1)), "1 ms of CPU"});
  EXPECT_FALSE(verdict.allowed);
  EXPECT_EQ(verdict.unlisted.by_rule.count(std::string(rules::kReviewBudget)), 0u);
  bool reported = false;
  for (const Violation& v : verdict.violations) reported |= v.rule == rules::kReviewBudget;
  EXPECT_TRUE(reported);
  // The representative pod fits easily in the default budget.
  const Verdict ordinary = Engine().Evaluate(bench::RepresentativeKpoPod(), Create(), *context);
  for (const Violation& v : ordinary.violations) EXPECT_NE(v.rule, rules::kReviewBudget);
}

TEST(EngineBounds, InAuditModeAnExhaustedBudgetIsReportedNotDenied) {
  const auto context = Context("mode: audit\nimages: {verify: false}");
  const json pod = PodWithCredentialedUris(500);
  const Review review = PrepareReview(pod, Create(), *context);
  const Verdict verdict = Engine().Evaluate(review, {}, WorkBudget{[] { return true; }, "nothing"});
  EXPECT_TRUE(verdict.allowed);
  bool reported = false;
  for (const Violation& v : verdict.violations) reported |= v.rule == rules::kReviewBudget && v.blocking;
  EXPECT_TRUE(reported);
}

}  // namespace
}  // namespace pipeguard::policy
