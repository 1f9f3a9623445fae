#include "pipeguard/policy/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pipeguard::policy {
namespace {

using ::testing::HasSubstr;

TEST(ConfigTest, EmptyTextGivesSecureDefaults) {
  auto config = ParseConfig("", "pipeguard.yaml");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->mode, Mode::kEnforce);
  EXPECT_TRUE(config->images.verify);
  EXPECT_EQ(config->blocking_severity, Severity::kMedium);
  EXPECT_EQ(config->governance.selectors.size(), 3u);
  EXPECT_EQ(config->break_glass.max_duration, std::chrono::hours(168));
  EXPECT_TRUE(config->break_glass.groups.empty());
}

TEST(ConfigTest, ParsesEverySetting) {
  auto config = ParseConfig(R"(
mode: audit
blockingSeverity: high
images:
  verify: false
  allowedRegistries: ["123456789012.dkr.ecr.eu-west-1.amazonaws.com/", "registry.corp/"]
  keys:
    - {name: release, path: /etc/pipeguard/keys/release.pub}
    - publicKey: |
        -----BEGIN PUBLIC KEY-----
        MFkw
        -----END PUBLIC KEY-----
  registries:
    - {host: "127.0.0.1:5000", insecure: true}
    - {host: "registry.corp", caFile: /etc/ca.pem, credentialsFile: /etc/docker.json}
  pinDigests: false
  deadline: 2500ms
governance:
  selectors: [{matchLabels: {team: data}}]
  sparkApplications: false
breakGlass: {groups: [sre], maxDuration: 24h}
serviceAccounts: {forbiddenRoles: [cluster-admin]}
)",
                            "pipeguard.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->mode, Mode::kAudit);
  EXPECT_EQ(config->blocking_severity, Severity::kHigh);
  EXPECT_FALSE(config->images.verify);
  EXPECT_EQ(config->images.allowed_registries.size(), 2u);
  ASSERT_EQ(config->images.keys.size(), 2u);
  EXPECT_EQ(config->images.keys[0].name, "release");
  EXPECT_THAT(config->images.keys[1].public_key_pem, HasSubstr("BEGIN PUBLIC KEY"));
  ASSERT_EQ(config->images.registries.size(), 2u);
  EXPECT_TRUE(config->images.registries[0].insecure);
  EXPECT_EQ(config->images.registries[1].ca_file, "/etc/ca.pem");
  EXPECT_FALSE(config->images.pin_digests);
  EXPECT_EQ(config->images.deadline, std::chrono::milliseconds(2500));
  EXPECT_EQ(config->governance.selectors.size(), 1u);
  EXPECT_FALSE(config->governance.spark_applications);
  EXPECT_EQ(config->break_glass.groups, std::vector<std::string>{"sre"});
  EXPECT_EQ(config->break_glass.max_duration, std::chrono::hours(24));
  EXPECT_EQ(config->service_accounts.forbidden_roles, std::vector<std::string>{"cluster-admin"});
}

struct BadConfig {
  const char* text;
  const char* expected;  // substring of the error
};

class BadConfigTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(BadConfigTest, IsRejectedWithFileLineAndHint) {
  auto config = ParseConfig(GetParam().text, "conf.yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr("conf.yaml:"));
  EXPECT_THAT(config.status().message(), HasSubstr(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadConfigTest,
    ::testing::Values(BadConfig{"mode: relaxed", "enforce or audit"}, BadConfig{"mdoe: audit", "unknown setting"},
                      BadConfig{"images:\n  verfy: false", "images.verfy: unknown setting"},
                      BadConfig{"images:\n  verify: maybe", "true or false"},
                      BadConfig{"images:\n  allowedRegistries: [\"\"]", "empty prefix"},
                      BadConfig{"images:\n  keys: [{name: k}]", "exactly one of path"},
                      BadConfig{"images:\n  registries: [{host: h, insecure: true, caFile: c}]", "exclude each other"},
                      BadConfig{"images:\n  deadline: soon", "duration"},
                      BadConfig{"breakGlass: {maxDuration: 200h}", "168h"},
                      BadConfig{"governance:\n  selectors: [{}]", "every pod"},
                      BadConfig{"blockingSeverity: info", "low, medium, high or critical"},
                      BadConfig{"images: [1, 2", "invalid YAML"}, BadConfig{"- a\n- b", "must be a mapping"}));

}  // namespace
}  // namespace pipeguard::policy
