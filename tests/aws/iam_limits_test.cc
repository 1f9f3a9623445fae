#include "pipeguard/aws/iam_limits.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pipeguard::aws {
namespace {

using ::testing::HasSubstr;

// A policy whose compact form is exactly `size` characters: {"Statement":[],"Sid":"xxxx"}.
std::string PolicyOfSize(std::size_t size) {
  const std::string frame = R"({"Sid":"","Statement":[]})";
  std::string policy = R"({"Sid":")";
  policy.append(size - frame.size(), 'x');
  policy.append(R"(", "Statement" : [ ] })");
  return policy;
}

TEST(IamLimits, RoleNames) {
  EXPECT_TRUE(ValidateRoleName("pg-data_spark.etl@x+y=z,w").ok());
  EXPECT_TRUE(ValidateRoleName(std::string(64, 'a')).ok());
  EXPECT_THAT(ValidateRoleName(std::string(65, 'a')).message(), HasSubstr("1 to 64 characters long (it has 65)"));
  EXPECT_FALSE(ValidateRoleName("").ok());
  EXPECT_THAT(ValidateRoleName("pg/role").message(), HasSubstr("position 3"));
  EXPECT_FALSE(ValidateRoleName("pg role").ok());
  EXPECT_FALSE(ValidateRoleName("p\xc3\xa9").ok());
}

TEST(IamLimits, PathsAndPolicyNames) {
  EXPECT_TRUE(ValidateRolePath("/").ok());
  EXPECT_TRUE(ValidateRolePath("/pipeguard/prod-eu/").ok());
  EXPECT_FALSE(ValidateRolePath("pipeguard/").ok());
  EXPECT_FALSE(ValidateRolePath("/pipeguard").ok());
  EXPECT_FALSE(ValidateRolePath("/a b/").ok());
  EXPECT_FALSE(ValidateRolePath("/" + std::string(511, 'a') + "/").ok());
  EXPECT_TRUE(ValidatePolicyName(std::string(128, 'p')).ok());
  EXPECT_FALSE(ValidatePolicyName(std::string(129, 'p')).ok());
}

TEST(IamLimits, TrustPolicySizeIgnoresWhitespace) {
  EXPECT_EQ(PolicySize(PolicyOfSize(2048)).value(), 2048u);
  EXPECT_TRUE(ValidateTrustPolicy(PolicyOfSize(2048)).ok());
  Status s = ValidateTrustPolicy(PolicyOfSize(2049));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("2049 characters without whitespace"));
  EXPECT_THAT(s.message(), HasSubstr("AssumeRolePolicySizeQuota"));
  IamLimits raised;
  raised.trust_policy_max = 4096;
  EXPECT_TRUE(ValidateTrustPolicy(PolicyOfSize(2049), raised).ok());
}

TEST(IamLimits, PolicyCharacters) {
  EXPECT_TRUE(ValidateTrustPolicy("{\"Sid\":\"caf\xc3\xa9\"}\n").ok()) << "U+00E9 is allowed";
  EXPECT_THAT(ValidateTrustPolicy("{\"Sid\":\"\xe2\x82\xac\"}").message(), HasSubstr("beyond U+00FF"));
  EXPECT_THAT(ValidateTrustPolicy(std::string("{\"Sid\":\"\x01\"}")).message(), HasSubstr("control character"));
  EXPECT_THAT(ValidateTrustPolicy("{").message(), HasSubstr("not valid JSON"));
}

TEST(IamLimits, InlinePoliciesAreLimitedTogether) {
  std::map<std::string, std::string> docs{{"a", PolicyOfSize(5120)}, {"b", PolicyOfSize(5120)}};
  EXPECT_TRUE(ValidateInlinePolicies(docs).ok());
  docs["c"] = PolicyOfSize(30);
  Status s = ValidateInlinePolicies(docs);
  EXPECT_THAT(s.message(), HasSubstr("total 10270 characters"));
  EXPECT_FALSE(ValidateInlinePolicies({{"bad name", "{}"}}).ok());
}

TEST(IamLimits, Tags) {
  std::vector<Tag> tags;
  for (int i = 0; i < 50; ++i) {
    std::string key = "k";  // (not "k" + to_string(i): GCC 12 -Wrestrict false positive, bug 105329)
    key += std::to_string(i);
    tags.push_back({key, "v"});
  }
  EXPECT_TRUE(ValidateTags(tags).ok());
  tags.push_back({"k50", "v"});
  EXPECT_THAT(ValidateTags(tags).message(), HasSubstr("at most 50"));
  EXPECT_TRUE(ValidateTags({{"pipeguard.io/owner", "ns/name"}, {"a b:c=d+e-f@g_h", ""}}).ok());
  EXPECT_FALSE(ValidateTags({{std::string(129, 'k'), "v"}}).ok());
  EXPECT_TRUE(ValidateTags({{std::string(128, 'k'), std::string(256, 'v')}}).ok());
  EXPECT_FALSE(ValidateTags({{"k", std::string(257, 'v')}}).ok());
  EXPECT_FALSE(ValidateTags({{"", "v"}}).ok());
  EXPECT_THAT(ValidateTags({{"aws:cloudformation", "v"}}).message(), HasSubstr("reserved"));
  EXPECT_THAT(ValidateTags({{"Owner", "a"}, {"owner", "b"}}).message(), HasSubstr("case-insensitive"));
  EXPECT_THAT(ValidateTags({{"k", "a;b"}}).message(), HasSubstr("';'"));
}

TEST(IamLimits, CreateRole) {
  CreateRoleRequest r;
  r.role_name = "pg-a";
  r.path = "/pipeguard/";
  r.assume_role_policy_document = R"({"Version":"2012-10-17","Statement":[]})";
  r.permissions_boundary_arn = "arn:aws:iam::123456789012:policy/boundary";
  EXPECT_TRUE(ValidateCreateRole(r).ok());
  r.max_session_duration = 3599;
  EXPECT_THAT(ValidateCreateRole(r).message(), HasSubstr("MaxSessionDuration"));
  r.max_session_duration = 43200;
  EXPECT_TRUE(ValidateCreateRole(r).ok());
  r.permissions_boundary_arn = "boundary";
  EXPECT_THAT(ValidateCreateRole(r).message(), HasSubstr("not an ARN"));
}

}  // namespace
}  // namespace pipeguard::aws
