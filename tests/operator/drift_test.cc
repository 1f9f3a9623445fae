#include "pipeguard/desired/drift.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pipeguard/desired/iam_role.h"
#include "pipeguard/desired/network_policy.h"
#include "pipeguard/desired/service_account.h"
#include "pipeguard/guardrails/iam_policy.h"
#include "test_data.h"

namespace pipeguard::reconcilers {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

guardrails::OperatorConfig Config() {
  guardrails::OperatorConfig c;
  c.cluster_name = "prod";
  c.aws_account_id = "123456789012";
  c.oidc_issuer_url = "https://oidc.example.com/id/X";
  c.permissions_boundary_arn = "arn:aws:iam::123456789012:policy/boundary";
  c.sts_egress_cidrs = {"10.0.8.0/24"};
  return c;
}

api::ParsedProfile Profile() {
  auto p = api::ParseProfile(testing::ProfileWith({{"aws", {{"s3", {{{"bucket", "acme-raw"}, {"access", "read"}}}}}}}));
  EXPECT_TRUE(p.ok()) << p.status().message();
  return p.ok() ? *p : api::ParsedProfile{};
}

desired::RoleState Desired() {
  const api::ParsedProfile profile = Profile();
  desired::RoleState s;
  s.trust_policy = desired::TrustPolicy(Config(), profile.namespace_, profile.service_account);
  s.inline_policies[std::string(desired::kInlinePolicyName)] = guardrails::CanonicalInlinePolicy(profile);
  s.permissions_boundary_arn = Config().permissions_boundary_arn;
  s.tags = desired::OwnershipTags(Config(), profile);
  s.max_session_duration = 3600;
  return s;
}

std::vector<desired::DriftKind> Kinds(const std::vector<desired::Drift>& drifts) {
  std::vector<desired::DriftKind> out;
  for (const auto& d : drifts) out.push_back(d.kind);
  return out;
}

TEST(ClassifyRoleDrift, IamRewritingIsNotDrift) {
  desired::RoleState observed = Desired();
  // IAM returns documents re-serialised: one-element lists as strings, keys reordered, whitespace.
  json trust = json::parse(observed.trust_policy);
  observed.trust_policy = trust.dump(2);
  json policy = json::parse(observed.inline_policies.begin()->second);
  policy["Statement"][1]["Action"] = json::array({"s3:GetBucketLocation", "s3:ListBucket"});
  observed.inline_policies.begin()->second = policy.dump(4);
  observed.tags.push_back({"cost-center", "42"});
  EXPECT_THAT(desired::ClassifyRoleDrift(Desired(), observed), IsEmpty());
}

TEST(ClassifyRoleDrift, EachPart) {
  {
    desired::RoleState observed = Desired();
    json trust = json::parse(observed.trust_policy);
    trust["Statement"][0]["Condition"]["StringEquals"]["oidc.example.com/id/X:sub"] = "system:serviceaccount:etl:*";
    observed.trust_policy = trust.dump();
    EXPECT_THAT(Kinds(desired::ClassifyRoleDrift(Desired(), observed)),
                ElementsAre(desired::DriftKind::kRoleTrustPolicy));
  }
  {
    desired::RoleState observed = Desired();
    json policy = json::parse(observed.inline_policies.begin()->second);
    policy["Statement"].push_back({{"Effect", "Allow"}, {"Action", "*"}, {"Resource", "*"}});
    observed.inline_policies.begin()->second = policy.dump();
    observed.inline_policies["backdoor"] = R"({"Version":"2012-10-17","Statement":[]})";
    const auto drifts = desired::ClassifyRoleDrift(Desired(), observed);
    EXPECT_THAT(Kinds(drifts),
                ElementsAre(desired::DriftKind::kRoleInlinePolicy, desired::DriftKind::kRoleInlinePolicy));
    EXPECT_EQ(drifts[0].detail, "inline policy pipeguard-profile changed");
    EXPECT_EQ(drifts[1].detail, "inline policy backdoor added");
  }
  {
    desired::RoleState observed = Desired();
    observed.inline_policies.clear();
    EXPECT_THAT(
        desired::ClassifyRoleDrift(Desired(), observed),
        ElementsAre(desired::Drift{desired::DriftKind::kRoleInlinePolicy, "inline policy pipeguard-profile deleted"}));
  }
  {
    desired::RoleState observed = Desired();
    observed.managed_policy_arns = {"arn:aws:iam::aws:policy/AdministratorAccess"};
    EXPECT_THAT(Kinds(desired::ClassifyRoleDrift(Desired(), observed)),
                ElementsAre(desired::DriftKind::kRoleManagedPolicies));
  }
  {
    desired::RoleState observed = Desired();
    observed.permissions_boundary_arn.clear();
    EXPECT_THAT(
        desired::ClassifyRoleDrift(Desired(), observed),
        ElementsAre(desired::Drift{desired::DriftKind::kRolePermissionsBoundary, "permissions boundary removed"}));
  }
  {
    desired::RoleState observed = Desired();
    observed.tags.erase(observed.tags.begin());  // pipeguard.io/cluster
    observed.tags[0].value = "terraform";        // pipeguard.io/managed-by
    EXPECT_THAT(desired::ClassifyRoleDrift(Desired(), observed),
                ElementsAre(desired::Drift{desired::DriftKind::kRoleTags, "tag pipeguard.io/cluster removed"},
                            desired::Drift{desired::DriftKind::kRoleTags, "tag pipeguard.io/managed-by changed"}));
  }
  {
    desired::RoleState observed = Desired();
    observed.max_session_duration = 43200;
    EXPECT_THAT(Kinds(desired::ClassifyRoleDrift(Desired(), observed)),
                ElementsAre(desired::DriftKind::kRoleMaxSessionDuration));
  }
  {
    desired::RoleState observed = Desired();
    observed.trust_policy = "not json";  // unparseable never equals
    EXPECT_THAT(Kinds(desired::ClassifyRoleDrift(Desired(), observed)),
                ElementsAre(desired::DriftKind::kRoleTrustPolicy));
  }
}

TEST(ClassifyServiceAccountDrift, AnnotationAutomountLabelsDeletion) {
  const json desired = desired::DesiredServiceAccount(Profile(), desired::ProfileRoleArn(Config(), Profile())).value();
  EXPECT_THAT(desired::ClassifyServiceAccountDrift(desired, desired), IsEmpty());

  json observed = desired;
  observed["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] = "arn:aws:iam::1:role/other";
  auto drifts = desired::ClassifyServiceAccountDrift(desired, observed);
  ASSERT_EQ(drifts.size(), 1u);
  EXPECT_EQ(drifts[0].detail, "ServiceAccount etl/nightly-etl: annotation eks.amazonaws.com/role-arn changed");

  observed = desired;
  observed.erase("automountServiceAccountToken");
  EXPECT_THAT(Kinds(desired::ClassifyServiceAccountDrift(desired, observed)),
              ElementsAre(desired::DriftKind::kServiceAccount));

  observed = desired;
  observed["metadata"]["labels"].erase("app.kubernetes.io/managed-by");
  observed["metadata"]["annotations"].erase("eks.amazonaws.com/sts-regional-endpoints");
  EXPECT_EQ(desired::ClassifyServiceAccountDrift(desired, observed).size(), 2u);

  EXPECT_THAT(
      desired::ClassifyServiceAccountDrift(desired, std::nullopt),
      ElementsAre(desired::Drift{desired::DriftKind::kServiceAccount, "ServiceAccount etl/nightly-etl deleted"}));
}

TEST(ClassifyNetworkPolicyDrift, SpecLabelsDeletionButNotReordering) {
  const json desired = desired::DesiredAllowNetworkPolicy(Profile(), Config(), nullptr).value();
  json observed = desired;
  std::reverse(observed["spec"]["egress"].begin(), observed["spec"]["egress"].end());
  observed["metadata"]["resourceVersion"] = "9";
  EXPECT_THAT(desired::ClassifyNetworkPolicyDrift(desired, observed), IsEmpty());

  observed["spec"]["egress"].push_back({{"ports", json::array({{{"port", 22}}})}});
  EXPECT_THAT(desired::ClassifyNetworkPolicyDrift(desired, observed),
              ElementsAre(desired::Drift{desired::DriftKind::kNetworkPolicy,
                                         "NetworkPolicy etl/pipeguard-nightly-etl-allow: spec changed"}));
  EXPECT_THAT(Kinds(desired::ClassifyNetworkPolicyDrift(desired, std::nullopt)),
              ElementsAre(desired::DriftKind::kNetworkPolicy));
}

TEST(DriftKindLabel, MetricLabels) {
  EXPECT_EQ(desired::DriftKindLabel(desired::DriftKind::kRoleTrustPolicy), "iam_trust_policy");
  EXPECT_EQ(desired::DriftKindLabel(desired::DriftKind::kRoleInlinePolicy), "iam_inline_policy");
  EXPECT_EQ(desired::DriftKindLabel(desired::DriftKind::kRoleManagedPolicies), "iam_managed_policies");
  EXPECT_EQ(desired::DriftKindLabel(desired::DriftKind::kRolePermissionsBoundary), "iam_permissions_boundary");
  EXPECT_EQ(desired::DriftKindLabel(desired::DriftKind::kRoleTags), "iam_tags");
  EXPECT_EQ(desired::DriftKindLabel(desired::DriftKind::kRoleMaxSessionDuration), "iam_max_session_duration");
  EXPECT_EQ(desired::DriftKindLabel(desired::DriftKind::kServiceAccount), "service_account");
  EXPECT_EQ(desired::DriftKindLabel(desired::DriftKind::kNetworkPolicy), "network_policy");
}

}  // namespace
}  // namespace pipeguard::reconcilers
