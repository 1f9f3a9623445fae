// One profile grammar, three entrances. Every PipelineSecurityProfile fixture of the repository (any object of that
// kind in examples/, tests/ and e2e/data, and every case of the operator's grammar table) goes through
//  - admission: policy::Engine::Evaluate of the profile object, as the webhook calls it;
//  - `pipeguard scan` (cli::Main in-process, the profile on standard input);
//  - the operator: desired::ReviewProfile, which its reconciler runs before any write;
// once without guardrails (the grammar alone) and once with the same guardrails file for all three. They must
// accept and reject the same profiles, at the same fields.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "cli_test_support.h"
#include "pipeguard/cli/scan.h"
#include "pipeguard/desired/profile_review.h"
#include "pipeguard/guardrails/config.h"
#include "pipeguard/guardrails/guardrails.h"
#include "pipeguard/manifest/documents.h"
#include "pipeguard/policy/config.h"
#include "pipeguard/policy/engine.h"

namespace pipeguard::cli {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const std::string kOfflineConfig = testing::kCliData + "/offline-config.yaml";
const std::string kOperatorConfig = testing::kCliData + "/guardrails/operator.yaml";

struct Fixture {
  std::string source;
  json object;
};

void CollectProfiles(const json& value, const std::string& source, std::set<std::string>& seen,
                     std::vector<Fixture>& out) {
  if (value.is_object()) {
    const auto kind = value.find("kind");
    if (kind != value.end() && *kind == "PipelineSecurityProfile" && value.contains("apiVersion")) {
      if (seen.insert(value.dump()).second) out.push_back({source, value});
    }
    for (const auto& [key, child] : value.items()) CollectProfiles(child, source, seen, out);
  } else if (value.is_array()) {
    for (const auto& child : value) CollectProfiles(child, source, seen, out);
  }
}

// The profile objects anywhere in the repository's YAML and JSON fixtures (files that do not parse are skipped:
// some are malformed on purpose), plus the operator's grammar table (base profile with each case's patches).
std::vector<Fixture> AllProfileFixtures() {
  std::vector<Fixture> out;
  std::set<std::string> seen;
  for (const std::string dir : {"examples", "tests", "e2e/data"}) {
    for (const auto& entry : fs::recursive_directory_iterator(testing::kSourceDir + "/" + dir)) {
      const std::string ext = entry.path().extension().string();
      if (!entry.is_regular_file() || (ext != ".yaml" && ext != ".yml" && ext != ".json")) continue;
      auto documents = manifest::ParseDocuments(testing::ReadText(entry.path().string()), entry.path().string());
      if (!documents.ok()) continue;
      for (const auto& d : *documents) CollectProfiles(d.object, d.file + ":" + std::to_string(d.line), seen, out);
    }
  }
  const std::string table = std::string(PIPEGUARD_TEST_DATA) + "/operator/data/profiles.yaml";
  auto documents = manifest::ParseDocuments(testing::ReadText(table), table);
  EXPECT_TRUE(documents.ok()) << documents.status().message();
  if (documents.ok()) {
    const json& root = (*documents)[0].object;
    for (const auto& c : root["cases"]) {
      json profile = root["base"];
      if (c.contains("root")) profile.merge_patch(c["root"]);
      if (c.contains("metadata")) profile["metadata"].merge_patch(c["metadata"]);
      if (c.contains("spec")) profile["spec"].merge_patch(c["spec"]);
      // A case that is not of the profile kind at all reaches no entrance as a profile (the webhook sees a Pod).
      if (profile["kind"] != "PipelineSecurityProfile") continue;
      if (seen.insert(profile.dump()).second) out.push_back({table + ": " + c["name"].get<std::string>(), profile});
    }
  }
  return out;
}

// What an entrance answered: allowed or not, and the JSON pointers of the problems (sorted, unique).
struct Answer {
  bool allowed = false;
  std::set<std::string> paths;
  bool operator==(const Answer&) const = default;
};

std::string Describe(const Answer& a) {
  std::string out = a.allowed ? "allowed" : "denied";
  for (const auto& p : a.paths) out.append(" ").append(p.empty() ? "/" : p);
  return out;
}

Answer FromEngine(const policy::Engine& engine, const policy::Config& config, const json& object) {
  const auto snapshot = policy::ContextSnapshotBuilder(config).Build();
  policy::RequestInfo request;
  request.kind = "PipelineSecurityProfile";
  request.namespace_ = "default";
  request.now_unix_seconds = testing::kNow;
  const policy::Verdict verdict = engine.Evaluate(object, request, *snapshot);
  Answer a{verdict.allowed, {}};
  for (const auto& v : verdict.violations) a.paths.insert(v.path);
  return a;
}

Answer FromScan(const json& object, bool with_guardrails) {
  std::vector<std::string> args = {"scan", "--config", kOfflineConfig, "-o", "json"};
  if (with_guardrails) args.insert(args.end(), {"--guardrails-config", kOperatorConfig});
  args.push_back("-");
  const auto result = testing::RunInProcess(args, object.dump());
  Answer a;
  const json out = json::parse(result.out, nullptr, /*allow_exceptions=*/false);
  if (out.is_discarded() || !out.contains("results") || out["results"].size() != 1) {
    ADD_FAILURE() << "scan gave exit " << result.exit_code << ": " << result.out << result.err;
    return a;
  }
  a.allowed = result.exit_code == kExitAllowed && out["results"][0]["allowed"] == true;
  for (const auto& v : out["results"][0]["violations"]) a.paths.insert(v["path"].get<std::string>());
  return a;
}

Answer FromOperator(const desired::ProfileReview& review, bool with_guardrails) {
  Answer a;
  for (const auto& p : review.grammar) a.paths.insert(p.path);
  if (with_guardrails) {
    for (const auto& p : review.guardrails) a.paths.insert(p.path);
  }
  a.allowed = a.paths.empty();
  return a;
}

TEST(ProfileEntrances, EveryFixtureGetsTheSameAnswerFromAdmissionScanAndTheOperator) {
  auto config = policy::ParseConfig(testing::ReadText(kOfflineConfig), kOfflineConfig);
  ASSERT_TRUE(config.ok()) << config.status().message();
  auto operator_config = guardrails::ParseOperatorConfig(testing::ReadText(kOperatorConfig), kOperatorConfig);
  ASSERT_TRUE(operator_config.ok()) << operator_config.status().message();
  const policy::Engine grammar_only;
  const policy::Engine with_guardrails(guardrails::GuardrailsProfileCheck(operator_config->guardrails));

  const std::vector<Fixture> fixtures = AllProfileFixtures();
  ASSERT_GE(fixtures.size(), 40u);  // the grammar table alone has more; a lower count means the walk broke
  int accepted = 0, rejected = 0;
  for (const auto& f : fixtures) {
    SCOPED_TRACE(f.source + ": " + f.object.dump().substr(0, 300));
    const desired::ProfileReview review = desired::ReviewProfile(f.object, *operator_config);

    const Answer admission = FromEngine(grammar_only, *config, f.object);
    EXPECT_EQ(Describe(admission), Describe(FromScan(f.object, false)));
    EXPECT_EQ(Describe(admission), Describe(FromOperator(review, false)));

    const Answer guarded = FromEngine(with_guardrails, *config, f.object);
    EXPECT_EQ(Describe(guarded), Describe(FromScan(f.object, true)));
    EXPECT_EQ(Describe(guarded), Describe(FromOperator(review, true)));
    (guarded.allowed ? accepted : rejected)++;
  }
  // The fixtures exercise both answers.
  std::cout << fixtures.size() << " profile fixtures: " << accepted << " accepted, " << rejected << " rejected\n";
  EXPECT_GT(accepted, 10);
  EXPECT_GT(rejected, 20);
}

// One answer per profile: `s3:*` on `*` without an S3 write key breaks the grammar (the key) and the guardrails
// (Resource "*" with S3 actions when only some buckets are allowed); all three entrances report both at once.
TEST(ProfileEntrances, AProfileIsRefusedOnceForEveryProblem) {
  const json profile = json::parse(R"({
    "apiVersion": "pipeguard.io/v1alpha1", "kind": "PipelineSecurityProfile",
    "metadata": {"name": "greedy", "namespace": "etl"},
    "spec": {"podSelector": {}, "serviceAccount": {"name": "greedy"},
             "aws": {"additionalStatements": [{"sid": "All", "effect": "Allow", "actions": ["s3:*"],
                                               "resources": ["*"]}]}}})");
  auto operator_config = guardrails::ParseOperatorConfig(testing::ReadText(kOperatorConfig), kOperatorConfig);
  ASSERT_TRUE(operator_config.ok()) << operator_config.status().message();
  auto config = policy::ParseConfig(testing::ReadText(kOfflineConfig), kOfflineConfig);
  ASSERT_TRUE(config.ok()) << config.status().message();

  const Answer expected{false,
                        {"/spec/aws/additionalStatements/0/actions/0", "/spec/aws/additionalStatements/0/resources/0"}};
  const policy::Engine engine(guardrails::GuardrailsProfileCheck(operator_config->guardrails));
  EXPECT_EQ(Describe(FromEngine(engine, *config, profile)), Describe(expected));
  EXPECT_EQ(Describe(FromScan(profile, true)), Describe(expected));
  const desired::ProfileReview review = desired::ReviewProfile(profile, *operator_config);
  EXPECT_EQ(Describe(FromOperator(review, true)), Describe(expected));
  ASSERT_EQ(review.grammar.size(), 1u);
  EXPECT_THAT(review.grammar[0].message, ::testing::HasSubstr("s3WriteKmsKeyArn"));
  ASSERT_EQ(review.guardrails.size(), 1u);
  EXPECT_THAT(review.guardrails[0].message, ::testing::HasSubstr("Resource \"*\" with S3 actions"));
}

}  // namespace
}  // namespace pipeguard::cli
