// The command table, flag parsing and exit codes, run in-process through cli::Main.
#include "pipeguard/cli/commands.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "cli_test_support.h"
#include "pipeguard/cli/scan.h"
#include "pipeguard/manifest/documents.h"

namespace pipeguard::cli {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;
using namespace ::pipeguard::cli::testing;

const std::string kGood = kExamples + "/good";
const std::string kBad = kExamples + "/bad";

TEST(Main, DispatchesThroughTheTable) {
  std::set<std::string> names;
  for (const auto& c : Commands()) {
    names.insert(std::string(c.name));
    EXPECT_NE(c.run, nullptr);
    EXPECT_FALSE(c.summary.empty());
    EXPECT_TRUE(c.usage.starts_with(c.name));
  }
  EXPECT_EQ(names, (std::set<std::string>{"scan", "admission-review", "report", "verify-image", "version", "help"}));
}

TEST(Main, VersionAndHelp) {
  auto version = RunInProcess({"version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out, std::string("pipeguard ") + PIPEGUARD_VERSION + "\n");
  EXPECT_EQ(RunInProcess({"--version"}).out, version.out);

  auto help = RunInProcess({"help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const auto& c : Commands()) EXPECT_THAT(help.out, HasSubstr(std::string(c.name)));
  auto scan_help = RunInProcess({"help", "scan"});
  EXPECT_EQ(scan_help.exit_code, 0);
  EXPECT_THAT(scan_help.out, HasSubstr("--profiles PATH"));
  EXPECT_THAT(scan_help.out, HasSubstr("Exit status: 0"));
  EXPECT_EQ(RunInProcess({"scan", "--help"}).out, scan_help.out);
  EXPECT_EQ(RunInProcess({"help", "nosuch"}).exit_code, kExitUsage);
}

TEST(Main, UsageErrorsExitTwoWithAMessageOnStderr) {
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"nosuch"},
      {"scan"},
      {"scan", "--output", "yaml", kGood},
      {"scan", "--frobnicate", kGood},
      {"scan", "--config"},
      {"version", "extra"},
      {"admission-review"},
      {"admission-review", "--operation", "DELETE", kGood},
  };
  for (const auto& args : cases) {
    const auto result = RunInProcess(args);
    EXPECT_EQ(result.exit_code, kExitUsage) << ::testing::PrintToString(args);
    EXPECT_FALSE(result.err.empty()) << ::testing::PrintToString(args);
    EXPECT_THAT(result.out, IsEmpty()) << ::testing::PrintToString(args);
  }
  EXPECT_THAT(RunInProcess({"scan", "-o", "yaml", kGood}).err, HasSubstr("unknown output format \"yaml\""));
  EXPECT_THAT(RunInProcess({"scan", "--frobnicate", kGood}).err, HasSubstr("unknown flag --frobnicate"));
}

TEST(VerifyImageCommand, RekorFlagsAreCheckedBeforeAnyRegistryCall) {
  const auto dir = std::filesystem::temp_directory_path() / ("pipeguard-cli-rekor-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string key = (dir / "cosign.pub").string();
  std::ofstream(key) << "-----BEGIN PUBLIC KEY-----\n"
                        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEbv2LQQl6+hopKuQHSnao8RjD66WA\n"
                        "3o5oSRD5Pa//40GMCb/Eik3lV35Gf+K78ZF6m9MBBFhH6l+12lAzFdbmZA==\n"
                        "-----END PUBLIC KEY-----\n";
  const std::string image = "registry.invalid/etl/app:1";

  const auto no_log = RunInProcess({"verify-image", "--key", key, "--require-tlog", image});
  EXPECT_EQ(no_log.exit_code, kExitUsage);
  EXPECT_THAT(no_log.err, HasSubstr("--require-tlog needs a Rekor log key"));

  const auto missing = RunInProcess({"verify-image", "--key", key, "--rekor-key", "/nonexistent/rekor.pub", image});
  EXPECT_EQ(missing.exit_code, kExitUsage);
  EXPECT_THAT(missing.err, HasSubstr("images.rekor.publicKeys '/nonexistent/rekor.pub'"));
  EXPECT_THAT(missing.out, IsEmpty());

  const auto empty = RunInProcess({"verify-image", "--key", key, "--rekor-key=", image});
  EXPECT_EQ(empty.exit_code, kExitUsage);
  EXPECT_THAT(RunInProcess({"help", "verify-image"}).out, HasSubstr("--rekor-key FILE"));
  std::filesystem::remove_all(dir);
}

TEST(ScanCommand, ExitCodesZeroOneTwo) {
  EXPECT_EQ(RunInProcess({"scan", "--config", kConfig, "--profiles", kContext, kGood}).exit_code, kExitAllowed);
  EXPECT_EQ(RunInProcess({"scan", "--config", kConfig, "--profiles", kContext, kBad}).exit_code, kExitDenied);
  const auto malformed = RunInProcess({"scan", "--config", kConfig, kGood, kCliData + "/malformed.yaml"});
  EXPECT_EQ(malformed.exit_code, kExitUsage);
  EXPECT_THAT(malformed.err, StartsWith("pipeguard scan: " + kCliData + "/malformed.yaml:6:"));
  EXPECT_THAT(malformed.out, IsEmpty());  // no partial report on an input error
}

TEST(ScanCommand, EveryFormatFlagSpelling) {
  for (const std::vector<std::string>& flag :
       std::vector<std::vector<std::string>>{{"-o", "json"}, {"--output", "json"}, {"--output=json"}}) {
    std::vector<std::string> args = {"scan", "--config=" + kConfig, "--profiles=" + kContext};
    args.insert(args.end(), flag.begin(), flag.end());
    args.push_back(kBad + "/untrusted-registry.yaml");
    const auto result = RunInProcess(args);
    EXPECT_EQ(result.exit_code, kExitDenied);
    const json out = json::parse(result.out);
    ASSERT_EQ(out["results"].size(), 1u);
    EXPECT_EQ(out["results"][0]["violations"][0]["rule"], "untrusted-registry");
  }
}

TEST(ScanCommand, StandardInputAndDoubleDash) {
  const std::string pod = ReadText(kBad + "/missing-profile.yaml");
  const auto result = RunInProcess({"scan", "--config", kConfig, "-o", "json", "--", "-"}, pod);
  EXPECT_EQ(result.exit_code, kExitDenied);
  const json out = json::parse(result.out);
  EXPECT_EQ(out["results"][0]["source"], "-:4");
  EXPECT_EQ(out["results"][0]["namespace"], "marketing-analytics");
}

TEST(ScanCommand, NotesGoToStderrAndNeverIntoMachineOutput) {
  const auto result = RunInProcess({"scan", "--config", kConfig, "-o", "json", kExamples});
  EXPECT_EQ(result.exit_code, kExitDenied);
  EXPECT_THAT(result.err, HasSubstr("note: "));
  EXPECT_THAT(result.err, HasSubstr("config.yaml:4: skipped"));
  EXPECT_TRUE(json::accept(result.out));
}

TEST(ScanCommand, ColourOnlyForATerminalAndNeverWithNoColor) {
  ::unsetenv("NO_COLOR");
  const std::vector<std::string> args = {"scan", "--config", kConfig, "--profiles", kContext, kBad};
  EXPECT_THAT(RunInProcess(args, "", false).out, Not(HasSubstr("\033[")));
  EXPECT_THAT(RunInProcess(args, "", true).out, HasSubstr("\033["));
  ::setenv("NO_COLOR", "1", 1);
  EXPECT_THAT(RunInProcess(args, "", true).out, Not(HasSubstr("\033[")));
  ::unsetenv("NO_COLOR");
  // Machine formats are never coloured.
  EXPECT_THAT(RunInProcess({"scan", "--config", kConfig, "-o", "sarif", kBad}, "", true).out, Not(HasSubstr("\033[")));
}

TEST(ScanCommand, UserAndGroupsReachBreakGlass) {
  const std::string pod =
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: hotfix\n  namespace: data-pipelines\n  labels: "
      "{kubernetes_pod_operator: \"True\"}\n  annotations:\n    pipeguard.io/break-glass-rules: untrusted-registry\n"
      "    pipeguard.io/break-glass-ticket: INC-1\n    pipeguard.io/break-glass-expires: \"2024-05-04T00:00:00Z\"\n"
      "spec:\n  serviceAccountName: airflow-worker\n  automountServiceAccountToken: false\n"
      "  containers: [{name: base, image: python:3.11}]\n";
  const std::vector<std::string> base = {"scan", "--config", kConfig, "--profiles", kContext};
  auto with = base;
  with.insert(with.end(), {"--user", "sre@ledgerline.example", "--group", "system:authenticated", "--group",
                           "platform-oncall", "-"});
  EXPECT_EQ(RunInProcess(with, pod).exit_code, kExitAllowed);
  auto without = base;
  without.insert(without.end(), {"--user", "sre@ledgerline.example", "-"});
  EXPECT_EQ(RunInProcess(without, pod).exit_code, kExitDenied);
}

TEST(AdmissionReviewCommand, OneReviewPerObjectWithReproducibleUids) {
  const auto result = RunInProcess({"admission-review", "--user", "jane@ledgerline.example", "--group", "data-eng",
                                    kGood + "/spark-submit-pods.yaml", kCliData + "/kubectl-get.yaml"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::istringstream lines(result.out);
  std::string line;
  std::vector<json> reviews;
  while (std::getline(lines, line)) reviews.push_back(json::parse(line));
  ASSERT_EQ(reviews.size(), 6u);  // 2 pods + 4 List items
  std::set<std::string> uids;
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  for (const auto& review : reviews) {
    EXPECT_EQ(review["apiVersion"], "admission.k8s.io/v1");
    EXPECT_EQ(review["kind"], "AdmissionReview");
    const json& request = review["request"];
    EXPECT_TRUE(std::regex_match(request["uid"].get<std::string>(), uuid)) << request["uid"];
    uids.insert(request["uid"]);
    EXPECT_EQ(request["operation"], "CREATE");
    EXPECT_EQ(request["userInfo"]["username"], "jane@ledgerline.example");
    EXPECT_EQ(request["userInfo"]["groups"], json::array({"data-eng"}));
    EXPECT_TRUE(request["oldObject"].is_null());
    EXPECT_EQ(request["kind"]["kind"], request["object"]["kind"]);
    EXPECT_EQ(request["name"], request["object"]["metadata"]["name"]);
  }
  EXPECT_EQ(uids.size(), reviews.size());
  EXPECT_EQ(reviews[0]["request"]["resource"], json({{"group", ""}, {"version", "v1"}, {"resource", "pods"}}));
  EXPECT_EQ(reviews[0]["request"]["namespace"], "spark-jobs");
  EXPECT_EQ(reviews[2]["request"]["kind"]["group"], "pipeguard.io");
  EXPECT_EQ(reviews[2]["request"]["resource"]["resource"], "pipelinesecurityprofiles");
  auto driver = manifest::LoadPath(kGood + "/spark-submit-pods.yaml");
  ASSERT_TRUE(driver.ok());
  EXPECT_EQ(reviews[0]["request"]["object"], (*driver)[0].object);
  // The same input gives the same UIDs.
  EXPECT_EQ(RunInProcess({"admission-review", "--user", "jane@ledgerline.example", "--group", "data-eng",
                          kGood + "/spark-submit-pods.yaml", kCliData + "/kubectl-get.yaml"})
                .out,
            result.out);
}

TEST(AdmissionReviewCommand, UpdateCarriesTheOldObject) {
  const auto result =
      RunInProcess({"admission-review", "--operation", "UPDATE", "-"}, ReadText(kGood + "/dbt-nightly-cronjob.yaml"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const json review = json::parse(result.out);
  EXPECT_EQ(review["request"]["operation"], "UPDATE");
  EXPECT_EQ(review["request"]["oldObject"], review["request"]["object"]);
  EXPECT_EQ(review["request"]["resource"]["resource"], "cronjobs");
  EXPECT_EQ(review["request"]["kind"]["group"], "batch");
  EXPECT_EQ(review["request"]["userInfo"]["groups"], json::array({"system:authenticated"}));
}

TEST(AdmissionReviewCommand, MalformedInputIsAUsageError) {
  const auto result = RunInProcess({"admission-review", kCliData + "/malformed.yaml"});
  EXPECT_EQ(result.exit_code, kExitUsage);
  EXPECT_THAT(result.err, HasSubstr("malformed.yaml:6:"));
  EXPECT_THAT(result.out, IsEmpty());
}

}  // namespace
}  // namespace pipeguard::cli
