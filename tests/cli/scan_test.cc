// RunScan: inputs, context collection, List unpacking, errors and notes.
#include "pipeguard/cli/scan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "cli_test_support.h"

namespace pipeguard::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using namespace ::pipeguard::cli::testing;

const std::string kOfflineConfig = kCliData + "/offline-config.yaml";

StatusOr<ScanReport> ScanWith(ScanOptions options, const std::string& input = "") {
  if (options.config_path.empty()) options.config_path = kOfflineConfig;
  if (options.now_unix_seconds == 0) options.now_unix_seconds = kNow;
  std::istringstream in(input);
  return RunScan(options, in);
}

ScanReport MustScan(ScanOptions options, const std::string& input = "") {
  auto report = ScanWith(std::move(options), input);
  EXPECT_TRUE(report.ok()) << report.status().message();
  return report.ok() ? *report : ScanReport{};
}

const ScanResult* Find(const ScanReport& report, const std::string& name) {
  for (const auto& r : report.results) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

std::vector<std::string> RulesOf(const ScanResult& r) {
  std::vector<std::string> rules;
  for (const auto& v : r.verdict.violations) rules.push_back(v.rule);
  return rules;
}

TEST(RunScan, HelmTemplateOutputWithItsOwnContextObjects) {
  const ScanReport report = MustScan({.inputs = {kCliData + "/helm-release.yaml"}});
  // The ServiceAccount is context; the profile, the Service and the Deployment are results.
  ASSERT_EQ(report.results.size(), 3u);
  EXPECT_EQ(report.context_objects, 2u);  // ServiceAccount + profile
  EXPECT_EQ(report.results[0].kind, "PipelineSecurityProfile");
  EXPECT_TRUE(report.results[0].verdict.allowed);
  EXPECT_EQ(report.results[1].kind, "Service");
  EXPECT_FALSE(report.results[1].verdict.governed);
  const ScanResult& deployment = report.results[2];
  EXPECT_EQ(deployment.kind, "Deployment");
  EXPECT_EQ(deployment.line, 38);
  EXPECT_EQ(deployment.namespace_, "etl");
  EXPECT_FALSE(deployment.verdict.allowed);
  // The profile from the same stream selected the pod: the only problem is the token.
  EXPECT_THAT(RulesOf(deployment), ElementsAre("plaintext-secret"));
  EXPECT_EQ(deployment.verdict.profiles, std::vector<std::string>{"etl/ledger-tasks"});
  EXPECT_EQ(deployment.verdict.violations[0].path, "/spec/template/spec/containers/0/env/0/value");
  EXPECT_EQ(report.ExitCode(), kExitDenied);
}

TEST(RunScan, KubectlListItemsAreUnpackedAndKeepTheirIndex) {
  const ScanReport report = MustScan({.inputs = {kCliData + "/kubectl-get.yaml"}});
  ASSERT_EQ(report.results.size(), 4u);  // the profile, two pods, the ConfigMap
  for (const auto& r : report.results) EXPECT_EQ(r.line, 1);
  EXPECT_EQ(report.results[1].item_index, 1);
  const ScanResult* extract = Find(report, "nightly-extract-abc123");
  ASSERT_NE(extract, nullptr);
  EXPECT_TRUE(extract->verdict.allowed);
  EXPECT_EQ(extract->verdict.profiles, std::vector<std::string>{"etl/airflow-tasks"});  // from the same List
  const ScanResult* load = Find(report, "nightly-load-def456");
  ASSERT_NE(load, nullptr);
  EXPECT_FALSE(load->verdict.allowed);
  EXPECT_THAT(RulesOf(*load), ElementsAre("untrusted-registry"));
  const ScanResult* ca = Find(report, "kube-root-ca.crt");
  ASSERT_NE(ca, nullptr);
  EXPECT_FALSE(ca->verdict.governed);
}

TEST(RunScan, ContextFromProfilesFlagAndFromScannedDocumentsIsEquivalent) {
  const std::string pod = kExamples + "/bad/wrong-service-account.yaml";
  const ScanReport via_flag = MustScan({.profile_paths = {kContext}, .inputs = {pod}});
  const ScanReport via_inputs = MustScan({.inputs = {kContext, pod}});
  const ScanReport without_context = MustScan({.inputs = {pod}});
  ASSERT_EQ(via_flag.results.size(), 1u);
  const ScanResult* from_inputs = Find(via_inputs, "daily-ledger-export-archive-b7n3m0qe");
  ASSERT_NE(from_inputs, nullptr);
  EXPECT_EQ(RulesOf(via_flag.results[0]), RulesOf(*from_inputs));
  EXPECT_EQ(via_flag.results[0].verdict.allowed, from_inputs->verdict.allowed);
  EXPECT_THAT(RulesOf(via_flag.results[0]), ElementsAre("service-account-scope"));
  // Without the profiles the same pod is reported differently: the context really was used.
  EXPECT_THAT(RulesOf(without_context.results[0]), ElementsAre("missing-profile"));
}

TEST(RunScan, ClusterConfigMapsFromProfilesFlagAreJudgedWithThePodsThatMountThem) {
  const std::string config_maps = kCliData + "/mounted/cluster-configmaps.yaml";
  const std::string pod = kCliData + "/mounted/dbt-pod.yaml";
  const ScanReport with_config_maps = MustScan({.profile_paths = {config_maps}, .inputs = {pod}});
  ASSERT_EQ(with_config_maps.results.size(), 1u);  // the ConfigMap is context, not a result
  EXPECT_EQ(with_config_maps.context_objects, 1u);
  const ScanResult& judged = with_config_maps.results[0];
  EXPECT_FALSE(judged.verdict.allowed);
  bool at_volume = false;
  for (const auto& v : judged.verdict.violations) {
    at_volume |= v.rule == "plaintext-secret" && v.path == "/spec/volumes/0/configMap/name";
    EXPECT_THAT(v.message, Not(HasSubstr("Wh4reh0useCliScan")));
  }
  EXPECT_TRUE(at_volume);
  for (const auto& note : with_config_maps.notes) EXPECT_THAT(note, Not(HasSubstr("ignored")));
  // Without them the ConfigMap is unknown and its file goes unjudged: the context really was used.
  const ScanReport without = MustScan({.inputs = {pod}});
  ASSERT_EQ(without.results.size(), 1u);
  for (const auto& v : without.results[0].verdict.violations) EXPECT_NE(v.path, "/spec/volumes/0/configMap/name");
}

TEST(RunScan, TheSameContextGivenTwiceIsCountedOnce) {
  const ScanReport report =
      MustScan({.profile_paths = {kContext}, .inputs = {kContext, kExamples + "/bad/wrong-service-account.yaml"}});
  const ScanResult* pod = Find(report, "daily-ledger-export-archive-b7n3m0qe");
  ASSERT_NE(pod, nullptr);
  EXPECT_EQ(pod->verdict.violations.size(), 1u);  // not one per copy of the profile
  for (const auto& note : report.notes) EXPECT_THAT(note, Not(HasSubstr("defined again")));
}

TEST(RunScan, ADifferentRedefinitionOfAContextObjectIsNoted) {
  const std::string redefined =
      "apiVersion: pipeguard.io/v1alpha1\nkind: PipelineSecurityProfile\nmetadata: {name: airflow-tasks, namespace: "
      "data-pipelines}\nspec: {podSelector: {}, serviceAccount: {name: someone-else}}\n";
  const ScanReport report = MustScan({.profile_paths = {kContext}, .inputs = {"-"}}, redefined);
  bool noted = false;
  for (const auto& note : report.notes) noted |= note.find("defined again, differently") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST(RunScan, StandardInputIsReadOnceAndNamedDash) {
  const std::string pod = ReadText(kExamples + "/bad/untrusted-registry.yaml");
  const ScanReport report = MustScan({.profile_paths = {kContext}, .inputs = {"-"}}, pod);
  ASSERT_EQ(report.results.size(), 1u);
  EXPECT_EQ(report.results[0].Source(), "-:4");
  auto twice = ScanWith({.profile_paths = {"-"}, .inputs = {"-"}}, pod);
  ASSERT_FALSE(twice.ok());
  EXPECT_THAT(twice.status().message(), HasSubstr("only once"));
}

TEST(RunScan, MalformedInputIsAnErrorNamingFileAndLine) {
  auto report = ScanWith({.inputs = {kExamples + "/good", kCliData + "/malformed.yaml"}});
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.status().message(), StartsWith(kCliData + "/malformed.yaml:6:"));
}

TEST(RunScan, MissingInputAndBadConfigurationAreErrors) {
  auto missing = ScanWith({.inputs = {kCliData + "/no-such-file.yaml"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("no-such-file.yaml: no such file"));

  auto bad_config = ScanWith({.config_path = kCliData + "/invalid-config.yaml", .inputs = {kExamples + "/good"}});
  ASSERT_FALSE(bad_config.ok());
  EXPECT_THAT(bad_config.status().message(), HasSubstr("invalid-config.yaml:3"));
  EXPECT_THAT(bad_config.status().message(), HasSubstr("verfy"));

  auto no_config = ScanWith({.config_path = kCliData + "/nope.yaml", .inputs = {kExamples + "/good"}});
  ASSERT_FALSE(no_config.ok());
  EXPECT_THAT(no_config.status().message(), HasSubstr("nope.yaml"));

  auto no_inputs = ScanWith({});
  ASSERT_FALSE(no_inputs.ok());
  EXPECT_THAT(no_inputs.status().message(), HasSubstr("no input"));
}

TEST(RunScan, MalformedContextFromProfilesIsAnInputError) {
  auto report = ScanWith({.profile_paths = {kCliData + "/profiles-with-bad-binding"},
                          .inputs = {kExamples + "/good/airflow-kpo-extract.yaml"}});
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.status().message(), StartsWith(kCliData + "/profiles-with-bad-binding/rbac.yaml:1: "));
  EXPECT_THAT(report.status().message(), HasSubstr("roleRef"));
}

TEST(RunScan, MalformedProfileAmongScannedDocumentsIsADenialNotAnInputError) {
  const ScanReport report = MustScan({.inputs = {kCliData + "/malformed-profile.yaml"}});
  ASSERT_EQ(report.results.size(), 1u);
  EXPECT_FALSE(report.results[0].verdict.allowed);
  // Every problem at once: the missing podSelector and the invalid serviceAccount name.
  EXPECT_THAT(RulesOf(report.results[0]), ElementsAre("profile-guardrail", "profile-guardrail"));
  EXPECT_EQ(report.ExitCode(), kExitDenied);
}

TEST(RunScan, MalformedGovernedPodIsDeniedNamingTheField) {
  const std::string pod = R"(apiVersion: v1
kind: Pod
metadata:
  name: load
  namespace: etl
  labels: {kubernetes_pod_operator: "True"}
spec:
  containers:
    - name: c
      image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/etl:1
      env: {DB_PASSWORD: Hunter2-Hunter2-Pw}
)";
  const ScanReport report = MustScan({.inputs = {"-"}}, pod);
  ASSERT_EQ(report.results.size(), 1u);
  const policy::Verdict& verdict = report.results[0].verdict;
  EXPECT_FALSE(verdict.allowed);
  const auto malformed = std::find_if(verdict.violations.begin(), verdict.violations.end(),
                                      [](const policy::Violation& v) { return v.rule == "malformed-object"; });
  ASSERT_NE(malformed, verdict.violations.end()) << ::testing::PrintToString(RulesOf(report.results[0]));
  EXPECT_EQ(malformed->path, "/spec/containers/0/env");
  EXPECT_THAT(malformed->message, HasSubstr("where Kubernetes defines a list"));
  for (const auto& v : verdict.violations) EXPECT_THAT(v.message, Not(HasSubstr("Hunter2")));
  EXPECT_EQ(report.ExitCode(), kExitDenied);
}

TEST(RunScan, NonKubernetesDocumentsAreSkippedWithANote) {
  const ScanReport report =
      MustScan({.inputs = {kCliData + "/not-kubernetes.yaml", kExamples + "/good/airflow-kpo-extract.yaml"}});
  ASSERT_EQ(report.skipped.size(), 1u);
  EXPECT_EQ(report.skipped[0].line, 2);
  ASSERT_EQ(report.results.size(), 1u);
  bool noted = false;
  for (const auto& note : report.notes) noted |= note.find("not-kubernetes.yaml:2: skipped") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST(RunScan, DefaultConfigurationVerifiesImagesAndSaysWhyEverythingIsUnsigned) {
  ScanOptions options{.inputs = {kExamples + "/good/airflow-kpo-extract.yaml"}, .now_unix_seconds = kNow};
  std::istringstream in;
  auto report = RunScan(options, in);  // no --config: policy::DefaultConfig()
  ASSERT_TRUE(report.ok()) << report.status().message();
  ASSERT_EQ(report->results.size(), 1u);
  const auto rules = RulesOf(report->results[0]);
  EXPECT_TRUE(std::count(rules.begin(), rules.end(), "unsigned-image")) << ::testing::PrintToString(rules);
  bool noted = false;
  for (const auto& note : report->notes) noted |= note.find("images.verify: false") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST(RunScan, BreakGlassIsHonouredOnlyForItsGroupAndWithinSevenDays) {
  const auto pod = [](const std::string& expires) {
    return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: hotfix\n  namespace: data-pipelines\n  labels: "
           "{kubernetes_pod_operator: \"True\"}\n  annotations:\n    pipeguard.io/break-glass-rules: "
           "untrusted-registry\n    pipeguard.io/break-glass-ticket: INC-4821\n    pipeguard.io/break-glass-expires: "
           "\"" +
           expires +
           "\"\nspec:\n  serviceAccountName: airflow-worker\n  automountServiceAccountToken: false\n"
           "  containers: [{name: base, image: docker.io/library/python:3.11}]\n";
  };
  const std::string tomorrow = "2024-05-03T12:00:00Z";  // kNow + 1 day
  const ScanReport oncall = MustScan({.profile_paths = {kContext},
                                      .inputs = {"-"},
                                      .username = "sre@ledgerline.example",
                                      .groups = {"platform-oncall"}},
                                     pod(tomorrow));
  ASSERT_EQ(oncall.results.size(), 1u);
  EXPECT_TRUE(oncall.results[0].verdict.allowed);
  EXPECT_EQ(oncall.results[0].verdict.break_glass_ticket, "INC-4821");
  ASSERT_EQ(oncall.results[0].verdict.violations.size(), 1u);
  EXPECT_TRUE(oncall.results[0].verdict.violations[0].waived);

  const ScanReport outsider = MustScan(
      {.profile_paths = {kContext}, .inputs = {"-"}, .username = "dev@ledgerline.example", .groups = {"data-eng"}},
      pod(tomorrow));
  EXPECT_FALSE(outsider.results[0].verdict.allowed);

  const ScanReport too_long =
      MustScan({.profile_paths = {kContext}, .inputs = {"-"}, .username = "sre", .groups = {"platform-oncall"}},
               pod("2024-06-30T00:00:00Z"));
  EXPECT_FALSE(too_long.results[0].verdict.allowed);
}

TEST(RunScan, EmptyDirectoryIsAllowedWithANote) {
  const auto dir = std::filesystem::temp_directory_path() / ("pipeguard-empty-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const ScanReport report = MustScan({.inputs = {dir.string()}});
  std::filesystem::remove_all(dir);
  EXPECT_TRUE(report.results.empty());
  EXPECT_EQ(report.ExitCode(), kExitAllowed);
  ASSERT_EQ(report.notes.size(), 1u);
  EXPECT_THAT(report.notes[0], HasSubstr("no documents found"));
}

}  // namespace
}  // namespace pipeguard::cli

namespace pipeguard::cli {
namespace {

TEST(RunScan, ClusterScopedObjectsHaveNoNamespaceOthersDefaultToDefault) {
  const std::string input =
      "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: fast}\nprovisioner: ebs.csi.aws.com\n"
      "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n";
  std::istringstream in(input);
  auto report = RunScan({.config_path = testing::kCliData + "/offline-config.yaml", .inputs = {"-"}}, in);
  ASSERT_TRUE(report.ok()) << report.status().message();
  ASSERT_EQ(report->results.size(), 2u);
  EXPECT_EQ(report->results[0].namespace_, "");
  EXPECT_EQ(report->results[0].ObjectName(), "StorageClass fast");
  EXPECT_EQ(report->results[1].namespace_, "default");
  EXPECT_EQ(report->results[1].ObjectName(), "ConfigMap default/settings");
}

// Issue 14, item 1: a governed pod and the ConfigMap it mounts, in one stream, in either order.
constexpr const char* kDbtProfile = R"(apiVersion: pipeguard.io/v1alpha1
kind: PipelineSecurityProfile
metadata: {name: dbt, namespace: analytics}
spec:
  podSelector: {matchLabels: {pipeguard.io/pipeline: dbt}}
  serviceAccount: {name: dbt-runner}
)";
constexpr const char* kDbtPod = R"(apiVersion: v1
kind: Pod
metadata: {name: dbt-run, namespace: analytics, labels: {pipeguard.io/pipeline: dbt}}
spec:
  serviceAccountName: dbt-runner
  automountServiceAccountToken: false
  containers: [{name: dbt, image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/dbt:1.8"}]
  volumes: [{name: profiles, configMap: {name: dbt-profiles}}]
)";
constexpr const char* kDbtConfigMap = R"(apiVersion: v1
kind: ConfigMap
metadata: {name: dbt-profiles, namespace: analytics}
data:
  profiles.yml: |
    analytics:
      outputs:
        prod: {type: postgres, host: wh.internal, user: dbt, password: Wh4reh0useDbt2026, sslmode: verify-full}
)";

TEST(RunScan, AMountedConfigMapIsJudgedWithItsPodInEitherDocumentOrder) {
  const std::string sep = "---\n";
  for (const std::string& stream : {std::string(kDbtProfile) + sep + kDbtPod + sep + kDbtConfigMap,
                                    std::string(kDbtConfigMap) + sep + kDbtProfile + sep + kDbtPod}) {
    const ScanReport report = MustScan({.inputs = {"-"}}, stream);
    const ScanResult* pod = Find(report, "dbt-run");
    ASSERT_NE(pod, nullptr);
    EXPECT_FALSE(pod->verdict.allowed);
    ASSERT_THAT(RulesOf(*pod), ElementsAre("plaintext-secret"));
    const policy::Violation& v = pod->verdict.violations[0];
    EXPECT_EQ(v.path, "/spec/volumes/0/configMap/name");
    EXPECT_THAT(v.message, HasSubstr("ConfigMap analytics/dbt-profiles"));
    EXPECT_THAT(v.message, HasSubstr(R"(data["profiles.yml"]: analytics.outputs.prod.password)"));
    EXPECT_THAT(v.message, Not(HasSubstr("Wh4reh0useDbt2026")));
    // The ConfigMap is a result of its own too: unlabelled, it is governed because the governed pod reads it, and
    // judged as at its admission after the pod (the same finding at its own field, naming the pod).
    const ScanResult* config_map = Find(report, "dbt-profiles");
    ASSERT_NE(config_map, nullptr);
    EXPECT_TRUE(config_map->verdict.governed);
    EXPECT_FALSE(config_map->verdict.allowed);
    ASSERT_THAT(RulesOf(*config_map), ElementsAre("plaintext-secret"));
    const policy::Violation& own = config_map->verdict.violations[0];
    EXPECT_EQ(own.path, "/data/profiles.yml");
    EXPECT_THAT(own.message, HasSubstr("read by Pod analytics/dbt-run at /spec/volumes/0/configMap/name; "
                                       R"(property data["profiles.yml"]: analytics.outputs.prod.password)"));
    EXPECT_THAT(own.message, Not(HasSubstr("Wh4reh0useDbt2026")));
    EXPECT_EQ(config_map->verdict.profiles, std::vector<std::string>{"analytics/dbt"});
  }
  // Alone, or with an ungoverned reader, the unlabelled ConfigMap is not governed.
  std::string ungoverned_pod = kDbtPod;
  ungoverned_pod.replace(ungoverned_pod.find("pipeguard.io/pipeline: dbt"), 26, "app: dbt-docs");
  for (const std::string& stream :
       {std::string(kDbtConfigMap), std::string(kDbtConfigMap) + "---\n" + ungoverned_pod}) {
    const ScanReport report = MustScan({.inputs = {"-"}}, stream);
    ASSERT_NE(Find(report, "dbt-profiles"), nullptr);
    EXPECT_FALSE(Find(report, "dbt-profiles")->verdict.governed) << stream;
  }
  // Without the ConfigMap in the input the pod is allowed: the ConfigMap really was what denied it.
  const ScanReport alone = MustScan({.inputs = {"-"}}, std::string(kDbtProfile) + "---\n" + kDbtPod);
  ASSERT_NE(Find(alone, "dbt-run"), nullptr);
  EXPECT_TRUE(Find(alone, "dbt-run")->verdict.allowed);
}

TEST(RunScan, AnUnrelatedConfigMapWithAPropertiesFileIsNotGoverned) {
  const ScanReport report = MustScan({.inputs = {"-"}}, R"(apiVersion: v1
kind: ConfigMap
metadata: {name: shop, namespace: web}
data:
  app.properties: |
    db.password=Sh0pDbPassw0rd77
)");
  ASSERT_EQ(report.results.size(), 1u);
  EXPECT_FALSE(report.results[0].verdict.governed);
  EXPECT_TRUE(report.results[0].verdict.allowed);
}

}  // namespace
}  // namespace pipeguard::cli
