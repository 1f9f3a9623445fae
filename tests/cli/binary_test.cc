// The real `pipeguard` executable, run as a subprocess: what CI pipelines actually invoke.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli_test_support.h"
#include "pipeguard/cli/scan.h"

namespace pipeguard::cli {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;
using namespace ::pipeguard::cli::testing;

// Relative paths, as a CI job in the repository root would pass them (the binary runs from the source dir).
const std::vector<std::string> kScanGood = {"scan", "--config", "examples/config.yaml", "--profiles",
                                            "examples/context"};

std::vector<std::string> With(std::vector<std::string> args, std::initializer_list<std::string> more) {
  args.insert(args.end(), more);
  return args;
}

TEST(Binary, EveryFormatOnGoodExamplesExitsZero) {
  for (const std::string format : {"text", "json", "sarif", "junit"}) {
    const auto result = RunBinary(With(kScanGood, {"-o", format, "examples/good"}));
    EXPECT_EQ(result.exit_code, kExitAllowed) << format << "\n" << result.err;
    EXPECT_FALSE(result.out.empty()) << format;
    if (format == "json") {
      const json out = json::parse(result.out);
      EXPECT_EQ(out["summary"]["denied"], 0);
      EXPECT_GE(out["summary"]["documents"].get<int>(), 7);
      EXPECT_THAT(out["results"][0]["source"].get<std::string>(), StartsWith("examples/good/"));
    } else if (format == "sarif") {
      const json sarif = json::parse(result.out);
      EXPECT_EQ(sarif["version"], "2.1.0");
      // Only the audit-mode warning of the sandbox example.
      ASSERT_EQ(sarif["runs"][0]["results"].size(), 1u);
      EXPECT_EQ(sarif["runs"][0]["results"][0]["level"], "warning");
    } else if (format == "junit") {
      std::string error;
      auto root = ParseXml(result.out, &error);
      ASSERT_TRUE(root.has_value()) << error;
      EXPECT_EQ(root->attributes.at("failures"), "0");
    } else {
      EXPECT_THAT(result.out, HasSubstr("0 denied"));
      EXPECT_THAT(result.out, Not(HasSubstr("\033[")));  // stdout is a file, not a terminal
    }
  }
}

TEST(Binary, EveryFormatOnBadExamplesExitsOneAndLeaksNoSecret) {
  for (const std::string format : {"text", "json", "sarif", "junit"}) {
    const auto result = RunBinary(With(kScanGood, {"-o", format, "examples/bad"}));
    EXPECT_EQ(result.exit_code, kExitDenied) << format << "\n" << result.err;
    for (const auto& secret : PlantedSecrets()) {
      EXPECT_THAT(result.out, Not(HasSubstr(secret))) << format;
      EXPECT_THAT(result.err, Not(HasSubstr(secret))) << format;
    }
    if (format == "json") {
      const json out = json::parse(result.out);
      EXPECT_EQ(out["summary"]["denied"], 11);
      for (const auto& r : out["results"]) EXPECT_FALSE(r["allowed"].get<bool>()) << r["source"];
    } else if (format == "sarif") {
      const json sarif = json::parse(result.out);
      for (const auto& r : sarif["runs"][0]["results"]) {
        EXPECT_THAT(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].get<std::string>(),
                    StartsWith("examples/bad/"));
      }
    } else if (format == "junit") {
      std::string error;
      auto root = ParseXml(result.out, &error);
      ASSERT_TRUE(root.has_value()) << error;
      EXPECT_EQ(root->attributes.at("failures"), "11");
      EXPECT_EQ(root->Children("testsuite").size(), 11u);
    } else {
      EXPECT_THAT(result.out, HasSubstr("DENIED"));
      EXPECT_THAT(result.out, HasSubstr("11 denied"));
    }
  }
}

TEST(Binary, InputAndUsageErrorsExitTwo) {
  const auto malformed = RunBinary({"scan", "-o", "json", "tests/cli/data/malformed.yaml"});
  EXPECT_EQ(malformed.exit_code, kExitUsage);
  EXPECT_THAT(malformed.err, HasSubstr("tests/cli/data/malformed.yaml:6:"));
  EXPECT_THAT(malformed.out, IsEmpty());

  const auto missing = RunBinary({"scan", "does/not/exist.yaml"});
  EXPECT_EQ(missing.exit_code, kExitUsage);
  EXPECT_THAT(missing.err, HasSubstr("does/not/exist.yaml: no such file"));

  const auto garbage = RunBinary({"scan", "-"}, std::string("\x7f"
                                                            "ELF\x02\x01\x01\0\0\0garbage",
                                                            16));
  EXPECT_EQ(garbage.exit_code, kExitUsage);
  EXPECT_THAT(garbage.err, HasSubstr("-:1:"));

  EXPECT_EQ(RunBinary({"scan"}).exit_code, kExitUsage);
  EXPECT_EQ(RunBinary({"scan", "-o", "xml", "examples/good"}).exit_code, kExitUsage);
  EXPECT_EQ(RunBinary({}).exit_code, kExitUsage);
}

TEST(Binary, StandardInputWorks) {
  const auto result =
      RunBinary(With(kScanGood, {"-o", "json", "-"}), ReadText(kExamples + "/bad/postgres-sslmode-disable.yaml"));
  EXPECT_EQ(result.exit_code, kExitDenied) << result.err;
  const json out = json::parse(result.out);
  ASSERT_EQ(out["results"].size(), 1u);
  EXPECT_EQ(out["results"][0]["source"], "-:4");
  EXPECT_EQ(out["results"][0]["violations"][0]["rule"], "insecure-transport");
}

TEST(Binary, VersionAndHelp) {
  const auto version = RunBinary({"version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out, std::string("pipeguard ") + PIPEGUARD_VERSION + "\n");
  const auto help = RunBinary({"help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("scan"));
}

}  // namespace
}  // namespace pipeguard::cli
