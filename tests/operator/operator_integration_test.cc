// The operator end to end against a REAL kube-apiserver + etcd (scripts/controlplane) and a REAL moto IAM server
// (scripts/moto): the Controller and ProfileReconciler run in-process; assertions are on cluster and IAM state.
// Missing binaries or a failed start are failures with instructions, never skips.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "moto_server.h"
#include "pipeguard/aws/http.h"
#include "pipeguard/aws/iam.h"
#include "pipeguard/aws/policy_document.h"
#include "pipeguard/aws/service_client.h"
#include "pipeguard/desired/iam_role.h"
#include "pipeguard/desired/webhook_tamper.h"
#include "pipeguard/guardrails/iam_policy.h"
#include "pipeguard/kube/config.h"
#include "pipeguard/kube/errors.h"
#include "pipeguard/kube/http_client.h"
#include "pipeguard/manifest/documents.h"
#include "pipeguard/profile/profile.h"
#include "pipeguard/reconcilers/profile_controller.h"
#include "pipeguard/reconcilers/reconciler.h"
#include "pipeguard/reconcilers/webhook_guard.h"
#include "real_control_plane.h"
#include "reconciler_fixtures.h"

namespace pipeguard::reconcilers {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
namespace res = kube::resources;
using pipeguard::testing::RealControlPlane;
using pipeguard::testing::RunShell;

// Waits as the operator's reconcile loops need: up to a minute by default, polling every 100 ms.
template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds timeout = 60s) {
  return pipeguard::testing::Eventually(pred, timeout, 100ms);
}

class OperatorIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto plane = RealControlPlane::Start();
    ASSERT_TRUE(plane.ok()) << plane.status().message();
    plane_ = std::move(plane).value();
    const Status crd = plane_->InstallProfileCrd();
    ASSERT_TRUE(crd.ok()) << crd.message();
    auto config = kube::LoadKubeconfig({.path = plane_->kubeconfig()});
    ASSERT_TRUE(config.ok()) << config.status().message();
    auto client = kube::NewHttpKubeClient(*config);
    ASSERT_TRUE(client.ok()) << client.status().message();
    kube_ = std::move(client).value();
    ASSERT_TRUE(kube_
                    ->Create(res::Namespaces(), "",
                             {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "data"}}}})
                    .ok());

    moto_ = std::make_unique<aws::testing::MotoServer>();
    ASSERT_TRUE(moto_->ok()) << moto_->error();
    http_ = aws::MakeHttplibAwsHttpClient();
    aws::ServiceConfig iam_config = aws::IamServiceConfig();
    iam_config.endpoint = aws::Endpoint::Parse(moto_->endpoint()).value();
    iam_service_ = std::make_unique<aws::ServiceClient>(iam_config, *http_, &credentials_, aws::SystemClock(), random_,
                                                        metrics_.AwsCallObserver());
    iam_client_ = std::make_unique<aws::IamClient>(*iam_service_);
    iam_api_ = std::make_unique<IamClientApi>(*iam_client_);

    config_.cluster_name = "it";
    config_.aws_account_id = "123456789012";
    config_.oidc_issuer_url = "https://oidc.example.com/id/ABC";
    config_.permissions_boundary_arn = "arn:aws:iam::123456789012:policy/pg-boundary";
    config_.sts_egress_cidrs = {"10.0.8.0/24"};
    ProfileReconcilerOptions options;
    options.config = config_;
    options.metrics = &metrics_;
    reconciler_ = std::make_unique<ProfileReconciler>(*kube_, *iam_api_, options);
    controller_ = std::make_unique<ProfileController>(
        *kube_, *reconciler_,
        ProfileControllerOptions{.workers = 2,
                                 .resync_period = 2s,
                                 .rate_limiter = {.base_delay = 50ms, .max_delay = 2s},
                                 .metrics = &metrics_});
    controller_->Start();
    ASSERT_TRUE(Eventually([&] { return controller_->Ready(); }, 30s));
  }

  void TearDown() override {
    if (controller_) controller_->Stop();
    controller_.reset();
    reconciler_.reset();
    moto_.reset();
    plane_.reset();  // stops the control plane and removes its directory
  }

  // One more operator replica in this process: its own reconciler, metrics (AWS calls counted through its own
  // observer) and controller, over the shared Kubernetes client and moto.
  struct Replica {
    std::string identity;
    OperatorMetrics metrics;
    std::unique_ptr<aws::ServiceClient> iam_service;
    std::unique_ptr<aws::IamClient> iam_client;
    std::unique_ptr<IamClientApi> iam_api;
    std::unique_ptr<ProfileReconciler> reconciler;
    std::unique_ptr<ProfileController> controller;
  };
  std::unique_ptr<Replica> StartReplica(const std::string& identity, bool leader_election) {
    auto r = std::make_unique<Replica>();
    r->identity = identity;
    aws::ServiceConfig iam_config = aws::IamServiceConfig();
    iam_config.endpoint = aws::Endpoint::Parse(moto_->endpoint()).value();
    r->iam_service = std::make_unique<aws::ServiceClient>(iam_config, *http_, &credentials_, aws::SystemClock(),
                                                          random_, r->metrics.AwsCallObserver());
    r->iam_client = std::make_unique<aws::IamClient>(*r->iam_service);
    r->iam_api = std::make_unique<IamClientApi>(*r->iam_client);
    ProfileReconcilerOptions options;
    options.config = config_;
    options.metrics = &r->metrics;
    options.reporting_instance = identity;
    r->reconciler = std::make_unique<ProfileReconciler>(*kube_, *r->iam_api, options);
    ProfileControllerOptions controller_options{.workers = 2,
                                                .resync_period = 2s,
                                                .rate_limiter = {.base_delay = 50ms, .max_delay = 2s},
                                                .metrics = &r->metrics};
    if (leader_election) {
      kube::LeaderElectionConfig le;
      le.lease_namespace = "default";
      le.lease_name = "pipeguard-operator-it";
      le.identity = identity;
      le.lease_duration = 4s;
      le.renew_deadline = 3s;
      le.retry_period = 300ms;
      controller_options.leader_election = le;
    }
    r->controller = std::make_unique<ProfileController>(*kube_, *r->reconciler, controller_options);
    r->controller->Start();
    return r;
  }
  // Stops the controller SetUp started, so a test can run its own replicas.
  void StopDefaultController() {
    controller_->Stop();
    controller_.reset();
  }
  Json Profile(const std::string& name, const std::string& bucket) {
    Json p = Json::parse(R"({
      "apiVersion": "pipeguard.io/v1alpha1", "kind": "PipelineSecurityProfile",
      "metadata": {"namespace": "data"},
      "spec": {"podSelector": {"matchLabels": {}}, "aws": {"s3": [{"access": "read"}]}}})");
    p["metadata"]["name"] = name;
    p["spec"]["podSelector"]["matchLabels"]["app"] = name;
    p["spec"]["serviceAccount"]["name"] = name + "-sa";
    p["spec"]["aws"]["s3"][0]["bucket"] = bucket;
    return p;
  }
  // Creates profiles NAME_PREFIX0..n-1 in "data", each reading its own bucket BUCKET_PREFIX<i>.
  void CreateProfiles(const std::string& name_prefix, const std::string& bucket_prefix, int n) {
    for (int i = 0; i < n; ++i) {
      const std::string index = std::to_string(i);
      ASSERT_TRUE(
          kube_->Create(res::PipelineSecurityProfiles(), "data", Profile(name_prefix + index, bucket_prefix + index))
              .ok());
    }
  }
  bool IsReady(const std::string& name) {
    auto p = Get(res::PipelineSecurityProfiles(), name);
    if (!p) return false;
    for (const auto& c : (*p).value("status", Json::object()).value("conditions", Json::array())) {
      if (c["type"] == "Ready") {
        return c["status"] == "True" &&
               (*p)["status"].value("observedGeneration", 0) == (*p)["metadata"].value("generation", -1);
      }
    }
    return false;
  }
  // The role in moto matches the profile exactly: trust, inline policy, boundary, ownership tags; the
  // ServiceAccount carries its ARN.
  void ExpectRoleMatchesProfile(const std::string& name) {
    SCOPED_TRACE(name);
    const Json stored = *Get(res::PipelineSecurityProfiles(), name);
    auto parsed = api::ParseProfile(stored);
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    const std::string role_name = desired::RoleName("it", "data", name);
    auto role = iam_client_->GetRole(role_name);
    ASSERT_TRUE(role.ok()) << role.error().ToString();
    EXPECT_EQ(stored["status"]["roleArn"], role->arn);
    EXPECT_TRUE(aws::PoliciesEquivalent(role->assume_role_policy_document,
                                        desired::TrustPolicy(config_, "data", name + "-sa")));
    EXPECT_EQ(role->permissions_boundary_arn, config_.permissions_boundary_arn);
    auto tags = iam_client_->ListRoleTags(role_name);
    ASSERT_TRUE(tags.ok());
    EXPECT_EQ(desired::ClassifyRoleOwnership(*tags, config_, *parsed), desired::RoleOwnership::kOurs);
    auto inline_policy = iam_client_->GetRolePolicy(role_name, "pipeguard-profile");
    ASSERT_TRUE(inline_policy.ok()) << inline_policy.error().ToString();
    EXPECT_TRUE(aws::PoliciesEquivalent(*inline_policy, guardrails::CanonicalInlinePolicy(*parsed)));
    auto sa = Get(res::ServiceAccounts(), name + "-sa");
    ASSERT_TRUE(sa);
    EXPECT_EQ((*sa)["metadata"]["annotations"]["eks.amazonaws.com/role-arn"], role->arn);
  }
  // Events in `ns` with this reportingInstance (and, when given, this reason).
  int EventsBy(const std::string& ns, const std::string& instance, const std::string& reason = "") {
    auto events = kube_->List(res::Events(), ns, {});
    if (!events.ok()) return -1;
    int n = 0;
    for (const auto& e : events->items) {
      if (e.value("reportingInstance", "") == instance && (reason.empty() || e.value("reason", "") == reason)) ++n;
    }
    return n;
  }

  // Renders the chart's webhook configurations with the cached helm, creates them and the operator's desired-state
  // ConfigMap (pipeguard-system/pg-pipeguard-operator-webhook-configurations) as `helm install` would, and returns
  // that ConfigMap's data["webhook-configurations.yaml"] (the file the operator mounts).
  void InstallChartWebhookConfigurations(std::string* desired_text) {
    std::string rendered;
    ASSERT_EQ(RunShell(plane_->Env("HELM") + " template pg " + std::string(PIPEGUARD_SOURCE_DIR) +
                           "/helm/pipeguard -n pipeguard-system --show-only templates/webhook-configurations.yaml"
                           " --set operator.config.clusterName=it"
                           " --set-string operator.config.awsAccountId=123456789012"
                           " --set operator.config.oidcIssuerUrl=https://oidc.example.com/id/ABC"
                           " --set operator.config.permissionsBoundaryArn=arn:aws:iam::123456789012:policy/pg-boundary",
                       &rendered),
              0)
        << rendered;
    auto documents = manifest::ParseDocuments(rendered, "helm template");
    ASSERT_TRUE(documents.ok()) << documents.status().message();
    ASSERT_TRUE(
        kube_
            ->Create(res::Namespaces(), "",
                     {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "pipeguard-system"}}}})
            .ok());
    for (const auto& doc : *documents) {
      if (doc.object.value("kind", "") == "ConfigMap" &&
          doc.object["metadata"].value("name", "") == "pg-pipeguard-operator-webhook-configurations") {
        *desired_text = doc.object["data"].value("webhook-configurations.yaml", "");
        auto created = kube_->Create(res::ConfigMaps(), "pipeguard-system", doc.object);
        ASSERT_TRUE(created.ok()) << created.status().message();
      }
    }
    ASSERT_FALSE(desired_text->empty()) << rendered;
    auto desired = desired::ParseDesiredWebhookConfigurations(*desired_text, "webhook-configurations.yaml");
    ASSERT_TRUE(desired.ok()) << desired.status().message() << "\n" << *desired_text;
    ASSERT_EQ(desired->size(), 2u);
    for (const Json& object : *desired) {
      const auto& r = object["kind"] == "MutatingWebhookConfiguration" ? res::MutatingWebhookConfigurations()
                                                                       : res::ValidatingWebhookConfigurations();
      auto created = kube_->Create(r, "", object);
      ASSERT_TRUE(created.ok()) << created.status().message();
    }
  }

  // A pipeguard-operator process (PIPEGUARD_OPERATOR_BINARY) as the chart runs it, with leader election on the Lease
  // default/pipeguard-operator-bin. The destructor sends SIGTERM, so a failed assertion leaves nothing running.
  struct OperatorProcess {
    std::string pid;
    std::string log_path;
    std::string Log() const {
      std::ifstream in(log_path);
      return std::string(std::istreambuf_iterator<char>(in), {});
    }
    ~OperatorProcess() {
      if (!pid.empty()) RunShell("kill -TERM " + pid + " 2>/dev/null");
    }
  };
  OperatorProcess StartOperatorBinary(const std::string& identity, const std::string& extra_flags = "") {
    std::ofstream(plane_->dir() + "/operator.yaml")
        << "clusterName: it\nawsAccountId: \"123456789012\"\n"
           "oidcIssuerUrl: https://oidc.example.com/id/ABC\n"
           "permissionsBoundaryArn: arn:aws:iam::123456789012:policy/pg-boundary\n"
           "stsEgressCidrs: [10.0.8.0/24]\n";
    OperatorProcess op;
    op.log_path = plane_->dir() + "/" + identity + ".log";
    std::string pid;
    RunShell("AWS_ACCESS_KEY_ID=AKIAPIPEGUARDTEST000 AWS_SECRET_ACCESS_KEY=dummy " +
                 std::string(PIPEGUARD_OPERATOR_BINARY) + " --kubeconfig " + plane_->kubeconfig() + " --config " +
                 plane_->dir() + "/operator.yaml --aws-endpoint " + moto_->endpoint() +
                 " --metrics-listen 127.0.0.1:0 --resync 2s --leader-election-namespace default"
                 " --leader-election-id pipeguard-operator-bin --identity " +
                 identity + extra_flags + " > " + op.log_path + " 2>&1 & echo $!",
             &pid);
    op.pid = pid.substr(0, pid.find('\n'));
    return op;
  }

  int Kubectl(const std::string& args, std::string* out = nullptr) { return plane_->Kubectl(args, out); }
  std::optional<Json> Get(const kube::Resource& r, const std::string& name) {
    auto got = kube_->Get(r, "data", name);
    if (!got.ok()) return std::nullopt;
    return *got;
  }
  Json Condition(const std::string& type) {
    auto p = Get(res::PipelineSecurityProfiles(), "etl");
    if (!p) return Json::object();
    for (const auto& c : (*p).value("status", Json::object()).value("conditions", Json::array())) {
      if (c["type"] == type) return c;
    }
    return Json::object();
  }
  bool HasWarning(const std::string& reason, const std::string& text) {
    auto events = kube_->List(res::Events(), "data", {});
    if (!events.ok()) return false;
    for (const auto& e : events->items) {
      if (e.value("type", "") == "Warning" && e.value("reason", "") == reason &&
          e.value("note", "").find(text) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  std::unique_ptr<RealControlPlane> plane_;
  std::unique_ptr<kube::KubeClient> kube_;
  std::unique_ptr<aws::testing::MotoServer> moto_;
  std::unique_ptr<aws::AwsHttpClient> http_;
  aws::StaticCredentialsProvider credentials_{
      aws::Credentials{"AKIAPIPEGUARDTEST000", "dummy", "", std::nullopt, "static"}};
  aws::SystemRandom random_;
  OperatorMetrics metrics_;
  std::unique_ptr<aws::ServiceClient> iam_service_;
  std::unique_ptr<aws::IamClient> iam_client_;
  std::unique_ptr<IamClientApi> iam_api_;
  guardrails::OperatorConfig config_;
  std::unique_ptr<ProfileReconciler> reconciler_;
  std::unique_ptr<ProfileController> controller_;
};

TEST_F(OperatorIntegrationTest, ProfileLifecycleDriftAndDeletion) {
  const Json profile = testing::ProfileObject();
  ASSERT_TRUE(kube_->Create(res::PipelineSecurityProfiles(), "data", profile).ok());
  ASSERT_TRUE(Eventually([&] { return Condition("Ready").value("status", "") == "True"; }))
      << Get(res::PipelineSecurityProfiles(), "etl").value_or(Json()).dump();

  const Json stored = *Get(res::PipelineSecurityProfiles(), "etl");
  auto parsed = api::ParseProfile(stored);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const std::string role_name = desired::RoleName("it", "data", "etl");
  auto role = iam_client_->GetRole(role_name);
  ASSERT_TRUE(role.ok()) << role.error().ToString();
  EXPECT_EQ(stored["status"]["roleArn"], role->arn);
  EXPECT_THAT(stored["metadata"]["finalizers"], ::testing::Contains("pipeguard.io/iam-role"));
  EXPECT_TRUE(
      aws::PoliciesEquivalent(role->assume_role_policy_document, desired::TrustPolicy(config_, "data", "etl-sa")));
  EXPECT_EQ(role->permissions_boundary_arn, config_.permissions_boundary_arn);
  auto tags = iam_client_->ListRoleTags(role_name);
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(desired::ClassifyRoleOwnership(*tags, config_, *parsed), desired::RoleOwnership::kOurs);
  auto inline_policy = iam_client_->GetRolePolicy(role_name, "pipeguard-profile");
  ASSERT_TRUE(inline_policy.ok()) << inline_policy.error().ToString();
  EXPECT_TRUE(aws::PoliciesEquivalent(*inline_policy, guardrails::CanonicalInlinePolicy(*parsed)));

  auto sa = Get(res::ServiceAccounts(), "etl-sa");
  ASSERT_TRUE(sa);
  EXPECT_EQ((*sa)["metadata"]["annotations"]["eks.amazonaws.com/role-arn"], role->arn);
  EXPECT_EQ((*sa)["automountServiceAccountToken"], false);
  EXPECT_EQ((*sa)["metadata"]["ownerReferences"][0]["uid"], stored["metadata"]["uid"]);
  ASSERT_TRUE(Get(res::NetworkPolicies(), "pipeguard-etl-deny"));
  auto allow = Get(res::NetworkPolicies(), "pipeguard-etl-allow");
  ASSERT_TRUE(allow);

  // Change the profile: the inline policy follows.
  Json changed = stored;
  changed["spec"]["aws"]["s3"][0]["bucket"] = "acme-curated";
  ASSERT_TRUE(kube_->Update(res::PipelineSecurityProfiles(), "data", changed).ok());
  ASSERT_TRUE(Eventually([&] {
    auto doc = iam_client_->GetRolePolicy(role_name, "pipeguard-profile");
    return doc.ok() && doc->find("acme-curated") != std::string::npos;
  }));
  ASSERT_TRUE(Eventually([&] {
    auto p = Get(res::PipelineSecurityProfiles(), "etl");
    return p && (*p)["status"].value("observedGeneration", 0) == (*p)["metadata"].value("generation", -1) &&
           Condition("Ready").value("status", "") == "True";
  }));

  // Tamper with the role's inline policy in IAM and with the allow NetworkPolicy: both reverted, with Warnings.
  ASSERT_TRUE(iam_client_
                  ->PutRolePolicy(role_name, "pipeguard-profile",
                                  R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*",)"
                                  R"("Resource":"*"}]})")
                  .ok());
  Json np = *Get(res::NetworkPolicies(), "pipeguard-etl-allow");
  const std::string np_uid = np["metadata"]["uid"];
  np["spec"]["egress"] = Json::array({Json::object()});
  ASSERT_TRUE(kube_->Update(res::NetworkPolicies(), "data", np).ok());
  ASSERT_TRUE(Eventually([&] {
    auto doc = iam_client_->GetRolePolicy(role_name, "pipeguard-profile");
    return doc.ok() && doc->find("acme-curated") != std::string::npos && doc->find("s3:*") == std::string::npos;
  }));
  ASSERT_TRUE(Eventually([&] {
    auto now = Get(res::NetworkPolicies(), "pipeguard-etl-allow");
    return now && (*now)["spec"]["egress"] != Json::array({Json::object()});
  }));
  EXPECT_EQ((*Get(res::NetworkPolicies(), "pipeguard-etl-allow"))["metadata"]["uid"], np_uid) << "updated in place";
  EXPECT_TRUE(Eventually([&] { return HasWarning("DriftReverted", "iam_inline_policy"); }, 10s));

  // A longer maximum session (longer-lived stolen credentials) is reverted too.
  ASSERT_TRUE(iam_client_->UpdateRoleMaxSessionDuration(role_name, 43200).ok());
  ASSERT_TRUE(Eventually([&] {
    auto now = iam_client_->GetRole(role_name);
    return now.ok() && now->max_session_duration == 3600;
  }));
  EXPECT_GE(metrics_.DriftRevertedCount("iam_max_session_duration"), 1);
  EXPECT_TRUE(Eventually([&] { return HasWarning("DriftReverted", "network_policy"); }, 10s));
  EXPECT_GE(metrics_.DriftRevertedCount("iam_inline_policy"), 1);
  EXPECT_GE(metrics_.DriftRevertedCount("network_policy"), 1);
  EXPECT_GE(metrics_.AwsCallCount("CreateRole", "success"), 1);

  // Delete the profile: the role goes, then the finalizer, then the profile.
  ASSERT_TRUE(kube_->Delete(res::PipelineSecurityProfiles(), "data", "etl").ok());
  ASSERT_TRUE(Eventually([&] { return !Get(res::PipelineSecurityProfiles(), "etl").has_value(); }));
  auto gone = iam_client_->GetRole(role_name);
  ASSERT_FALSE(gone.ok());
  EXPECT_TRUE(gone.error().Is(aws::errc::kNoSuchEntity));
}

// The chart's webhook configurations on a real API server: installed as rendered (with the API server's defaults
// they still compare intact: no write), then deleted, weakened and narrowed: each restored, with a Warning Event and
// pipeguard_operator_tamper_total. The desired state is the ConfigMap the chart renders for the operator.
TEST_F(OperatorIntegrationTest, WebhookConfigurationsAreRestoredAfterTampering) {
  std::string desired_text;
  ASSERT_NO_FATAL_FAILURE(InstallChartWebhookConfigurations(&desired_text));
  auto desired = desired::ParseDesiredWebhookConfigurations(desired_text, "webhook-configurations.yaml");
  ASSERT_TRUE(desired.ok()) << desired.status().message();

  OperatorMetrics metrics;
  WebhookGuardOptions options;
  options.desired = *desired;
  options.reporting_instance = "operator-it";
  options.resync_period = 60s;  // restores below must come from the watch, not the periodic pass
  options.retry_delay = 200ms;
  options.metrics = &metrics;
  options.desired_configmap_namespace = "pipeguard-system";
  options.desired_configmap_name = "pg-pipeguard-operator-webhook-configurations";
  options.deletion_grace = 2s;
  WebhookGuard guard(*kube_, options);
  guard.Start();
  ASSERT_TRUE(Eventually([&] { return guard.Ready(); }, 30s));
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(guard.restores(), 0) << "the installed configurations, defaulted by the API server, are intact";

  const std::string vwc = "validatingwebhookconfiguration/pg-pipeguard";
  const std::string mwc = "mutatingwebhookconfiguration/pg-pipeguard";
  std::string out;
  std::string uid;
  ASSERT_EQ(Kubectl("get " + vwc + " -o jsonpath={.metadata.uid}", &uid), 0) << uid;

  // (1) Deleted: recreated.
  ASSERT_EQ(Kubectl("delete " + vwc, &out), 0) << out;
  ASSERT_TRUE(Eventually(
      [&] {
        std::string now;
        return Kubectl("get " + vwc + " -o jsonpath={.metadata.uid}", &now) == 0 && !now.empty() && now != uid;
      },
      30s));
  EXPECT_EQ(metrics.TamperCount("ValidatingWebhookConfiguration", "deleted"), 1);

  // (2) Weakened: failurePolicy Ignore -> Fail again, in place.
  ASSERT_EQ(Kubectl("patch " + vwc +
                        " --type=json -p "
                        "'[{\"op\":\"replace\",\"path\":\"/webhooks/0/failurePolicy\",\"value\":\"Ignore\"}]'",
                    &out),
            0)
      << out;
  ASSERT_TRUE(Eventually(
      [&] {
        std::string now;
        return Kubectl("get " + vwc + " -o jsonpath={.webhooks[0].failurePolicy}", &now) == 0 && now == "Fail";
      },
      30s));
  EXPECT_EQ(metrics.TamperCount("ValidatingWebhookConfiguration", "failure_policy"), 1);

  // (3) Narrowed: the pods rule removed from the mutating webhook and a namespace excluded -> both restored.
  ASSERT_EQ(Kubectl("patch " + mwc +
                        " --type=json -p "
                        "'[{\"op\":\"remove\",\"path\":\"/webhooks/0/rules/0\"},"
                        "{\"op\":\"add\",\"path\":\"/webhooks/0/namespaceSelector/matchExpressions/0/values/-\","
                        "\"value\":\"data\"}]'",
                    &out),
            0)
      << out;
  ASSERT_TRUE(Eventually(
      [&] {
        auto now = kube_->Get(res::MutatingWebhookConfigurations(), "", "pg-pipeguard");
        return now.ok() &&
               desired::CompareWebhookConfiguration(
                   (*desired)[0]["kind"] == "MutatingWebhookConfiguration" ? (*desired)[0] : (*desired)[1], *now)
                   .empty();
      },
      30s));
  EXPECT_EQ(metrics.TamperCount("MutatingWebhookConfiguration", "rules"), 1);
  EXPECT_EQ(metrics.TamperCount("MutatingWebhookConfiguration", "namespace_selector"), 1);
  EXPECT_NE(metrics.Serialize().find("pipeguard_operator_tamper_total{"), std::string::npos);

  // One Warning Event per restore (in "default": the API's rule for cluster-scoped objects), naming what changed.
  ASSERT_TRUE(Eventually([&] { return EventsBy("default", "operator-it", "WebhookConfigurationTampered") == 3; }, 10s));
  auto events = kube_->List(res::Events(), "default", {});
  ASSERT_TRUE(events.ok());
  std::string notes;
  for (const auto& e : events->items) {
    if (e.value("reportingInstance", "") != "operator-it") continue;
    EXPECT_EQ(e.value("type", ""), "Warning");
    notes += e.value("note", "") + "\n";
  }
  EXPECT_THAT(notes, ::testing::HasSubstr("was deleted"));
  EXPECT_THAT(notes, ::testing::HasSubstr("\"Ignore\""));
  EXPECT_THAT(notes, ::testing::HasSubstr("rules differ"));

  // helm upgrade (the ConfigMap first, then the configuration, timeoutSeconds 10 -> 5): followed, not reverted.
  auto cm = kube_->Get(res::ConfigMaps(), "pipeguard-system", "pg-pipeguard-operator-webhook-configurations");
  ASSERT_TRUE(cm.ok());
  std::string upgraded = (*cm)["data"]["webhook-configurations.yaml"];
  for (size_t at; (at = upgraded.find("timeoutSeconds: 10")) != std::string::npos;) {
    upgraded.replace(at, 18, "timeoutSeconds: 5");
  }
  (*cm)["data"]["webhook-configurations.yaml"] = upgraded;
  ASSERT_TRUE(kube_->Update(res::ConfigMaps(), "pipeguard-system", *cm).ok());
  ASSERT_EQ(Kubectl("patch " + vwc +
                        " --type=json -p "
                        "'[{\"op\":\"replace\",\"path\":\"/webhooks/0/timeoutSeconds\",\"value\":5}]'",
                    &out),
            0)
      << out;
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(metrics.TamperCount("ValidatingWebhookConfiguration", "timeout"), 0);
  ASSERT_EQ(Kubectl("get " + vwc + " -o jsonpath={.webhooks[0].timeoutSeconds}", &out), 0);
  EXPECT_EQ(out, "5");

  // helm uninstall (webhook configurations first, then the ConfigMap): not undone.
  const int restores = guard.restores();
  ASSERT_EQ(Kubectl("delete " + vwc + " " + mwc, &out), 0) << out;
  ASSERT_EQ(Kubectl("delete -n pipeguard-system configmap/pg-pipeguard-operator-webhook-configurations", &out), 0)
      << out;
  std::this_thread::sleep_for(4s);  // twice the deletion grace
  EXPECT_EQ(guard.restores(), restores);
  EXPECT_FALSE(kube_->Get(res::ValidatingWebhookConfigurations(), "", "pg-pipeguard").ok());
  EXPECT_FALSE(kube_->Get(res::MutatingWebhookConfigurations(), "", "pg-pipeguard").ok());
  guard.Stop();
}

// Restart mid-reconcile: the first operator stops while a batch of profiles is half done; a fresh one (new
// reconciler, new queue, new caches) converges every profile to Ready with exactly the right IAM state.
TEST_F(OperatorIntegrationTest, RestartMidReconcileConverges) {
  StopDefaultController();
  constexpr int kProfiles = 12;
  ASSERT_NO_FATAL_FAILURE(CreateProfiles("batch-", "acme-b", kProfiles));
  auto first = StartReplica("operator-a", false);
  ASSERT_TRUE(Eventually([&] { return first->metrics.AwsCallCount("CreateRole", "success") >= 2; }, 60s));
  first->controller->Stop();  // waits for the reconciles in flight, abandons the queue
  int ready_at_stop = 0;
  for (int i = 0; i < kProfiles; ++i) ready_at_stop += IsReady("batch-" + std::to_string(i)) ? 1 : 0;
  EXPECT_LT(ready_at_stop, kProfiles) << "the first operator must stop before the batch was done";
  first.reset();

  const auto started = std::chrono::steady_clock::now();
  auto second = StartReplica("operator-b", false);
  ASSERT_TRUE(Eventually(
      [&] {
        for (int i = 0; i < kProfiles; ++i) {
          if (!IsReady("batch-" + std::to_string(i))) return false;
        }
        return true;
      },
      120s));
  std::cout << "[ restart  ] " << ready_at_stop << "/" << kProfiles << " Ready at stop; the rest converged in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() << " s\n";
  for (int i = 0; i < kProfiles; ++i) ExpectRoleMatchesProfile("batch-" + std::to_string(i));
  auto roles = iam_client_->ListRoles(desired::RolePath(config_));
  ASSERT_TRUE(roles.ok()) << roles.error().ToString();
  EXPECT_EQ(roles->size(), static_cast<size_t>(kProfiles)) << "no duplicate or stray roles";
  EXPECT_EQ(second->metrics.AwsCallCount("CreateRole", "EntityAlreadyExists"), 0)
      << "roles created by the first operator are found, not created twice";
}

// Two replicas with Lease leader election: only the leader reconciles (the follower makes no AWS call, no
// reconcile, no Event); when the leader stops it releases the Lease and the follower takes over.
TEST_F(OperatorIntegrationTest, TwoReplicasOneLeaderThenFailover) {
  StopDefaultController();
  auto a = StartReplica("operator-a", true);
  ASSERT_TRUE(Eventually([&] { return a->controller->IsLeader(); }, 30s));
  auto b = StartReplica("operator-b", true);
  ASSERT_TRUE(Eventually([&] { return b->controller->Ready(); }, 30s));

  ASSERT_TRUE(kube_->Create(res::PipelineSecurityProfiles(), "data", Profile("first", "acme-first")).ok());
  ASSERT_TRUE(Eventually([&] { return IsReady("first"); }, 60s));
  std::this_thread::sleep_for(3s);  // several resyncs (2 s) and lease renewals
  EXPECT_TRUE(a->controller->IsLeader());
  EXPECT_FALSE(b->controller->IsLeader());
  EXPECT_EQ(a->metrics.LeaderValue(), 1);
  EXPECT_EQ(b->metrics.LeaderValue(), 0);
  EXPECT_GE(a->metrics.ReconcileCount("success"), 1);
  for (const char* result : {"success", "requeue", "error"}) {
    EXPECT_EQ(b->metrics.ReconcileCount(result), 0) << result;
  }
  EXPECT_EQ(b->metrics.Serialize().find("pipeguard_operator_aws_api_calls_total{"), std::string::npos)
      << "the follower made AWS calls:\n"
      << b->metrics.Serialize();
  EXPECT_GE(EventsBy("data", "operator-a"), 1);
  EXPECT_EQ(EventsBy("data", "operator-b"), 0);
  ExpectRoleMatchesProfile("first");

  // The leader stops (releasing the Lease): the follower leads and reconciles a new profile.
  a->controller->Stop();
  ASSERT_TRUE(Eventually([&] { return b->controller->IsLeader(); }, 20s));
  auto lease = kube_->Get(res::Leases(), "default", "pipeguard-operator-it");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "operator-b");
  ASSERT_TRUE(kube_->Create(res::PipelineSecurityProfiles(), "data", Profile("second", "acme-second")).ok());
  ASSERT_TRUE(Eventually([&] { return IsReady("second"); }, 60s));
  ExpectRoleMatchesProfile("second");
  EXPECT_GE(b->metrics.AwsCallCount("CreateRole", "success"), 1);
  EXPECT_GE(EventsBy("data", "operator-b"), 1);
  EXPECT_EQ(a->metrics.AwsCallCount("CreateRole", "success"), 1) << "the stopped leader created only the first role";
}

// The pipeguard-operator binary as the chart runs it (--webhook-configurations, leader election): it takes the
// Lease, restores a deleted webhook configuration, and exits 0 on SIGTERM, releasing the Lease.
TEST_F(OperatorIntegrationTest, OperatorBinaryGuardsTheWebhookConfigurations) {
  StopDefaultController();
  std::string desired_text;
  ASSERT_NO_FATAL_FAILURE(InstallChartWebhookConfigurations(&desired_text));
  std::ofstream(plane_->dir() + "/webhook-configurations.yaml") << desired_text;
  OperatorProcess op =
      StartOperatorBinary("operator-bin", " --webhook-configurations " + plane_->dir() +
                                              "/webhook-configurations.yaml --webhook-configurations-configmap "
                                              "pipeguard-system/pg-pipeguard-operator-webhook-configurations");
  auto log = [&] { return op.Log(); };
  ASSERT_TRUE(Eventually(
      [&] {
        auto lease = kube_->Get(res::Leases(), "default", "pipeguard-operator-bin");
        return lease.ok() && (*lease)["spec"].value("holderIdentity", "") == "operator-bin";
      },
      30s))
      << log();

  std::string out;
  ASSERT_EQ(Kubectl("delete validatingwebhookconfiguration/pg-pipeguard", &out), 0) << out;
  EXPECT_TRUE(
      Eventually([&] { return kube_->Get(res::ValidatingWebhookConfigurations(), "", "pg-pipeguard").ok(); }, 30s))
      << log();
  EXPECT_TRUE(
      Eventually([&] { return EventsBy("default", "operator-bin", "WebhookConfigurationTampered") == 1; }, 10s));
  EXPECT_THAT(log(), ::testing::HasSubstr("\"audit\":\"webhook_configuration_tampered\""));
  EXPECT_THAT(log(), ::testing::HasSubstr("guarding 2 webhook configurations"));

  ASSERT_EQ(RunShell("kill -TERM " + op.pid), 0);
  EXPECT_TRUE(Eventually([&] { return RunShell("kill -0 " + op.pid) != 0; }, 20s)) << log();
  EXPECT_THAT(log(), ::testing::HasSubstr("pipeguard-operator: stopped"));
  auto lease = kube_->Get(res::Leases(), "default", "pipeguard-operator-bin");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)["spec"].value("holderIdentity", ""), "") << "released on SIGTERM";
}

// A crash, not a clean stop: the operator process is SIGKILLed while a batch of profiles is being reconciled (some
// roles created, their profiles not Ready, the Lease still held). A second process waits for the Lease to expire,
// takes over, and converges every profile with exactly the right IAM state and no duplicate role.
TEST_F(OperatorIntegrationTest, OperatorKilledMidBatchConvergesAfterRestart) {
  StopDefaultController();
  constexpr int kProfiles = 12;
  ASSERT_NO_FATAL_FAILURE(CreateProfiles("crash-", "acme-c", kProfiles));
  auto count_roles = [&] {
    auto roles = iam_client_->ListRoles(desired::RolePath(config_));
    return roles.ok() ? static_cast<int>(roles->size()) : -1;
  };
  int ready_at_kill = 0;
  {
    OperatorProcess first = StartOperatorBinary("operator-1");
    ASSERT_TRUE(Eventually([&] { return count_roles() >= 2; }, 60s)) << first.Log();
    ASSERT_EQ(RunShell("kill -KILL " + first.pid), 0);
    ASSERT_TRUE(Eventually([&] { return RunShell("kill -0 " + first.pid) != 0; }, 10s));
    first.pid.clear();
    for (int i = 0; i < kProfiles; ++i) ready_at_kill += IsReady("crash-" + std::to_string(i)) ? 1 : 0;
  }
  EXPECT_LT(ready_at_kill, kProfiles) << "the first operator must die before the batch was done";
  auto lease = kube_->Get(res::Leases(), "default", "pipeguard-operator-bin");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)["spec"].value("holderIdentity", ""), "operator-1") << "a killed leader cannot release the Lease";

  const auto started = std::chrono::steady_clock::now();
  OperatorProcess second = StartOperatorBinary("operator-2");
  ASSERT_TRUE(Eventually(
      [&] {
        for (int i = 0; i < kProfiles; ++i) {
          if (!IsReady("crash-" + std::to_string(i))) return false;
        }
        return true;
      },
      120s))
      << second.Log();
  std::cout << "[ crash    ] " << ready_at_kill << "/" << kProfiles
            << " Ready at SIGKILL; all Ready after the Lease expired and the restart, in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() << " s\n";
  for (int i = 0; i < kProfiles; ++i) ExpectRoleMatchesProfile("crash-" + std::to_string(i));
  EXPECT_EQ(count_roles(), kProfiles) << "no duplicate or stray roles";
  lease = kube_->Get(res::Leases(), "default", "pipeguard-operator-bin");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)["spec"].value("holderIdentity", ""), "operator-2");
}

}  // namespace
}  // namespace pipeguard::reconcilers
