#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "pipeguard/aws/iam_limits.h"
#include "pipeguard/aws/policy_document.h"
#include "pipeguard/desired/iam_role.h"
#include "pipeguard/guardrails/iam_policy.h"
#include "test_data.h"

namespace pipeguard::reconcilers {
namespace {

using nlohmann::json;

guardrails::OperatorConfig Config() {
  guardrails::OperatorConfig c;
  c.cluster_name = "prod-eu-1";
  c.aws_account_id = "123456789012";
  c.oidc_issuer_url = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF";
  c.permissions_boundary_arn = "arn:aws:iam::123456789012:policy/pipeguard-boundary";
  return c;
}

api::ParsedProfile Parse(const json& spec_patch = json::object()) {
  auto p = api::ParseProfile(testing::ProfileWith(spec_patch));
  EXPECT_TRUE(p.ok()) << p.status().message();
  return p.ok() ? *p : api::ParsedProfile{};
}

TEST(CompileInlinePolicyTable, ExactDocuments) {
  for (const auto& c : testing::LoadCases("iam_policies.yaml")) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const api::ParsedProfile profile = Parse(c["spec"]);
    const std::string partition = c.value("partition", "aws");
    const std::string actual = guardrails::CanonicalInlinePolicy(profile, partition);
    auto expected = aws::CanonicalPolicyString(c["expect"].dump());
    ASSERT_TRUE(expected.ok()) << expected.status().message();
    EXPECT_EQ(actual, *expected);
    // Canonical output is a fixed point and equals the canonical form of the raw document.
    EXPECT_EQ(aws::CanonicalPolicyString(actual).value(), actual);
    EXPECT_TRUE(aws::PoliciesEquivalent(guardrails::CompileInlinePolicy(profile, partition).dump(), actual));
  }
}

TEST(CompileInlinePolicy, StableUnderRecompilation) {
  const json spec = {{"aws", {{"s3", {{{"bucket", "acme-raw"}, {"access", "read"}}}}}}};
  EXPECT_EQ(guardrails::CanonicalInlinePolicy(Parse(spec)), guardrails::CanonicalInlinePolicy(Parse(spec)));
}

TEST(CompileInlinePolicy, WithoutAwsOnlyTheTransportDeny) {
  const json document = guardrails::CompileInlinePolicy(Parse());
  ASSERT_EQ(document["Statement"].size(), 1u);
  EXPECT_EQ(document["Statement"][0]["Sid"], "PipeguardDenyInsecureTransport");
}

TEST(TrustPolicy, ExactDocument) {
  const std::string expected = aws::CanonicalPolicyString(R"({
    "Version": "2012-10-17",
    "Statement": [{
      "Sid": "PipeguardIrsa",
      "Effect": "Allow",
      "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF"},
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {"StringEquals": {
        "oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF:sub": "system:serviceaccount:etl:nightly-etl",
        "oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF:aud": "sts.amazonaws.com"}}
    }]})")
                                   .value();
  EXPECT_EQ(desired::TrustPolicy(Config(), "etl", "nightly-etl"), expected);
  guardrails::OperatorConfig china = Config();
  china.aws_partition = "aws-cn";
  EXPECT_THAT(desired::TrustPolicy(china, "etl", "x"),
              ::testing::HasSubstr("arn:aws-cn:iam::123456789012:oidc-provider/"));
}

TEST(RoleNameTable, ExactNamesAndLimits) {
  std::set<std::string> seen;
  for (const auto& c : testing::LoadCases("role_names.yaml")) {
    const std::string cluster = c["cluster"], ns = c["namespace"], profile = c["profile"];
    SCOPED_TRACE(ns + "/" + profile);
    ASSERT_EQ(("pg." + cluster + "." + ns + "." + profile).size(), c["fullLength"].get<size_t>());
    const std::string name = desired::RoleName(cluster, ns, profile);
    EXPECT_EQ(name, c["expect"].get<std::string>());
    EXPECT_LE(name.size(), 64u);
    EXPECT_TRUE(aws::ValidateRoleName(name).ok()) << name;
    EXPECT_EQ(name.find('_') != std::string::npos, c["fullLength"].get<size_t>() > 64);
    EXPECT_EQ(desired::RoleName(cluster, ns, profile), name);  // deterministic
    EXPECT_TRUE(seen.insert(name).second) << "collision: " << name;
  }
}

TEST(RoleName, DotsSeparateUnambiguously) {
  // Namespaces have no dots, so (ns "a-b", profile "c") and (ns "a", profile "b-c") differ; so do names that only
  // differ after the truncation point.
  EXPECT_NE(desired::RoleName("c", "a-b", "c"), desired::RoleName("c", "a", "b-c"));
  EXPECT_NE(desired::RoleName("c", "team", "x.y"), desired::RoleName("c", "team-x", "y"));
  const std::string long_a(200, 'a');
  EXPECT_NE(desired::RoleName("c", "ns", long_a + "1"), desired::RoleName("c", "ns", long_a + "2"));
}

TEST(RolePathAndArn, FromConfig) {
  const guardrails::OperatorConfig config = Config();
  EXPECT_EQ(desired::RolePath(config), "/pipeguard/prod-eu-1/");
  EXPECT_EQ(desired::ProfileRoleArn(config, Parse()),
            "arn:aws:iam::123456789012:role/pipeguard/prod-eu-1/pg.prod-eu-1.etl.nightly-etl");
}

TEST(OwnershipTags, SortedAndComplete) {
  const auto tags = desired::OwnershipTags(Config(), Parse());
  const std::vector<aws::Tag> expected = {{"pipeguard.io/cluster", "prod-eu-1"},
                                          {"pipeguard.io/managed-by", "pipeguard"},
                                          {"pipeguard.io/namespace", "etl"},
                                          {"pipeguard.io/profile", "nightly-etl"},
                                          {"pipeguard.io/profile-uid", "6f1c2a4e-0000-4000-8000-000000000001"}};
  EXPECT_EQ(tags, expected);
  EXPECT_TRUE(aws::ValidateTags(tags).ok());
}

TEST(ClassifyRoleOwnership, NeverAdoptsWithoutOurTags) {
  const guardrails::OperatorConfig config = Config();
  const api::ParsedProfile profile = Parse();
  auto tags = desired::OwnershipTags(config, profile);
  EXPECT_EQ(desired::ClassifyRoleOwnership(tags, config, profile), desired::RoleOwnership::kOurs);

  tags.push_back({"team", "data"});  // extra tags do not matter
  EXPECT_EQ(desired::ClassifyRoleOwnership(tags, config, profile), desired::RoleOwnership::kOurs);

  EXPECT_EQ(desired::ClassifyRoleOwnership({}, config, profile), desired::RoleOwnership::kForeign);
  EXPECT_EQ(desired::ClassifyRoleOwnership({{"pipeguard.io/managed-by", "terraform"}}, config, profile),
            desired::RoleOwnership::kForeign);
  // Our other tags without managed-by: still foreign.
  auto no_managed_by = desired::OwnershipTags(config, profile);
  no_managed_by.erase(no_managed_by.begin() + 1);
  EXPECT_EQ(desired::ClassifyRoleOwnership(no_managed_by, config, profile), desired::RoleOwnership::kForeign);

  auto other_ns = desired::OwnershipTags(config, profile);
  other_ns[2].value = "finance";
  EXPECT_EQ(desired::ClassifyRoleOwnership(other_ns, config, profile), desired::RoleOwnership::kOtherProfile);
  guardrails::OperatorConfig other_cluster = config;
  other_cluster.cluster_name = "prod-us-1";
  EXPECT_EQ(desired::ClassifyRoleOwnership(desired::OwnershipTags(config, profile), other_cluster, profile),
            desired::RoleOwnership::kOtherProfile);

  auto earlier = desired::OwnershipTags(config, profile);
  earlier[4].value = "an-older-uid";
  EXPECT_EQ(desired::ClassifyRoleOwnership(earlier, config, profile), desired::RoleOwnership::kOursEarlierUid);
}

TEST(DesiredCreateRole, EverythingCreateRoleSends) {
  const api::ParsedProfile profile = Parse({{"aws", {{"maxSessionDurationSeconds", 7200}}}});
  const auto request = desired::DesiredCreateRole(Config(), profile);
  EXPECT_EQ(request.role_name, "pg.prod-eu-1.etl.nightly-etl");
  EXPECT_EQ(request.path, "/pipeguard/prod-eu-1/");
  EXPECT_EQ(request.assume_role_policy_document, desired::TrustPolicy(Config(), "etl", "nightly-etl"));
  EXPECT_EQ(request.permissions_boundary_arn, "arn:aws:iam::123456789012:policy/pipeguard-boundary");
  EXPECT_EQ(request.max_session_duration, 7200);
  EXPECT_EQ(request.tags, desired::OwnershipTags(Config(), profile));
  EXPECT_EQ(request.description, "pipeguard: PipelineSecurityProfile etl/nightly-etl in cluster prod-eu-1");
  EXPECT_TRUE(aws::ValidateCreateRole(request).ok());
}

}  // namespace
}  // namespace pipeguard::reconcilers
