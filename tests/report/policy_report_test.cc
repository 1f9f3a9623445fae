// Verdicts as wgpolicyk8s.io/v1alpha2 PolicyReports: shape, outcomes, bounds, and writes only on change.
#include "pipeguard/report/policy_report.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pipeguard/policy/config.h"
#include "pipeguard/policy/context.h"
#include "pipeguard/policy/engine.h"

namespace pipeguard::report {
namespace {

using nlohmann::json;

policy::Violation Finding(std::string rule, std::string path, policy::Severity severity, bool blocking = true) {
  policy::Violation v;
  v.rule = std::move(rule);
  v.path = std::move(path);
  v.severity = severity;
  v.blocking = blocking;
  v.message = "literal secret in env var DB_PASSWORD; reference a Secret";
  return v;
}

EvaluatedObject Object(std::string namespace_, std::string name, std::vector<policy::Violation> violations,
                       policy::Mode mode = policy::Mode::kEnforce) {
  EvaluatedObject object;
  object.api_version = "batch/v1";
  object.kind = "CronJob";
  object.namespace_ = std::move(namespace_);
  object.name = std::move(name);
  object.uid = "uid-" + object.name;
  object.verdict.governed = true;
  object.verdict.mode = mode;
  object.verdict.mode_source = "config";
  object.verdict.profiles = {"etl/payments"};
  object.verdict.violations = std::move(violations);
  return object;
}

TEST(PolicyReport, OneReportPerNamespaceWithAResultPerObjectAndRule) {
  std::vector<EvaluatedObject> objects = {
      Object("etl", "nightly",
             {Finding("plaintext-secret", "/spec/jobTemplate/spec/template/spec/containers/0/env/0/value",
                      policy::Severity::kHigh),
              Finding("plaintext-secret", "/spec/jobTemplate/spec/template/spec/containers/0/env/3/value",
                      policy::Severity::kCritical),
              Finding("insecure-transport", "/spec/jobTemplate/spec/template/spec/containers/0/args/1",
                      policy::Severity::kMedium, /*blocking=*/false)}),
      Object("etl", "hourly", {}),
      Object("billing", "export", {}, policy::Mode::kAudit),
  };
  EvaluatedObject ungoverned = Object("etl", "other", {});
  ungoverned.verdict.governed = false;
  objects.push_back(ungoverned);

  const auto reports = BuildPolicyReports(objects, {.now_unix_seconds = 1800000000});
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0]["metadata"]["namespace"], "billing");
  const json& etl = reports[1];
  EXPECT_EQ(etl["apiVersion"], "wgpolicyk8s.io/v1alpha2");
  EXPECT_EQ(etl["kind"], "PolicyReport");
  EXPECT_EQ(etl["metadata"]["name"], "pipeguard");
  EXPECT_EQ(etl["summary"], json({{"pass", 1}, {"fail", 1}, {"warn", 1}, {"error", 0}, {"skip", 0}}));
  ASSERT_EQ(etl["results"].size(), 3u);  // the ungoverned object has none

  const json& fail = etl["results"][0];  // failures first
  EXPECT_EQ(fail["result"], "fail");
  EXPECT_EQ(fail["rule"], "plaintext-secret");
  EXPECT_EQ(fail["severity"], "critical");  // the highest of the rule's findings
  EXPECT_EQ(fail["source"], "pipeguard");
  EXPECT_EQ(fail["timestamp"], json({{"seconds", 1800000000}, {"nanos", 0}}));
  EXPECT_EQ(fail["resources"][0], json({{"apiVersion", "batch/v1"},
                                        {"kind", "CronJob"},
                                        {"namespace", "etl"},
                                        {"name", "nightly"},
                                        {"uid", "uid-nightly"}}));
  EXPECT_EQ(fail["properties"]["findings"], "2");
  EXPECT_NE(fail["properties"]["paths"].get<std::string>().find("/env/3/value"), std::string::npos);
  EXPECT_EQ(fail["properties"]["modeSource"], "config");
  EXPECT_EQ(etl["results"][1]["result"], "warn");  // not blocking
  EXPECT_EQ(etl["results"][2]["result"], "pass");
  EXPECT_EQ(etl["results"][2]["rule"], "all-rules");
  // Properties hold strings only (the CRD's map[string]string).
  for (const json& result : etl["results"]) {
    for (const auto& [key, value] : result["properties"].items()) EXPECT_TRUE(value.is_string()) << key;
  }
}

TEST(PolicyReport, AuditModeAndWaivedFindingsNeverFail) {
  policy::Violation waived = Finding("plaintext-secret", "/spec/x", policy::Severity::kHigh);
  waived.waived = true;
  const auto reports = BuildPolicyReports(
      {Object("etl", "a", {Finding("plaintext-secret", "/spec/y", policy::Severity::kHigh)}, policy::Mode::kAudit),
       Object("etl", "b", {waived})},
      {});
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0]["summary"]["fail"], 0);
  EXPECT_EQ(reports[0]["summary"]["warn"], 1);
  EXPECT_EQ(reports[0]["summary"]["pass"], 1);  // b: its only finding is waived
}

TEST(PolicyReport, ClusterScopedObjectsGoToTheClusterPolicyReport) {
  EvaluatedObject profile = Object("", "guardrails", {Finding("profile-guardrail", "/spec", policy::Severity::kHigh)});
  profile.kind = "PipelineSecurityProfile";
  const auto reports = BuildPolicyReports({profile}, {});
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0]["kind"], "ClusterPolicyReport");
  EXPECT_FALSE(reports[0]["metadata"].contains("namespace"));
  EXPECT_FALSE(reports[0]["results"][0]["resources"][0].contains("namespace"));
}

TEST(PolicyReport, ResultsAreBoundedAndTheSummaryCountsThemAll) {
  std::vector<EvaluatedObject> objects;
  for (int i = 0; i < 30; ++i) {
    objects.push_back(
        Object("etl", "job-" + std::to_string(i), {Finding("plaintext-secret", "/spec/a", policy::Severity::kHigh)}));
  }
  const auto reports = BuildPolicyReports(objects, {.max_results = 10});
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0]["results"].size(), 10u);
  EXPECT_EQ(reports[0]["summary"]["fail"], 30);
  EXPECT_EQ(reports[0]["metadata"]["annotations"]["pipeguard.io/unlisted-results"], "20");
}

TEST(PolicyReport, AnUnchangedPassNeedsNoWriteAndAChangeDoes) {
  const std::vector<EvaluatedObject> before = {
      Object("etl", "a", {Finding("plaintext-secret", "/spec/a", policy::Severity::kHigh)}), Object("etl", "b", {})};
  json stored = BuildPolicyReports(before, {.now_unix_seconds = 1000})[0];
  stored["metadata"]["resourceVersion"] = "42";  // server-set fields do not count
  stored["metadata"]["annotations"] = {{"kubectl.kubernetes.io/last-applied-configuration", "{}"}};

  json again = BuildPolicyReports(before, {.now_unix_seconds = 2000})[0];
  EXPECT_TRUE(NeedsWrite(stored, again));  // new timestamps only...
  CarryTimestamps(stored, again);
  EXPECT_FALSE(NeedsWrite(stored, again));  // ...which carrying over removes

  // Fixing object a: its failure goes, a pass appears with the new time, the unchanged pass keeps its time.
  json fixed = BuildPolicyReports({Object("etl", "a", {}), Object("etl", "b", {})}, {.now_unix_seconds = 3000})[0];
  CarryTimestamps(stored, fixed);
  EXPECT_TRUE(NeedsWrite(stored, fixed));
  EXPECT_EQ(fixed["summary"]["fail"], 0);
  EXPECT_EQ(fixed["results"][0]["timestamp"]["seconds"], 3000);  // a: new pass
  EXPECT_EQ(fixed["results"][1]["timestamp"]["seconds"], 1000);  // b: unchanged
  EXPECT_TRUE(NeedsWrite(json(), fixed));                        // nothing stored yet
}

// End to end with the real engine: a pod holding a literal secret is reported without the secret.
TEST(PolicyReport, NeverCarriesASecretValue) {
  const std::string secret = "s3cr3t-Value-9f8e7d6c5b4a";
  const json pod = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", "extract"}, {"namespace", "etl"}, {"labels", {{"pipeguard.io/pipeline", "payments"}}}}},
      {"spec",
       {{"containers",
         {{{"name", "main"},
           {"image", "registry.corp/etl:1"},
           {"env", {{{"name", "DB_PASSWORD"}, {"value", secret}}}},
           {"args", {"--url=postgresql://etl:" + secret + "@db:5432/x"}}}}}}}};
  const auto context = policy::ContextSnapshotBuilder(policy::DefaultConfig()).Build();
  policy::RequestInfo request;
  request.namespace_ = "etl";
  EvaluatedObject object{"v1", "Pod", "etl", "extract", "", policy::Engine().Evaluate(pod, request, *context)};
  ASSERT_TRUE(object.verdict.governed);
  const json report = BuildPolicyReports({object}, {})[0];
  EXPECT_GE(report["summary"]["fail"].get<int>() + report["summary"]["warn"].get<int>(), 1);
  const std::string dumped = report.dump();
  EXPECT_NE(dumped.find("/spec/containers/0/env/0/value"), std::string::npos) << dumped;
  EXPECT_EQ(dumped.find(secret), std::string::npos);
}

}  // namespace
}  // namespace pipeguard::report
