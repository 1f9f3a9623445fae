// ProfileReconciler against FakeKubeClient and an in-memory IAM (fake_iam.h): create path, zero-write second pass,
// drift reverted per part, foreign roles refused, guardrails, throttling, deletion order and Retain.
#include "pipeguard/reconcilers/reconciler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fake_iam.h"
#include "pipeguard/aws/policy_document.h"
#include "pipeguard/desired/iam_role.h"
#include "pipeguard/guardrails/iam_policy.h"
#include "pipeguard/kube/fake_client.h"
#include "pipeguard/profile/profile.h"
#include "reconciler_fixtures.h"

namespace pipeguard::reconcilers {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Json = nlohmann::json;
namespace res = kube::resources;

using testing::ProfileObject;
using testing::TestConfig;

class ReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ProfileReconcilerOptions o;
    o.config = TestConfig();
    o.metrics = &metrics_;
    o.audit = [this](const Json& r) { audit_.push_back(r); };
    reconciler_ = std::make_unique<ProfileReconciler>(kube_, iam_, o, clock_);
  }

  Json CreateProfile(const Json& object = ProfileObject()) {
    auto created = kube_.Create(res::PipelineSecurityProfiles(), "data", object);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return *created;
  }
  ReconcileResult Reconcile() {
    auto r = reconciler_->Reconcile("data", "etl");
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : ReconcileResult{};
  }
  Json Profile() { return *kube_.Get(res::PipelineSecurityProfiles(), "data", "etl"); }
  Json ConditionOf(const std::string& type) {
    const Json profile = Profile();
    for (const auto& c : profile["status"]["conditions"]) {
      if (c["type"] == type) return c;
    }
    return Json();
  }
  std::vector<Json> Events(const std::string& type = "") {
    std::vector<Json> out;
    auto listed = kube_.List(res::Events(), "data", {});
    EXPECT_TRUE(listed.ok());
    for (auto& e : listed->items) {
      if (type.empty() || e["type"] == type) out.push_back(e);
    }
    return out;
  }
  int KubeWrites() {
    return kube_.Calls(kube::Verb::kCreate) + kube_.Calls(kube::Verb::kUpdate) + kube_.Calls(kube::Verb::kApply) +
           kube_.Calls(kube::Verb::kPatch) + kube_.Calls(kube::Verb::kDelete);
  }
  std::string TestRoleName() { return desired::RoleName("test", "data", "etl"); }

  kube::FakeKubeClient kube_;
  testing::FakeIam iam_;
  kube::FakeClock clock_;
  OperatorMetrics metrics_;
  std::vector<Json> audit_;
  std::unique_ptr<ProfileReconciler> reconciler_;
};

TEST_F(ReconcilerTest, NotFoundIsDone) {
  auto r = reconciler_->Reconcile("data", "missing");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->action, ReconcileResult::Action::kDone);
  EXPECT_EQ(iam_.Calls("GetRole"), 0);
}

TEST_F(ReconcilerTest, CreatePathMakesRoleServiceAccountPoliciesAndStatus) {
  CreateProfile();
  EXPECT_EQ(Reconcile().action, ReconcileResult::Action::kDone);
  const Json profile = Profile();
  EXPECT_THAT(profile["metadata"]["finalizers"], Contains("pipeguard.io/iam-role"));

  ASSERT_TRUE(iam_.Has(TestRoleName()));
  auto& role = iam_.Stored(TestRoleName());
  auto parsed = api::ParseProfile(profile);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(aws::PoliciesEquivalent(role.role.assume_role_policy_document,
                                      desired::TrustPolicy(TestConfig(), "data", "etl-sa")));
  EXPECT_THAT(role.role.assume_role_policy_document, HasSubstr("system:serviceaccount:data:etl-sa"));
  ASSERT_EQ(role.inline_policies.count("pipeguard-profile"), 1u);
  EXPECT_TRUE(
      aws::PoliciesEquivalent(role.inline_policies["pipeguard-profile"], guardrails::CanonicalInlinePolicy(*parsed)));
  EXPECT_EQ(role.role.permissions_boundary_arn, TestConfig().permissions_boundary_arn);
  EXPECT_EQ(role.role.tags, desired::OwnershipTags(TestConfig(), *parsed));
  EXPECT_EQ(role.role.path, "/pipeguard/test/");

  auto sa = kube_.Get(res::ServiceAccounts(), "data", "etl-sa");
  ASSERT_TRUE(sa.ok());
  EXPECT_EQ((*sa)["metadata"]["annotations"]["eks.amazonaws.com/role-arn"], role.role.arn);
  EXPECT_EQ((*sa)["automountServiceAccountToken"], false);
  EXPECT_EQ((*sa)["metadata"]["ownerReferences"][0]["name"], "etl");
  EXPECT_TRUE(kube_.Get(res::NetworkPolicies(), "data", "pipeguard-etl-deny").ok());
  EXPECT_TRUE(kube_.Get(res::NetworkPolicies(), "data", "pipeguard-etl-allow").ok());

  EXPECT_EQ(profile["status"]["roleArn"], role.role.arn);
  EXPECT_EQ(profile["status"]["observedGeneration"], profile["metadata"]["generation"]);
  EXPECT_EQ(profile["status"]["serviceAccount"], "etl-sa");
  EXPECT_THAT(profile["status"]["networkPolicies"], ElementsAre("pipeguard-etl-deny", "pipeguard-etl-allow"));
  for (const char* type : {"ServiceAccountReady", "IAMRoleReady", "NetworkPolicyReady", "Ready"}) {
    EXPECT_EQ(ConditionOf(type)["status"], "True") << type << ": " << ConditionOf(type).dump();
  }
  bool role_created_event = false;
  for (const auto& e : Events("Normal")) role_created_event |= e["reason"] == "RoleCreated";
  EXPECT_TRUE(role_created_event);
  EXPECT_TRUE(Events("Warning").empty());
}

TEST_F(ReconcilerTest, SecondReconcileMakesZeroWrites) {
  CreateProfile();
  Reconcile();
  Reconcile();  // converges status (Ready True recorded at this generation)
  const int kube_writes = KubeWrites();
  const int iam_writes = iam_.Writes();
  const std::string transition = ConditionOf("Ready")["lastTransitionTime"];
  clock_.Advance(std::chrono::hours(1));
  EXPECT_EQ(Reconcile().action, ReconcileResult::Action::kDone);
  EXPECT_EQ(KubeWrites(), kube_writes);
  EXPECT_EQ(iam_.Writes(), iam_writes);
  EXPECT_EQ(ConditionOf("Ready")["lastTransitionTime"], transition);
}

TEST_F(ReconcilerTest, DriftInEveryPartIsRevertedWithWarningMetricAndAudit) {
  CreateProfile();
  Reconcile();
  Reconcile();
  auto& role = iam_.Stored(TestRoleName());
  const std::string trust = role.role.assume_role_policy_document;
  const std::string inline_policy = role.inline_policies["pipeguard-profile"];
  role.role.assume_role_policy_document = R"({"Version":"2012-10-17","Statement":[]})";
  role.inline_policies["pipeguard-profile"] =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})";
  role.inline_policies["backdoor"] = R"({"Version":"2012-10-17","Statement":[]})";
  role.attached.push_back({"AdministratorAccess", "arn:aws:iam::aws:policy/AdministratorAccess"});
  role.role.permissions_boundary_arn.clear();
  std::erase_if(role.role.tags, [](const aws::Tag& t) { return t.key == "pipeguard.io/profile-uid"; });
  Json sa = *kube_.Get(res::ServiceAccounts(), "data", "etl-sa");
  sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] = "arn:aws:iam::999999999999:role/evil";
  ASSERT_TRUE(kube_.Update(res::ServiceAccounts(), "data", sa).ok());
  Json np = *kube_.Get(res::NetworkPolicies(), "data", "pipeguard-etl-allow");
  np["spec"]["egress"] = Json::array({Json::object()});  // allow everything
  ASSERT_TRUE(kube_.Update(res::NetworkPolicies(), "data", np).ok());
  ASSERT_TRUE(kube_.Delete(res::NetworkPolicies(), "data", "pipeguard-etl-deny").ok());
  const int deletes = kube_.Calls(kube::Verb::kDelete);

  Reconcile();

  EXPECT_TRUE(aws::PoliciesEquivalent(role.role.assume_role_policy_document, trust));
  EXPECT_TRUE(aws::PoliciesEquivalent(role.inline_policies["pipeguard-profile"], inline_policy));
  EXPECT_EQ(role.inline_policies.count("backdoor"), 0u);
  EXPECT_TRUE(role.attached.empty());
  EXPECT_EQ(role.role.permissions_boundary_arn, TestConfig().permissions_boundary_arn);
  EXPECT_EQ(desired::ClassifyRoleOwnership(role.role.tags, TestConfig(), *api::ParseProfile(Profile())),
            desired::RoleOwnership::kOurs);
  EXPECT_EQ(
      kube_.Get(res::ServiceAccounts(), "data", "etl-sa")->at("metadata")["annotations"]["eks.amazonaws.com/role-arn"],
      role.role.arn);
  auto allow = kube_.Get(res::NetworkPolicies(), "data", "pipeguard-etl-allow");
  EXPECT_EQ((*allow)["metadata"]["uid"], np["metadata"]["uid"]) << "updated in place, not recreated";
  EXPECT_NE((*allow)["spec"]["egress"], Json::array({Json::object()}));
  EXPECT_TRUE(kube_.Get(res::NetworkPolicies(), "data", "pipeguard-etl-deny").ok());
  EXPECT_EQ(kube_.Calls(kube::Verb::kDelete), deletes) << "the operator never deletes a NetworkPolicy";

  for (const char* kind : {"iam_trust_policy", "iam_inline_policy", "iam_managed_policies", "iam_permissions_boundary",
                           "iam_tags", "service_account", "network_policy"}) {
    EXPECT_GE(metrics_.DriftRevertedCount(kind), 1) << kind;
    bool audited = false;
    for (const auto& a : audit_) audited |= a["audit"] == "drift_reverted" && a["kind"] == kind;
    EXPECT_TRUE(audited) << kind;
  }
  EXPECT_EQ(metrics_.DriftRevertedCount("network_policy"), 2);
  int warnings = 0;
  for (const auto& e : Events("Warning")) warnings += e["reason"] == "DriftReverted";
  EXPECT_EQ(warnings, 8);
  EXPECT_EQ(ConditionOf("Ready")["status"], "True");
}

TEST_F(ReconcilerTest, MaxSessionDurationDriftIsReverted) {
  CreateProfile();
  Reconcile();
  Reconcile();
  auto& role = iam_.Stored(TestRoleName());
  ASSERT_EQ(role.role.max_session_duration, 3600);
  role.role.max_session_duration = 43200;  // longer-lived stolen credentials
  Reconcile();
  EXPECT_EQ(role.role.max_session_duration, 3600);
  EXPECT_EQ(iam_.Calls("UpdateRole"), 1);
  EXPECT_EQ(metrics_.DriftRevertedCount("iam_max_session_duration"), 1);
  int warnings = 0;
  for (const auto& e : Events("Warning")) warnings += e["reason"] == "DriftReverted";
  EXPECT_EQ(warnings, 1);
  Reconcile();
  EXPECT_EQ(iam_.Calls("UpdateRole"), 1) << "converged: no further write";
}

TEST_F(ReconcilerTest, ProfileChangeIsAnUpdateNotDrift) {
  CreateProfile();
  Reconcile();
  Reconcile();
  Json p = Profile();
  p["spec"]["aws"]["s3"][0]["bucket"] = "acme-curated";
  ASSERT_TRUE(kube_.Update(res::PipelineSecurityProfiles(), "data", p).ok());
  Reconcile();
  EXPECT_THAT(iam_.Stored(TestRoleName()).inline_policies["pipeguard-profile"], HasSubstr("acme-curated"));
  EXPECT_EQ(metrics_.DriftRevertedCount("iam_inline_policy"), 0);
  EXPECT_EQ(ConditionOf("Ready")["status"], "True");
  EXPECT_EQ(Profile()["status"]["observedGeneration"], Profile()["metadata"]["generation"]);
}

TEST_F(ReconcilerTest, ForeignRoleIsRefusedAndLeftUntouched) {
  CreateProfile();
  ASSERT_TRUE(iam_.CreateRole({TestRoleName(), "/pipeguard/test/", R"({"Version":"2012-10-17","Statement":[]})"}).ok());
  const int writes = iam_.Writes();
  Reconcile();
  EXPECT_EQ(iam_.Writes(), writes);
  EXPECT_EQ(ConditionOf("IAMRoleReady")["reason"], "AdoptionRefused");
  EXPECT_EQ(ConditionOf("Ready")["status"], "False");
  EXPECT_TRUE(iam_.Stored(TestRoleName()).inline_policies.empty());
  bool refused = false;
  for (const auto& e : Events("Warning")) refused |= e["reason"] == "AdoptionRefused";
  EXPECT_TRUE(refused);
  // The ServiceAccount exists but is not bound to the foreign role.
  auto sa = kube_.Get(res::ServiceAccounts(), "data", "etl-sa");
  ASSERT_TRUE(sa.ok());
  EXPECT_FALSE((*sa)["metadata"].contains("annotations") &&
               (*sa)["metadata"]["annotations"].contains("eks.amazonaws.com/role-arn"));
}

TEST_F(ReconcilerTest, GuardrailViolationIsReadyFalseWithoutAwsCalls) {
  Json p = ProfileObject();
  p["spec"]["aws"]["additionalStatements"] =
      Json::parse(R"([{"sid": "Admin", "effect": "Allow", "actions": ["iam:*"], "resources": ["*"]}])");
  CreateProfile(p);
  Reconcile();
  EXPECT_EQ(iam_.Log().size(), 0u);
  const Json ready = ConditionOf("Ready");
  EXPECT_EQ(ready["status"], "False");
  EXPECT_EQ(ready["reason"], "GuardrailViolation");
  EXPECT_THAT(ready["message"].get<std::string>(), HasSubstr("iam:*"));
  EXPECT_FALSE(kube_.Get(res::ServiceAccounts(), "data", "etl-sa").ok());
  // The second pass neither calls AWS nor writes again.
  const int writes = KubeWrites();
  Reconcile();
  EXPECT_EQ(KubeWrites(), writes);
  EXPECT_EQ(iam_.Log().size(), 0u);
}

TEST_F(ReconcilerTest, ThrottlingRequeuesWithBackoff) {
  CreateProfile();
  iam_.FailNext("CreateRole", "Throttling");
  EXPECT_EQ(Reconcile().action, ReconcileResult::Action::kRequeue);
  EXPECT_EQ(ConditionOf("IAMRoleReady")["status"], "False");
  EXPECT_EQ(Reconcile().action, ReconcileResult::Action::kDone);
  EXPECT_TRUE(iam_.Has(TestRoleName()));
}

TEST_F(ReconcilerTest, EntityAlreadyExistsRaceRequeues) {
  CreateProfile();
  iam_.FailNext("CreateRole", "EntityAlreadyExists");
  EXPECT_EQ(Reconcile().action, ReconcileResult::Action::kRequeue);
}

TEST_F(ReconcilerTest, DeletionRemovesPoliciesThenRoleThenFinalizer) {
  CreateProfile();
  Reconcile();
  iam_.Stored(TestRoleName()).attached.push_back({"x", "arn:aws:iam::123456789012:policy/x"});
  Json p = Profile();
  p["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z";
  ASSERT_TRUE(kube_.Update(res::PipelineSecurityProfiles(), "data", p).ok());
  iam_.ClearLog();
  iam_.FailNext("DeleteRole", "DeleteConflict");
  EXPECT_EQ(Reconcile().action, ReconcileResult::Action::kRequeue);
  EXPECT_THAT(Profile()["metadata"]["finalizers"], Contains("pipeguard.io/iam-role"));
  std::vector<std::string> writes;
  for (const auto& a : iam_.Log()) {
    if (a.rfind("Get", 0) != 0 && a.rfind("List", 0) != 0) writes.push_back(a);
  }
  EXPECT_THAT(writes,
              ElementsAre("DeleteRolePolicy", "DetachRolePolicy", "DeleteRolePermissionsBoundary", "DeleteRole"));
  EXPECT_TRUE(iam_.Has(TestRoleName()));
  EXPECT_EQ(Reconcile().action, ReconcileResult::Action::kDone);
  EXPECT_FALSE(iam_.Has(TestRoleName()));
  EXPECT_THAT(Profile()["metadata"]["finalizers"], ::testing::Not(Contains("pipeguard.io/iam-role")));
}

TEST_F(ReconcilerTest, RetainTagsTheRoleOrphanedAndKeepsIt) {
  Json p = ProfileObject();
  p["spec"]["deletionPolicy"] = "Retain";
  CreateProfile(p);
  Reconcile();
  p = Profile();
  p["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z";
  ASSERT_TRUE(kube_.Update(res::PipelineSecurityProfiles(), "data", p).ok());
  Reconcile();
  ASSERT_TRUE(iam_.Has(TestRoleName()));
  EXPECT_THAT(iam_.Stored(TestRoleName()).role.tags, Contains(aws::Tag{"pipeguard.io/orphaned", "true"}));
  EXPECT_EQ(iam_.Calls("DeleteRole"), 0);
  EXPECT_THAT(Profile()["metadata"]["finalizers"], ::testing::Not(Contains("pipeguard.io/iam-role")));
}

TEST_F(ReconcilerTest, DeletionLeavesAForeignRoleAlone) {
  CreateProfile();
  Json p = Profile();
  p["metadata"]["finalizers"] = {"pipeguard.io/iam-role"};
  p["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z";
  ASSERT_TRUE(kube_.Update(res::PipelineSecurityProfiles(), "data", p).ok());
  ASSERT_TRUE(iam_.CreateRole({TestRoleName(), "/", R"({"Version":"2012-10-17","Statement":[]})"}).ok());
  Reconcile();
  EXPECT_TRUE(iam_.Has(TestRoleName()));
  EXPECT_EQ(iam_.Calls("DeleteRole"), 0);
}

TEST_F(ReconcilerTest, ProfileWithoutAwsMakesNoRole) {
  Json p = ProfileObject();
  p["spec"].erase("aws");
  CreateProfile(p);
  Reconcile();
  EXPECT_EQ(iam_.Log().size(), 0u);
  EXPECT_EQ(ConditionOf("Ready")["status"], "True");
  EXPECT_FALSE(Profile()["status"].contains("roleArn"));
}

}  // namespace
}  // namespace pipeguard::reconcilers
