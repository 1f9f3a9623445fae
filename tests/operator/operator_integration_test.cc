// The operator end to end against a REAL kube-apiserver + etcd (scripts/controlplane) and a REAL moto IAM server
// (scripts/moto): the Controller and ProfileReconciler run in-process; assertions are on cluster and IAM state.
// Missing binaries or a failed start are failures with instructions, never skips.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "moto_server.h"
#include "pipeguard/aws/http.h"
#include "pipeguard/aws/iam.h"
#include "pipeguard/aws/policy_document.h"
#include "pipeguard/aws/service_client.h"
#include "pipeguard/kube/config.h"
#include "pipeguard/kube/errors.h"
#include "pipeguard/kube/http_client.h"
#include "pipeguard/operator/controller.h"
#include "pipeguard/operator/iam_policy.h"
#include "pipeguard/operator/iam_role.h"
#include "pipeguard/operator/profile.h"
#include "pipeguard/operator/reconciler.h"

namespace pipeguard::reconcilers {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
namespace res = kube::resources;
const std::string kScripts = std::string(PIPEGUARD_SOURCE_DIR) + "/scripts/controlplane";

int RunShell(const std::string& command, std::string* output = nullptr) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  std::string out;
  while (size_t n = fread(buf, 1, sizeof(buf), pipe)) out.append(buf, n);
  const int rc = pclose(pipe);
  if (output != nullptr) *output = out;
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds timeout = 60s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return pred();
}

class OperatorIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string out;
    ASSERT_EQ(RunShell(kScripts + "/install.sh --no-build", &out), 0)
        << "control plane binaries are missing; build them once with scripts/controlplane/install.sh: " << out;
    char tmpl[] = "/tmp/pipeguard-op-cp-XXXXXX";
    dir_ = mkdtemp(tmpl);
    ASSERT_EQ(
        RunShell("PIPEGUARD_CONTROLPLANE_OWNER_PID=" + std::to_string(getpid()) + " " + kScripts + "/start.sh " + dir_,
                 &out),
        0)
        << "scripts/controlplane/start.sh failed: " << out;
    std::ifstream env(dir_ + "/env");
    for (std::string line; std::getline(env, line);) {
      const size_t eq = line.find('=');
      if (eq != std::string::npos) env_[line.substr(0, eq)] = line.substr(eq + 1);
    }
    ASSERT_EQ(
        Kubectl("apply -f " + std::string(PIPEGUARD_SOURCE_DIR) + "/crds/pipeguard.io_pipelinesecurityprofiles.yaml",
                &out),
        0)
        << out;
    ASSERT_EQ(Kubectl("wait --for condition=established --timeout=60s "
                      "crd/pipelinesecurityprofiles.pipeguard.io",
                      &out),
              0)
        << out;
    auto config = kube::LoadKubeconfig({.path = env_["KUBECONFIG"]});
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
    controller_ = std::make_unique<Controller>(*kube_, *reconciler_,
                                               ControllerOptions{.workers = 2,
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
    if (!dir_.empty()) {
      RunShell(kScripts + "/stop.sh " + dir_);
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  int Kubectl(const std::string& args, std::string* out = nullptr) {
    return RunShell("KUBECONFIG=" + env_["KUBECONFIG"] + " KUBECACHEDIR=" + env_["KUBECACHEDIR"] + " " +
                        env_["KUBECTL"] + " " + args,
                    out);
  }
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

  std::string dir_;
  std::map<std::string, std::string> env_;
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
  OperatorConfig config_;
  std::unique_ptr<ProfileReconciler> reconciler_;
  std::unique_ptr<Controller> controller_;
};

TEST_F(OperatorIntegrationTest, ProfileLifecycleDriftAndDeletion) {
  const Json profile = Json::parse(R"({
    "apiVersion": "pipeguard.io/v1alpha1", "kind": "PipelineSecurityProfile",
    "metadata": {"name": "etl", "namespace": "data"},
    "spec": {
      "podSelector": {"matchLabels": {"app": "etl"}},
      "serviceAccount": {"name": "etl-sa"},
      "aws": {"s3": [{"bucket": "acme-raw", "access": "read"}]},
      "network": {"egress": [{"cidr": "10.20.0.0/16", "ports": [{"port": 5432}]}]}
    }})");
  ASSERT_TRUE(kube_->Create(res::PipelineSecurityProfiles(), "data", profile).ok());
  ASSERT_TRUE(Eventually([&] { return Condition("Ready").value("status", "") == "True"; }))
      << Get(res::PipelineSecurityProfiles(), "etl").value_or(Json()).dump();

  const Json stored = *Get(res::PipelineSecurityProfiles(), "etl");
  auto parsed = ParseProfile(stored);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const std::string role_name = RoleName("it", "data", "etl");
  auto role = iam_client_->GetRole(role_name);
  ASSERT_TRUE(role.ok()) << role.error().ToString();
  EXPECT_EQ(stored["status"]["roleArn"], role->arn);
  EXPECT_THAT(stored["metadata"]["finalizers"], ::testing::Contains("pipeguard.io/iam-role"));
  EXPECT_TRUE(aws::PoliciesEquivalent(role->assume_role_policy_document, TrustPolicy(config_, "data", "etl-sa")));
  EXPECT_EQ(role->permissions_boundary_arn, config_.permissions_boundary_arn);
  auto tags = iam_client_->ListRoleTags(role_name);
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(ClassifyRoleOwnership(*tags, config_, *parsed), RoleOwnership::kOurs);
  auto inline_policy = iam_client_->GetRolePolicy(role_name, "pipeguard-profile");
  ASSERT_TRUE(inline_policy.ok()) << inline_policy.error().ToString();
  EXPECT_TRUE(aws::PoliciesEquivalent(*inline_policy, CanonicalInlinePolicy(*parsed)));

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

}  // namespace
}  // namespace pipeguard::reconcilers
