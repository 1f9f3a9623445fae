// `pipeguard scan --guardrails-config FILE`: profiles that break the platform guardrails (the operator's
// configuration) are denied with rule profile-guardrail at the offending field, as at admission.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_test_support.h"
#include "pipeguard/cli/scan.h"

namespace pipeguard::cli {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using testing::RunInProcess;

const std::string kGuardrails = testing::kCliData + "/guardrails";
const std::string kOfflineConfig = testing::kCliData + "/offline-config.yaml";

TEST(ScanGuardrails, BreakingProfileIsDeniedAtTheFieldAndCompliantOneAllowed) {
  const auto result = RunInProcess({"scan", "--config", kOfflineConfig, "--guardrails-config",
                                    kGuardrails + "/operator.yaml", "-o", "json", kGuardrails + "/profiles.yaml"});
  EXPECT_EQ(result.exit_code, kExitDenied) << result.err;
  const json out = json::parse(result.out);
  ASSERT_EQ(out["results"].size(), 2u) << result.out;
  std::map<std::string, json> by_name;
  for (const auto& r : out["results"]) by_name[r["name"].get<std::string>()] = r;
  ASSERT_TRUE(by_name.count("compliant") && by_name.count("breaking")) << result.out;
  EXPECT_EQ(by_name["compliant"]["allowed"], true) << result.out;
  EXPECT_TRUE(by_name["compliant"]["violations"].empty());
  EXPECT_EQ(by_name["breaking"]["allowed"], false);
  std::vector<std::string> paths;
  for (const auto& v : by_name["breaking"]["violations"]) {
    EXPECT_EQ(v["rule"], "profile-guardrail");
    paths.push_back(v["path"]);
  }
  EXPECT_EQ(paths,
            (std::vector<std::string>{"/spec/aws/additionalStatements/0/actions/0", "/spec/network/egress/0/cidr"}));
}

TEST(ScanGuardrails, WithoutTheFlagProfilesAreOnlyParsed) {
  const auto result = RunInProcess({"scan", "--config", kOfflineConfig, "-o", "json", kGuardrails + "/profiles.yaml"});
  EXPECT_EQ(result.exit_code, kExitAllowed) << result.out << result.err;
}

TEST(ScanGuardrails, BadGuardrailsFileIsAUsageErrorNamingTheFile) {
  const auto missing = RunInProcess({"scan", "--config", kOfflineConfig, "--guardrails-config",
                                     kGuardrails + "/nope.yaml", kGuardrails + "/profiles.yaml"});
  EXPECT_EQ(missing.exit_code, kExitUsage);
  EXPECT_THAT(missing.err, HasSubstr("nope.yaml"));

  // Not a guardrails document: its keys (apiVersion, ...) are unknown settings.
  const auto wrong = RunInProcess({"scan", "--config", kOfflineConfig, "--guardrails-config",
                                   kGuardrails + "/profiles.yaml", kGuardrails + "/profiles.yaml"});
  EXPECT_EQ(wrong.exit_code, kExitUsage);
  EXPECT_THAT(wrong.err, HasSubstr("profiles.yaml"));

  const auto binary = testing::RunBinary({"scan", "--config", kOfflineConfig, "--guardrails-config",
                                          kGuardrails + "/operator.yaml", kGuardrails + "/profiles.yaml"});
  EXPECT_EQ(binary.exit_code, kExitDenied) << binary.err;
  EXPECT_THAT(binary.out, HasSubstr("profile-guardrail"));
}

}  // namespace
}  // namespace pipeguard::cli
