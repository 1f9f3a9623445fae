#include "pipeguard/guardrails/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_data.h"

namespace pipeguard::reconcilers {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(ParseOperatorConfigTable, EveryCase) {
  for (const auto& c : testing::LoadCases("operator_config.yaml")) {
    SCOPED_TRACE(c["name"].get<std::string>());
    auto config = guardrails::ParseOperatorConfig(c["yaml"].get<std::string>(), "operator.yaml");
    if (c.value("ok", false)) {
      EXPECT_TRUE(config.ok()) << config.status().message();
    } else {
      ASSERT_FALSE(config.ok());
      EXPECT_THAT(config.status().message(), StartsWith(c["error"].get<std::string>()));
    }
  }
}

TEST(ParseOperatorConfig, FullConfigurationValues) {
  nlohmann::json full;
  for (const auto& c : testing::LoadCases("operator_config.yaml")) {
    if (c["name"] == "full configuration") full = c;
  }
  auto config = guardrails::ParseOperatorConfig(full["yaml"].get<std::string>(), "operator.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->cluster_name, "prod-eu-1");
  EXPECT_EQ(config->aws_account_id, "123456789012");
  EXPECT_EQ(config->oidc_issuer_url, "https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF");  // no trailing /
  EXPECT_EQ(config->OidcProviderHostPath(), "oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF");
  EXPECT_EQ(config->permissions_boundary_arn, "arn:aws:iam::123456789012:policy/pipeguard-boundary");
  EXPECT_EQ(config->role_path_prefix, "/platform/pipeguard/");
  EXPECT_EQ(config->sts_egress_cidrs, (std::vector<std::string>{"10.0.8.0/24", "2001:db8:8::/64"}));
  EXPECT_EQ(config->resync_period, std::chrono::minutes(15));
  EXPECT_EQ(config->guardrails.allowed_bucket_patterns, std::vector<std::string>{"acme-*"});
  EXPECT_EQ(config->guardrails.forbidden_actions, (std::vector<std::string>{"*", "iam:*"}));
  EXPECT_EQ(config->guardrails.forbidden_egress_cidrs, std::vector<std::string>{"0.0.0.0/0"});
  EXPECT_EQ(config->guardrails.max_statements, 40);
}

TEST(ParseOperatorConfig, Defaults) {
  auto config = guardrails::ParseOperatorConfig(
      "clusterName: dev\nawsAccountId: \"000000000000\"\noidcIssuerUrl: https://issuer.example.com\n"
      "permissionsBoundaryArn: arn:aws:iam::000000000000:policy/b\n",
      "operator.yaml");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->aws_partition, "aws");
  EXPECT_EQ(config->role_path_prefix, "/pipeguard/");
  EXPECT_TRUE(config->sts_egress_cidrs.empty());
  EXPECT_EQ(config->resync_period, std::chrono::minutes(10));
  const guardrails::GuardrailsConfig defaults;
  EXPECT_EQ(config->guardrails.forbidden_actions, defaults.forbidden_actions);
  EXPECT_EQ(defaults.forbidden_egress_cidrs,
            (std::vector<std::string>{"0.0.0.0/0", "::/0", "169.254.169.254/32", "fd00:ec2::254/128"}));
}

TEST(ParseGuardrailsConfig, StandaloneDocument) {
  auto g =
      guardrails::ParseGuardrailsConfig("allowedBucketPatterns: [acme-data-*]\nmaxStatements: 0\n", "guardrails.yaml");
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->allowed_bucket_patterns, std::vector<std::string>{"acme-data-*"});
  EXPECT_EQ(g->max_statements, 0);
  EXPECT_EQ(g->forbidden_actions,
            guardrails::GuardrailsConfig().forbidden_actions);  // untouched keys keep their defaults

  auto bad = guardrails::ParseGuardrailsConfig("forbiddenActions: [iam]\n", "guardrails.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), StartsWith("guardrails.yaml:1: forbiddenActions: \"iam\" is not an IAM action"));

  auto bucket = guardrails::ParseGuardrailsConfig("allowedBucketPatterns:\n  - ok-*\n  - Bad_Name\n", "g.yaml");
  ASSERT_FALSE(bucket.ok());
  EXPECT_THAT(bucket.status().message(), StartsWith("g.yaml:3: allowedBucketPatterns:"));

  auto cidr = guardrails::ParseGuardrailsConfig("forbiddenEgressCidrs: [0.0.0.0]\n", "g.yaml");
  ASSERT_FALSE(cidr.ok());
  EXPECT_THAT(cidr.status().message(), HasSubstr("prefix length"));

  auto negative = guardrails::ParseGuardrailsConfig("maxStatements: -1\n", "g.yaml");
  ASSERT_FALSE(negative.ok());
  EXPECT_THAT(negative.status().message(), HasSubstr("integer from 0"));
}

}  // namespace
}  // namespace pipeguard::reconcilers
