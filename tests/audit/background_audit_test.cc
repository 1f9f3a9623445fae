// The background audit over the in-memory FakeKubeClient: stored objects become PolicyReports, fixes and deletions
// reach the report, a pass with nothing new writes nothing, a report edited by someone else is restored, and the
// context's changes re-judge only the namespaces they touch. (Against a real API server:
// tests/integration/background_audit_test.sh.)
#include "pipeguard/audit/background_audit.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "pipeguard/audit/evaluate.h"
#include "pipeguard/kube/errors.h"
#include "pipeguard/kube/fake_client.h"
#include "pipeguard/policy/context.h"

namespace pipeguard::audit {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr auto kWait = 10s;

// A context whose snapshot the test replaces.
class SwappableContext final : public policy::ContextProvider {
 public:
  explicit SwappableContext(std::shared_ptr<const policy::ContextSnapshot> snapshot) : current_(std::move(snapshot)) {}
  std::shared_ptr<const policy::ContextSnapshot> Current() const override { return current_.load(); }
  void Set(std::shared_ptr<const policy::ContextSnapshot> snapshot) { current_.store(std::move(snapshot)); }

 private:
  std::atomic<std::shared_ptr<const policy::ContextSnapshot>> current_;
};

policy::Config TestConfig(policy::Mode mode = policy::Mode::kEnforce) {
  policy::Config config = policy::DefaultConfig();
  config.images.verify = false;
  config.mode = mode;
  return config;
}

// The context: one profile in "etl" selecting the payments pipeline's pods.
std::shared_ptr<const policy::ContextSnapshot> Snapshot(policy::Mode mode = policy::Mode::kEnforce) {
  policy::ContextSnapshotBuilder builder(TestConfig(mode));
  const json profile = {{"apiVersion", "pipeguard.io/v1alpha1"},
                        {"kind", "PipelineSecurityProfile"},
                        {"metadata", {{"name", "payments"}, {"namespace", "etl"}}},
                        {"spec",
                         {{"serviceAccount", {{"name", "payments"}}},
                          {"podSelector", {{"matchLabels", {{"pipeguard.io/pipeline", "payments"}}}}}}}};
  EXPECT_TRUE(builder.Add(profile).ok());
  return std::move(builder).Build();
}

json PipelinePod(const std::string& ns, const std::string& name, const std::string& password_value) {
  json env = json::array({{{"name", "LOG_LEVEL"}, {"value", "info"}}});
  if (!password_value.empty()) env.push_back({{"name", "DB_PASSWORD"}, {"value", password_value}});
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"labels", {{"pipeguard.io/pipeline", "payments"}}}}},
          {"spec",
           {{"serviceAccountName", "payments"},
            {"containers", json::array({{{"name", "main"}, {"image", "registry.local/etl:1"}, {"env", env}}})}}}};
}

class BackgroundAuditTest : public ::testing::Test {
 protected:
  void Start(BackgroundAuditOptions options = {}) {
    options.settle = 50ms;
    options.writes_per_second = 1000;
    options.spark_applications = false;
    options.watch_timeout_seconds = 5;
    options.report_label_selector = "";  // FakeKubeClient has no selectors
    audit_ = std::make_unique<BackgroundAudit>(client_, context_, engine_, ImageVerdictsForSnapshot(), options);
    audit_->Start();
  }
  void Create(const json& object) {
    ASSERT_TRUE(
        client_.Create(kube::resources::Pods(), object["metadata"]["namespace"].get<std::string>(), object).ok());
  }
  // Waits until the stored report of `ns` satisfies `ready` (or kWait passes); returns the last one read.
  json WaitForReport(const std::string& ns, const std::function<bool(const StatusOr<json>&)>& ready) {
    const auto until = std::chrono::steady_clock::now() + kWait;
    StatusOr<json> report = client_.Get(kube::resources::PolicyReports(), ns, "pipeguard");
    while (!ready(report) && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(20ms);
      report = client_.Get(kube::resources::PolicyReports(), ns, "pipeguard");
    }
    EXPECT_TRUE(ready(report)) << (report.ok() ? report->dump() : report.status().message());
    return report.ok() ? *report : json();
  }
  static auto Summary(const std::string& key, int value) {
    return [key, value](const StatusOr<json>& report) {
      return report.ok() && (*report)["summary"].value(key, -1) == value;
    };
  }

  kube::FakeKubeClient client_;
  SwappableContext context_{Snapshot()};
  policy::Engine engine_;
  // Declared before audit_ so that they outlive its threads (members are destroyed in reverse order; as test-body
  // locals they were destroyed while the audit could still record into them, and a CI run crashed on that).
  prometheus::Registry registry_;
  AuditMetrics metrics_{registry_};
  std::unique_ptr<BackgroundAudit> audit_;
};

TEST_F(BackgroundAuditTest, ObjectsStoredBeforeTheAuditStartedAreReportedAndFixesReachTheReport) {
  Create(PipelinePod("etl", "loader", "s3cr3t-Passw0rd-x9"));
  Create(PipelinePod("etl", "clean", ""));
  Start();
  json report = WaitForReport("etl", Summary("fail", 1));
  EXPECT_EQ(report["summary"]["pass"], 1);
  const json& failure = report["results"][0];
  EXPECT_EQ(failure["rule"], "plaintext-secret");
  EXPECT_EQ(failure["resources"][0]["name"], "loader");
  EXPECT_EQ(report.dump().find("s3cr3t-Passw0rd-x9"), std::string::npos) << "a secret value reached the report";

  // The fix: the result goes, the report stays (one pass result per clean object).
  json fixed = PipelinePod("etl", "loader", "");
  fixed["metadata"]["resourceVersion"] =
      client_.Get(kube::resources::Pods(), "etl", "loader")->at("metadata").at("resourceVersion");
  ASSERT_TRUE(client_.Update(kube::resources::Pods(), "etl", fixed).ok());
  report = WaitForReport("etl", Summary("fail", 0));
  EXPECT_EQ(report["summary"]["pass"], 2);

  // Nothing governed left: the report is deleted.
  ASSERT_TRUE(client_.Delete(kube::resources::Pods(), "etl", "loader").ok());
  ASSERT_TRUE(client_.Delete(kube::resources::Pods(), "etl", "clean").ok());
  WaitForReport("etl", [](const StatusOr<json>& r) { return !r.ok() && kube::IsNotFound(r.status()); });
}

TEST_F(BackgroundAuditTest, APassWithNothingNewWritesNothingAndAForeignEditIsRestored) {
  Create(PipelinePod("etl", "loader", "s3cr3t-Passw0rd-x9"));
  BackgroundAuditOptions options;
  options.period = 200ms;  // several full passes during the test
  Start(options);
  json report = WaitForReport("etl", Summary("fail", 1));
  ASSERT_TRUE(audit_->WaitIdle(kWait));
  const AuditStats settled = audit_->Stats();
  // Full passes go on (period 200 ms) and judge the namespace again, but nothing a reader sees changes.
  const auto until = std::chrono::steady_clock::now() + 1s;
  while (audit_->Stats().passes < settled.passes + 3 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(20ms);
  }
  const AuditStats later = audit_->Stats();
  EXPECT_GE(later.passes, settled.passes + 3);
  EXPECT_EQ(later.creates, 1u);
  EXPECT_EQ(later.updates, settled.updates) << "a pass with nothing new wrote the report";

  // Someone empties the report: the audit puts the failure back.
  report["results"] = json::array();
  report["summary"]["fail"] = 0;
  ASSERT_TRUE(client_.Update(kube::resources::PolicyReports(), "etl", report).ok());
  WaitForReport("etl", Summary("fail", 1));
  // Someone deletes it: it comes back.
  ASSERT_TRUE(client_.Delete(kube::resources::PolicyReports(), "etl", "pipeguard").ok());
  WaitForReport("etl", Summary("fail", 1));
}

TEST_F(BackgroundAuditTest, AContextChangeRejudgesWhatItTouches) {
  Create(PipelinePod("etl", "loader", "s3cr3t-Passw0rd-x9"));
  Start();
  WaitForReport("etl", Summary("fail", 1));
  // The platform switches to audit mode: the same finding is now a warning.
  context_.Set(Snapshot(policy::Mode::kAudit));
  json report = WaitForReport("etl", Summary("warn", 1));
  EXPECT_EQ(report["summary"]["fail"], 0);
}

TEST_F(BackgroundAuditTest, MetricsCountViolationsByNamespaceAndRule) {
  Create(PipelinePod("etl", "loader", "s3cr3t-Passw0rd-x9"));
  BackgroundAuditOptions options;
  options.metrics = &metrics_;
  Start(options);
  WaitForReport("etl", Summary("fail", 1));
  ASSERT_TRUE(audit_->WaitIdle(kWait));
  const std::string text = prometheus::TextSerializer().Serialize(registry_.Collect());
  EXPECT_NE(text.find(R"(pipeguard_audit_violations{namespace="etl",result="fail",rule="plaintext-secret"} 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(pipeguard_audit_oldest_violation_age_seconds{namespace="etl"})"), std::string::npos);
  EXPECT_NE(text.find("pipeguard_audit_leader 1"), std::string::npos);
  EXPECT_EQ(text.find("pipeguard_audit_last_pass_timestamp_seconds 0"), std::string::npos) << "no pass recorded";

  // Fixed: the namespace's violation series go away.
  ASSERT_TRUE(client_.Delete(kube::resources::Pods(), "etl", "loader").ok());
  WaitForReport("etl", [](const StatusOr<json>& r) { return !r.ok(); });
  ASSERT_TRUE(audit_->WaitIdle(kWait));
  const std::string after = prometheus::TextSerializer().Serialize(registry_.Collect());
  EXPECT_EQ(after.find(R"(pipeguard_audit_violations{namespace="etl")"), std::string::npos) << after;
}

TEST(JudgedThroughItsOwner, ControlledPodsAndJobsAreJudgedOnTheirOwners) {
  auto owned = [](const std::string& kind, const std::string& owner_kind, bool controller) {
    return json{
        {"kind", kind},
        {"metadata",
         {{"ownerReferences", json::array({{{"kind", owner_kind}, {"name", "x"}, {"controller", controller}}})}}}};
  };
  EXPECT_TRUE(JudgedThroughItsOwner(owned("Pod", "ReplicaSet", true)));
  EXPECT_TRUE(JudgedThroughItsOwner(owned("Pod", "Job", true)));
  EXPECT_TRUE(JudgedThroughItsOwner(owned("Pod", "Pod", true)));  // Spark executors, owned by their driver
  EXPECT_TRUE(JudgedThroughItsOwner(owned("Job", "CronJob", true)));
  EXPECT_FALSE(JudgedThroughItsOwner(owned("Pod", "ReplicaSet", false)));  // an owner that does not control it
  EXPECT_FALSE(JudgedThroughItsOwner(owned("Pod", "StatefulSet", true)));  // not an audited kind: judged itself
  EXPECT_FALSE(JudgedThroughItsOwner(json{{"kind", "Pod"}, {"metadata", {{"name", "bare"}}}}));
  EXPECT_FALSE(JudgedThroughItsOwner(json::array()));
}

// A stored pod is judged with the ConfigMaps it mounts, as at admission: from the lookup the audit passes (its
// context provider's ConfigMaps), else from the snapshot's.
TEST(EvaluateStoredObjects, APodIsJudgedWithTheConfigMapItMounts) {
  json pod = PipelinePod("etl", "dbt", "");
  pod["spec"]["volumes"] = json::array({{{"name", "p"}, {"configMap", {{"name", "dbt-profiles"}}}}});
  const auto config_map = std::make_shared<const json>(
      json{{"apiVersion", "v1"},
           {"kind", "ConfigMap"},
           {"metadata", {{"name", "dbt-profiles"}, {"namespace", "etl"}}},
           {"data", {{"profiles.yml", "etl:\n  outputs:\n    prod: {password: Wh4reh0useDbt2026}\n"}}}});
  const policy::Engine engine;
  const auto snapshot = Snapshot();
  auto mounted_denial = [](const std::vector<report::EvaluatedObject>& evaluated) {
    if (evaluated.size() != 1) return false;
    for (const auto& v : evaluated[0].verdict.violations) {
      if (v.rule == "plaintext-secret" && v.path == "/spec/volumes/0/configMap/name") return true;
    }
    return false;
  };
  EXPECT_FALSE(mounted_denial(EvaluateStoredObjects({&pod}, *snapshot, engine, {}, 0)));  // no ConfigMap known
  const policy::ConfigMapLookup lookup = [&](const std::string& ns, const std::string& name) {
    return ns == "etl" && name == "dbt-profiles" ? config_map : nullptr;
  };
  EXPECT_TRUE(mounted_denial(EvaluateStoredObjects({&pod}, *snapshot, engine, {}, 0, lookup)));
}

}  // namespace
}  // namespace pipeguard::audit
