#include "pipeguard/guardrails/guardrails.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pipeguard/desired/iam_role.h"
#include "pipeguard/profile/cidr.h"
#include "pipeguard/profile/glob.h"
#include "test_data.h"

namespace pipeguard::reconcilers {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

TEST(CheckProfileGuardrailsTable, ExactPaths) {
  for (const auto& c : testing::LoadCases("guardrails.yaml")) {
    SCOPED_TRACE(c["name"].get<std::string>());
    auto guardrails = guardrails::ParseGuardrailsConfig(c["guardrails"].dump(), "case");  // JSON is YAML
    ASSERT_TRUE(guardrails.ok()) << guardrails.status().message();
    const auto violations = guardrails::CheckProfileGuardrails(testing::ProfileWith(c["spec"]), *guardrails);
    const json& expected = c["violations"];
    ASSERT_EQ(violations.size(), expected.size()) << api::JoinViolations(violations);
    for (size_t i = 0; i < violations.size(); ++i) {
      EXPECT_EQ(violations[i].path, expected[i][0].get<std::string>()) << violations[i].message;
      EXPECT_THAT(violations[i].message, HasSubstr(expected[i][1].get<std::string>()));
    }
  }
}

TEST(ActionForbiddenTable, WildcardsThatExpandToForbiddenActions) {
  for (const auto& c : testing::LoadCases("actions.yaml")) {
    const std::string action = c[0], forbidden = c[1];
    EXPECT_EQ(guardrails::ActionForbidden(action, forbidden), c[2].get<bool>()) << action << " vs " << forbidden;
  }
}

TEST(CidrTable, ContainsAndOverlaps) {
  for (const auto& c : testing::LoadCases("cidrs.yaml")) {
    auto a = api::ParseCidr(c[0].get<std::string>());
    auto b = api::ParseCidr(c[1].get<std::string>());
    ASSERT_TRUE(a.ok() && b.ok()) << c.dump();
    EXPECT_EQ(api::CidrContains(*a, *b), c[2].get<bool>()) << c.dump();
    EXPECT_EQ(api::CidrsOverlap(*a, *b), c[3].get<bool>()) << c.dump();
    EXPECT_EQ(api::CidrsOverlap(*b, *a), c[3].get<bool>()) << c.dump();
  }
}

TEST(Cidr, ParsingAndCanonicalForm) {
  EXPECT_EQ(api::ParseCidr("10.0.0.1/8")->ToString(), "10.0.0.0/8");
  EXPECT_TRUE(api::ParseCidr("10.0.0.1/8")->HasHostBits());
  EXPECT_FALSE(api::ParseCidr("10.0.0.0/8")->HasHostBits());
  EXPECT_EQ(api::ParseCidr("2001:DB8:0:0::/32")->ToString(), "2001:db8::/32");
  for (const char* bad :
       {"10.0.0.0", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/08", "10.0.0/8", "::/129", "x/1", "10.0.0.0/", ""}) {
    EXPECT_FALSE(api::ParseCidr(bad).ok()) << bad;
  }
}

TEST(Cidr, CoveredByUnionOfParts) {
  auto c = [](const char* s) { return api::ParseCidr(s).value(); };
  EXPECT_TRUE(api::CidrCoveredBy(c("10.0.0.0/16"), {c("10.0.0.0/17"), c("10.0.128.0/17")}));
  EXPECT_FALSE(api::CidrCoveredBy(c("10.0.0.0/16"), {c("10.0.0.0/17"), c("10.0.128.0/18")}));
  EXPECT_TRUE(api::CidrCoveredBy(c("10.0.0.0/16"), {c("10.0.0.0/8")}));
  EXPECT_FALSE(api::CidrCoveredBy(c("10.0.0.0/16"), {}));
  EXPECT_TRUE(api::CidrCoveredBy(c("::/0"), {c("::/1"), c("8000::/1")}));
}

TEST(Glob, MatchAndIntersect) {
  EXPECT_TRUE(api::GlobMatch("acme-*", "acme-raw"));
  EXPECT_FALSE(api::GlobMatch("acme-*", "other"));
  EXPECT_TRUE(api::GlobMatch("a?c*", "abcdef"));
  EXPECT_FALSE(api::GlobMatch("a?c", "ac"));
  EXPECT_TRUE(api::GlobMatch("*", ""));
  EXPECT_FALSE(api::GlobMatch("ACME-*", "acme-raw"));
  EXPECT_TRUE(api::GlobMatch("ACME-*", "acme-raw", true));
  EXPECT_TRUE(api::GlobsIntersect("s3:*", "*:Get*"));
  EXPECT_FALSE(api::GlobsIntersect("s3:Get*", "s3:Put*"));
  EXPECT_TRUE(api::GlobsIntersect("a*b", "*"));
  EXPECT_FALSE(api::GlobsIntersect("a?", "abc"));
  EXPECT_TRUE(api::GlobsIntersect("a??", "*c"));
  // Many stars stay fast (polynomial, no backtracking blow-up).
  EXPECT_FALSE(api::GlobMatch(std::string(200, '*') + "b", std::string(5000, 'a')));
  EXPECT_FALSE(api::GlobsIntersect(std::string(300, '*') + "b", std::string(300, '*') + "c"));
}

guardrails::OperatorConfig Config() {
  guardrails::OperatorConfig c;
  c.cluster_name = "prod-eu-1";
  c.aws_account_id = "123456789012";
  c.oidc_issuer_url = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF";
  c.permissions_boundary_arn = "arn:aws:iam::123456789012:policy/pipeguard-boundary";
  return c;
}

TEST(CheckIamLimits, CleanProfilePasses) {
  auto profile =
      api::ParseProfile(testing::ProfileWith({{"aws", {{"s3", {{{"bucket", "acme"}, {"access", "read"}}}}}}}));
  ASSERT_TRUE(profile.ok());
  EXPECT_THAT(desired::CheckIamLimits(*profile, Config()), ::testing::IsEmpty());
}

TEST(CheckIamLimits, SizeLimitsReportedAsViolations) {
  // 32 buckets x 32 long prefixes: far above 10,240 characters.
  json buckets = json::array();
  for (int b = 0; b < 32; ++b) {
    json prefixes = json::array();
    for (int p = 0; p < 32; ++p) prefixes.push_back("some/long/partitioned/prefix/p" + std::to_string(p) + "/");
    buckets.push_back({{"bucket", "acme-bucket-" + std::to_string(b)}, {"access", "read"}, {"prefixes", prefixes}});
  }
  auto profile = api::ParseProfile(testing::ProfileWith({{"aws", {{"s3", buckets}}}}));
  ASSERT_TRUE(profile.ok()) << profile.status().message();
  auto violations = desired::CheckIamLimits(*profile, Config());
  ASSERT_EQ(violations.size(), 1u) << api::JoinViolations(violations);
  EXPECT_EQ(violations[0].path, "/spec/aws");
  EXPECT_THAT(violations[0].message, HasSubstr("split"));
  // The webhook's check reports the same at admission.
  auto at_admission = guardrails::CheckProfileGuardrails(testing::ProfileWith({{"aws", {{"s3", buckets}}}}),
                                                         guardrails::GuardrailsConfig{});
  ASSERT_FALSE(at_admission.empty());
  EXPECT_THAT(at_admission.back().message, HasSubstr("inline policy quota (10240)"));

  aws::IamLimits tight;
  tight.trust_policy_max = 100;
  auto small = api::ParseProfile(testing::ProfileWith({{"aws", json::object()}}));
  ASSERT_TRUE(small.ok());
  violations = desired::CheckIamLimits(*small, Config(), tight);
  ASSERT_EQ(violations.size(), 1u) << api::JoinViolations(violations);
  EXPECT_EQ(violations[0].path, "/spec/serviceAccount/name");
}

TEST(CheckIamLimits, ProfileWithoutAwsHasNoRole) {
  auto profile = api::ParseProfile(testing::ProfileWith());
  ASSERT_TRUE(profile.ok());
  aws::IamLimits tight;
  tight.trust_policy_max = 1;
  EXPECT_THAT(desired::CheckIamLimits(*profile, Config(), tight), ::testing::IsEmpty());
}

}  // namespace
}  // namespace pipeguard::reconcilers
