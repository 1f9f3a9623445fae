#include "pipeguard/desired/service_account.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_data.h"

namespace pipeguard::reconcilers {
namespace {

using nlohmann::json;

constexpr const char* kArn = "arn:aws:iam::123456789012:role/pipeguard/prod/pg.prod.etl.nightly-etl";

api::ParsedProfile Parse(const json& spec_patch = json::object()) {
  auto p = api::ParseProfile(testing::ProfileWith(spec_patch));
  EXPECT_TRUE(p.ok()) << p.status().message();
  return p.ok() ? *p : api::ParsedProfile{};
}

TEST(DesiredServiceAccount, ExactObject) {
  const json expected = json::parse(R"({
    "apiVersion": "v1", "kind": "ServiceAccount",
    "metadata": {
      "name": "nightly-etl", "namespace": "etl",
      "labels": {"app.kubernetes.io/managed-by": "pipeguard", "pipeguard.io/profile": "nightly-etl",
                 "pipeguard.io/profile-uid": "6f1c2a4e-0000-4000-8000-000000000001"},
      "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/pipeguard/prod/pg.prod.etl.nightly-etl",
                      "eks.amazonaws.com/sts-regional-endpoints": "true"},
      "ownerReferences": [{"apiVersion": "pipeguard.io/v1alpha1", "kind": "PipelineSecurityProfile",
                           "name": "nightly-etl", "uid": "6f1c2a4e-0000-4000-8000-000000000001",
                           "controller": true, "blockOwnerDeletion": true}]},
    "automountServiceAccountToken": false})");
  auto sa = desired::DesiredServiceAccount(Parse({{"aws", json::object()}}), std::string(kArn));
  ASSERT_TRUE(sa.ok()) << sa.status().message();
  EXPECT_EQ(*sa, expected) << sa->dump(2);
}

TEST(DesiredServiceAccount, NoAnnotationsUntilTheRoleExistsAutomountAsTheProfileSays) {
  auto sa = desired::DesiredServiceAccount(Parse({{"serviceAccount", {{"automountToken", true}}}}), std::nullopt);
  ASSERT_TRUE(sa.ok());
  EXPECT_FALSE((*sa)["metadata"].contains("annotations"));
  EXPECT_EQ((*sa)["automountServiceAccountToken"], true);
}

TEST(DesiredServiceAccount, NeedsUid) {
  api::ParsedProfile profile = Parse();
  profile.uid.clear();
  EXPECT_EQ(desired::DesiredServiceAccount(profile, std::nullopt).status().code(), StatusCode::kFailedPrecondition);
}

TEST(ProfileLabelValue, FitsALabelValue) {
  EXPECT_EQ(desired::ProfileLabelValue("nightly-etl"), "nightly-etl");
  const std::string exactly63(63, 'a');
  EXPECT_EQ(desired::ProfileLabelValue(exactly63), exactly63);
  const std::string name = std::string(49, 'a') + "-." + std::string(100, 'b');
  const std::string value = desired::ProfileLabelValue(name);
  EXPECT_LE(value.size(), 63u);
  EXPECT_EQ(value.substr(0, 50), std::string(49, 'a') + "-");  // trailing '-' and '.' of the head dropped
  EXPECT_NE(value, desired::ProfileLabelValue(name + "c"));
}

TEST(PlanServiceAccountUpdate, KeepsOthersFieldsFixesOurs) {
  const json desired = desired::DesiredServiceAccount(Parse({{"aws", json::object()}}), std::string(kArn)).value();
  json observed = desired;
  observed["metadata"]["resourceVersion"] = "7";
  observed["metadata"]["annotations"]["team"] = "data";
  observed["secrets"] = json::array({{{"name", "token"}}});
  EXPECT_EQ(desired::PlanServiceAccountUpdate(desired, observed), std::nullopt);

  json tampered = observed;
  tampered["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] = "arn:aws:iam::999999999999:role/admin";
  tampered.erase("automountServiceAccountToken");  // unset means true in Kubernetes
  auto update = desired::PlanServiceAccountUpdate(desired, tampered);
  ASSERT_TRUE(update.has_value());
  EXPECT_EQ((*update)["metadata"]["annotations"]["eks.amazonaws.com/role-arn"], kArn);
  EXPECT_EQ((*update)["metadata"]["annotations"]["team"], "data");
  EXPECT_EQ((*update)["automountServiceAccountToken"], false);
  EXPECT_EQ((*update)["secrets"], observed["secrets"]);
  EXPECT_EQ((*update)["metadata"]["resourceVersion"], "7");
  EXPECT_EQ(desired::PlanServiceAccountUpdate(desired, *update), std::nullopt);

  // The profile dropped spec.aws: our annotations go, the team's stay.
  const json without_role = desired::DesiredServiceAccount(Parse(), std::nullopt).value();
  update = desired::PlanServiceAccountUpdate(without_role, observed);
  ASSERT_TRUE(update.has_value());
  EXPECT_FALSE((*update)["metadata"]["annotations"].contains("eks.amazonaws.com/role-arn"));
  EXPECT_FALSE((*update)["metadata"]["annotations"].contains("eks.amazonaws.com/sts-regional-endpoints"));
  EXPECT_EQ((*update)["metadata"]["annotations"]["team"], "data");
}

}  // namespace
}  // namespace pipeguard::reconcilers
