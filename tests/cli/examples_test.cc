// The bundled examples are the product's demo and documentation: every good one must be admitted, every bad one
// denied by the rule its comment names, and no planted secret may surface in any output format.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "cli_test_support.h"
#include "pipeguard/cli/output.h"
#include "pipeguard/cli/scan.h"
#include "pipeguard/manifest/documents.h"

namespace pipeguard::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace ::pipeguard::cli::testing;

ScanReport Scan(std::vector<std::string> inputs, std::vector<std::string> profiles = {kContext}) {
  ScanOptions options;
  options.config_path = kConfig;
  options.profile_paths = std::move(profiles);
  options.inputs = std::move(inputs);
  options.now_unix_seconds = kNow;
  std::istringstream no_input;
  auto report = RunScan(options, no_input);
  EXPECT_TRUE(report.ok()) << report.status().message();
  return report.ok() ? *report : ScanReport{};
}

std::set<std::string> Rules(const ScanResult& r) {
  std::set<std::string> rules;
  for (const auto& v : r.verdict.violations) rules.insert(v.rule);
  return rules;
}

TEST(Examples, EveryGoodExampleIsAdmitted) {
  const auto files = YamlFilesIn(kExamples + "/good");
  ASSERT_GE(files.size(), 6u);
  std::set<std::string> kinds;
  for (const auto& file : files) {
    const ScanReport report = Scan({file});
    ASSERT_FALSE(report.results.empty()) << file;
    for (const auto& r : report.results) {
      kinds.insert(r.kind);
      EXPECT_TRUE(r.verdict.allowed) << r.Source() << " " << r.ObjectName() << " was denied";
      EXPECT_TRUE(r.verdict.governed) << r.Source() << " " << r.ObjectName() << " is not governed";
      for (const auto& v : r.verdict.violations) {
        // Findings in good examples are only the deliberate audit-mode warning.
        EXPECT_EQ(r.verdict.mode, policy::Mode::kAudit) << r.Source() << ": " << v.rule << " " << v.message;
      }
    }
    EXPECT_EQ(report.ExitCode(), kExitAllowed) << file;
  }
  // The realistic mix the examples promise.
  EXPECT_THAT(kinds, ::testing::IsSupersetOf({"Pod", "SparkApplication", "CronJob", "Deployment", "ConfigMap"}));
}

TEST(Examples, GoodExamplesCarryTheRealAirflowAndSparkLabels) {
  auto kpo = manifest::LoadPath(kExamples + "/good/airflow-kpo-extract.yaml");
  ASSERT_TRUE(kpo.ok()) << kpo.status().message();
  const auto& labels = (*kpo)[0].object["metadata"]["labels"];
  EXPECT_EQ(labels["kubernetes_pod_operator"], "True");  // a string, as Airflow sets it
  for (const char* key : {"dag_id", "task_id", "run_id", "try_number", "airflow_version"}) {
    EXPECT_TRUE(labels.contains(key)) << key;
  }
  auto spark = manifest::LoadPath(kExamples + "/good/spark-submit-pods.yaml");
  ASSERT_TRUE(spark.ok()) << spark.status().message();
  ASSERT_EQ(spark->size(), 2u);
  EXPECT_EQ((*spark)[0].object["metadata"]["labels"]["spark-role"], "driver");
  EXPECT_EQ((*spark)[1].object["metadata"]["labels"]["spark-role"], "executor");
  EXPECT_THAT((*spark)[1].object.dump(), HasSubstr("SPARK_JAVA_OPT_0"));
}

TEST(Examples, EveryBadExampleIsDeniedByTheRuleItsCommentNames) {
  const auto files = YamlFilesIn(kExamples + "/bad");
  ASSERT_GE(files.size(), 11u);
  std::map<std::string, int> files_per_rule;
  for (const auto& file : files) {
    const std::string rule = ExpectedRule(file);
    ASSERT_FALSE(rule.empty()) << file << " lacks a '# expect: denied by RULE' comment";
    ++files_per_rule[rule];
    const ScanReport report = Scan({file});
    ASSERT_EQ(report.results.size(), 1u) << file << ": one object per bad example";
    const ScanResult& r = report.results[0];
    EXPECT_TRUE(r.verdict.governed) << file;
    EXPECT_FALSE(r.verdict.allowed) << file << " was admitted";
    EXPECT_EQ(report.ExitCode(), kExitDenied) << file;
    EXPECT_TRUE(Rules(r).count(rule)) << file << " has no " << rule << " finding";
    if (rule == policy::rules::kBreakGlass) {
      // The refused waiver is reported, and the violation it tried to waive still denies.
      ASSERT_FALSE(r.verdict.Denials().empty());
      for (const auto& v : r.verdict.violations) EXPECT_FALSE(v.waived) << file;
      continue;
    }
    // The named rule is what denies, and it is the only rule that fires: each file shows one mistake.
    for (const auto* v : r.verdict.Denials()) EXPECT_EQ(v->rule, rule) << file << ": " << v->message;
    EXPECT_EQ(Rules(r), std::set<std::string>{rule}) << file;
  }
  // Together the bad examples cover every admission rule this release enforces offline.
  for (const char* rule : {"plaintext-secret", "insecure-transport", "untrusted-registry", "service-account-scope",
                           "missing-profile", "break-glass"}) {
    EXPECT_GT(files_per_rule[rule], 0) << "no bad example for " << rule;
  }
}

TEST(Examples, ScanningTheWholeExamplesDirectoryUsesItsOwnContext) {
  // No --profiles: the context objects under examples/context are found among the scanned documents.
  const ScanReport report = Scan({kExamples}, {});
  size_t denied = 0, profiles = 0;
  for (const auto& r : report.results) {
    denied += r.verdict.allowed ? 0 : 1;
    profiles += r.kind == "PipelineSecurityProfile" ? 1 : 0;
    EXPECT_NE(r.kind, "Namespace");  // context objects are not results
    EXPECT_NE(r.kind, "ClusterRoleBinding");
    EXPECT_EQ(r.file.find("/bad/") != std::string::npos, !r.verdict.allowed) << r.Source();
  }
  EXPECT_EQ(denied, YamlFilesIn(kExamples + "/bad").size());
  EXPECT_EQ(profiles, 6u);               // profiles are reported: the engine validates them
  ASSERT_EQ(report.skipped.size(), 1u);  // examples/config.yaml is not a Kubernetes object
  EXPECT_THAT(report.skipped[0].file, HasSubstr("config.yaml"));
  EXPECT_GT(report.context_objects, 10u);
}

TEST(Examples, PlantedSecretsAreInTheExamplesButInNoOutputFormat) {
  std::string all_bad;
  for (const auto& file : YamlFilesIn(kExamples + "/bad")) all_bad += ReadText(file);
  for (const auto& secret : PlantedSecrets()) ASSERT_THAT(all_bad, HasSubstr(secret)) << "test data drifted";

  const ScanReport report = Scan({kExamples + "/bad"});
  for (auto format : {OutputFormat::kText, OutputFormat::kJson, OutputFormat::kSarif, OutputFormat::kJunit}) {
    for (bool color : {false, true}) {
      const std::string output = Render(report, format, color);
      ASSERT_FALSE(output.empty());
      for (const auto& secret : PlantedSecrets()) {
        EXPECT_THAT(output, Not(HasSubstr(secret))) << "format " << static_cast<int>(format);
      }
    }
  }
  for (const auto& note : report.notes) {
    for (const auto& secret : PlantedSecrets()) EXPECT_THAT(note, Not(HasSubstr(secret)));
  }
}

TEST(Examples, NoFlaggedValueAppearsInAnyOutputFormat) {
  // Generic form of the test above: whatever value a plaintext-secret finding points at stays out of the output.
  const ScanReport report = Scan({kExamples + "/bad"});
  std::vector<std::string> flagged;
  for (const auto& r : report.results) {
    auto documents = manifest::LoadPath(r.file);
    ASSERT_TRUE(documents.ok());
    const auto& object = (*documents)[0].object;
    for (const auto& v : r.verdict.violations) {
      if (v.rule != policy::rules::kPlaintextSecret) continue;
      const auto pointer = nlohmann::json::json_pointer(v.path);
      ASSERT_TRUE(object.contains(pointer)) << v.path;
      flagged.push_back(object.at(pointer).get<std::string>());
    }
  }
  ASSERT_GE(flagged.size(), 5u);
  for (auto format : {OutputFormat::kText, OutputFormat::kJson, OutputFormat::kSarif, OutputFormat::kJunit}) {
    const std::string output = Render(report, format, false);
    for (const auto& value : flagged) EXPECT_THAT(output, Not(HasSubstr(value)));
  }
}

}  // namespace
}  // namespace pipeguard::cli
