// Engine's ProfileCheck hook: problems an outside check reports for a PipelineSecurityProfile become profile-guardrail
// violations at their paths, in the same verdict as the grammar's own problems; the hook never runs for other kinds.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipeguard/policy/config.h"
#include "pipeguard/policy/context.h"
#include "pipeguard/policy/engine.h"

namespace pipeguard::policy {
namespace {

using nlohmann::json;

json Profile() {
  return json::parse(R"({
    "apiVersion": "pipeguard.io/v1alpha1", "kind": "PipelineSecurityProfile",
    "metadata": {"name": "payments", "namespace": "etl"},
    "spec": {"podSelector": {"matchLabels": {"pipeguard.io/pipeline": "payments"}},
             "serviceAccount": {"name": "payments-etl"}}
  })");
}

std::shared_ptr<const ContextSnapshot> Context() { return ContextSnapshotBuilder(DefaultConfig()).Build(); }

RequestInfo Create() {
  RequestInfo request;
  request.namespace_ = "etl";
  return request;
}

TEST(EngineProfileCheck, EachProblemBecomesABlockingProfileGuardrailViolationAtItsPath) {
  int calls = 0;
  const Engine engine([&calls](const api::ParsedProfile& profile) {
    ++calls;
    EXPECT_EQ(profile.name, "payments");
    return std::vector<ProfileProblem>{{"/spec/network/egress/0/cidr", "egress to 0.0.0.0/0 is forbidden"},
                                       {"/spec/aws/additionalStatements/0/Action/0", "iam:* is forbidden"}};
  });
  const Verdict verdict = engine.Evaluate(Profile(), Create(), *Context());
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(verdict.governed);
  EXPECT_FALSE(verdict.allowed);
  ASSERT_EQ(verdict.violations.size(), 2u);
  for (const auto& v : verdict.violations) {
    EXPECT_EQ(v.rule, "profile-guardrail");
    EXPECT_EQ(v.severity, Severity::kHigh);
    EXPECT_TRUE(v.blocking);
  }
  // Sorted by path.
  EXPECT_EQ(verdict.violations[0].path, "/spec/aws/additionalStatements/0/Action/0");
  EXPECT_EQ(verdict.violations[0].message, "iam:* is forbidden");
  EXPECT_EQ(verdict.violations[1].path, "/spec/network/egress/0/cidr");
}

TEST(EngineProfileCheck, NoProblemsMeansAllowed) {
  const Engine engine([](const api::ParsedProfile&) { return std::vector<ProfileProblem>{}; });
  const Verdict verdict = engine.Evaluate(Profile(), Create(), *Context());
  EXPECT_TRUE(verdict.governed);
  EXPECT_TRUE(verdict.allowed);
  EXPECT_TRUE(verdict.violations.empty());
}

// One answer per profile: a profile with grammar problems still gets the check's findings in the same verdict (it
// used to be refused for its grammar alone, and for the guardrails only once that was fixed).
TEST(EngineProfileCheck, GrammarProblemsAndCheckFindingsComeInOneVerdict) {
  int calls = 0;
  const Engine engine([&calls](const api::ParsedProfile& profile) {
    ++calls;
    EXPECT_EQ(profile.service_account, "payments-etl");  // what could be read is there
    return std::vector<ProfileProblem>{{"/spec/network/egress/0/cidr", "egress to 0.0.0.0/0 is forbidden"}};
  });
  json broken = Profile();
  broken["spec"]["podSelector"] = "not a selector";
  const Verdict broken_verdict = engine.Evaluate(broken, Create(), *Context());
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(broken_verdict.allowed);
  ASSERT_EQ(broken_verdict.violations.size(), 2u);
  EXPECT_EQ(broken_verdict.violations[0].path, "/spec/network/egress/0/cidr");
  EXPECT_EQ(broken_verdict.violations[1].path, "/spec/podSelector");
  EXPECT_EQ(broken_verdict.violations[1].rule, "profile-guardrail");
}

TEST(EngineProfileCheck, NotCalledForOtherKinds) {
  int calls = 0;
  const Engine engine([&calls](const api::ParsedProfile&) {
    ++calls;
    return std::vector<ProfileProblem>{{"/spec", "should not appear"}};
  });
  const json pod = json::parse(R"({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "etl"},
                                   "spec": {"containers": [{"name": "c", "image": "nginx"}]}})");
  engine.Evaluate(pod, Create(), *Context());
  EXPECT_EQ(calls, 0);
}

TEST(EngineProfileCheck, DefaultEngineReportsNothingForAValidProfile) {
  const Engine engine;
  const Verdict verdict = engine.Evaluate(Profile(), Create(), *Context());
  EXPECT_TRUE(verdict.allowed);
  EXPECT_TRUE(verdict.violations.empty());
}

}  // namespace
}  // namespace pipeguard::policy
