// Engine's ProfileCheck hook: problems an outside check reports for a PipelineSecurityProfile become profile-guardrail
// violations at their paths; the hook never runs for unparseable profiles or for other kinds.
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
  const Engine engine([&calls](const json& profile) {
    ++calls;
    EXPECT_EQ(profile["metadata"]["name"], "payments");
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
  const Engine engine([](const json&) { return std::vector<ProfileProblem>{}; });
  const Verdict verdict = engine.Evaluate(Profile(), Create(), *Context());
  EXPECT_TRUE(verdict.governed);
  EXPECT_TRUE(verdict.allowed);
  EXPECT_TRUE(verdict.violations.empty());
}

TEST(EngineProfileCheck, NotCalledForUnparseableProfilesNorOtherKinds) {
  int calls = 0;
  const Engine engine([&calls](const json&) {
    ++calls;
    return std::vector<ProfileProblem>{{"/spec", "should not appear"}};
  });
  json broken = Profile();
  broken["spec"]["podSelector"] = "not a selector";
  const Verdict broken_verdict = engine.Evaluate(broken, Create(), *Context());
  EXPECT_FALSE(broken_verdict.allowed);
  ASSERT_FALSE(broken_verdict.violations.empty());
  EXPECT_NE(broken_verdict.violations[0].message, "should not appear");

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
