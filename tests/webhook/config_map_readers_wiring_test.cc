// The other order of issue 14, item 1, wired as webhook/main.cc wires it: the background audit's informers (over
// the in-memory FakeKubeClient) index the pods that read a ConfigMap, the /validate handler sees that index through
// ContextWithConfigMapReaders, and a ConfigMap created after a governed pod that mounts it is denied at its own
// admission, naming the pod; once the pod is deleted it is ungoverned again. (Against a real API server:
// tests/integration/config_map_readers_test.sh.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "pipeguard/audit/background_audit.h"
#include "pipeguard/kube/fake_client.h"
#include "pipeguard/policy/context.h"
#include "pipeguard/policy/engine.h"
#include "pipeguard/webhook/handlers.h"
#include "test_support.h"

namespace pipeguard::webhook {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using testing::MakeReview;

constexpr const char* kSecretValue = "Wh4reh0use-not-real-77";

using testing::StaticContext;

std::shared_ptr<const policy::ContextSnapshot> PaymentsSnapshot() {
  policy::Config config = policy::DefaultConfig();
  config.images.verify = false;
  policy::ContextSnapshotBuilder builder(std::move(config));
  const json profile = {{"apiVersion", "pipeguard.io/v1alpha1"},
                        {"kind", "PipelineSecurityProfile"},
                        {"metadata", {{"name", "payments"}, {"namespace", "etl"}}},
                        {"spec",
                         {{"serviceAccount", {{"name", "payments-etl"}}},
                          {"podSelector", {{"matchLabels", {{"pipeguard.io/pipeline", "payments"}}}}}}}};
  EXPECT_TRUE(builder.Add(profile).ok());
  return std::move(builder).Build();
}

json DbtPod() {
  return {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", "dbt-run"}, {"namespace", "etl"}, {"labels", {{"pipeguard.io/pipeline", "payments"}}}}},
      {"spec",
       {{"serviceAccountName", "payments-etl"},
        {"automountServiceAccountToken", false},
        {"containers", json::array({{{"name", "dbt"}, {"image", "registry.local/dbt:1.8"}}})},
        {"volumes", json::array({{{"name", "profiles"}, {"configMap", {{"name", "dbt-profiles"}}}}})}}}};
}

json DbtProfiles(const std::string& password) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", "dbt-profiles"}, {"namespace", "etl"}}},
          {"data",
           {{"profiles.yml",
             "payments:\n  outputs:\n    prod:\n      type: postgres\n      host: wh.internal\n      password: " +
                 password + "\n      sslmode: verify-full\n"}}}};
}

bool WaitFor(const std::function<bool()>& done) {
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (!done() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(10ms);
  return done();
}

TEST(ConfigMapReadersWiring, AConfigMapCreatedAfterTheGovernedPodIsDeniedNamingItUntilThePodIsGone) {
  kube::FakeKubeClient client;
  const StaticContext inner(PaymentsSnapshot());
  const policy::Engine engine;
  audit::BackgroundAuditOptions options;
  options.settle = 50ms;
  options.spark_applications = false;
  options.watch_timeout_seconds = 5;
  options.report_label_selector = "";  // FakeKubeClient has no label selectors
  audit::BackgroundAudit background(client, inner, engine, audit::ImageVerdictsForSnapshot(), options);
  const ContextWithConfigMapReaders context(inner, [&background](const std::string& ns, const std::string& name) {
    return background.ConfigMapReaders(ns, name);
  });
  const AdmissionHandler handler = MakeValidatingHandler(engine, context, [] { return std::int64_t{1800000000}; });
  auto review = [&](const json& object, const std::string& operation = "CREATE") {
    auto request = ParseAdmissionReview(MakeReview(object, "etl", "uid-1", operation, "alice", {}).dump());
    EXPECT_TRUE(request.ok()) << request.status().message();
    return handler(*request);
  };
  background.Start();

  // The pod first: admitted, with the warning that the ConfigMap's own admission will judge it; then stored.
  const AdmissionReply pod_reply = review(DbtPod());
  EXPECT_TRUE(pod_reply.allowed);
  ASSERT_EQ(pod_reply.warnings.size(), 1u);
  EXPECT_THAT(pod_reply.warnings[0], ::testing::HasSubstr("its own admission checks them as read by this pod"));
  ASSERT_TRUE(client.Create(kube::resources::Pods(), "etl", DbtPod()).ok());
  ASSERT_TRUE(WaitFor([&] { return !background.ConfigMapReaders("etl", "dbt-profiles").empty(); }));

  // The ConfigMap after: denied, naming the pod; no secret value anywhere in the reply.
  AdmissionReply reply = review(DbtProfiles(kSecretValue));
  EXPECT_FALSE(reply.allowed);
  EXPECT_TRUE(reply.governed);
  EXPECT_THAT(reply.message, ::testing::HasSubstr("pipeguard denied ConfigMap etl/dbt-profiles"));
  EXPECT_THAT(reply.message, ::testing::HasSubstr("plaintext-secret at /data/profiles.yml: read by Pod etl/dbt-run at "
                                                  "/spec/volumes/0/configMap/name; property data[\"profiles.yml\"]: "
                                                  "payments.outputs.prod.password"));
  EXPECT_THAT(reply.message, ::testing::HasSubstr("profile etl/payments"));
  EXPECT_THAT(reply.message, ::testing::Not(::testing::HasSubstr(kSecretValue)));
  for (const auto& warning : reply.warnings) EXPECT_THAT(warning, ::testing::Not(::testing::HasSubstr(kSecretValue)));
  for (const auto& annotation : reply.audit_annotations) {
    EXPECT_THAT(annotation.second, ::testing::Not(::testing::HasSubstr(kSecretValue))) << annotation.first;
  }
  // The same ConfigMap reading the password with env_var() is governed and admitted.
  reply = review(DbtProfiles("\"{{ env_var('DBT_ENV_SECRET_PASSWORD') }}\""));
  EXPECT_TRUE(reply.allowed) << reply.message;
  EXPECT_TRUE(reply.governed);

  // The pod is deleted: the index follows, and the ConfigMap is none of pipeguard's business again.
  ASSERT_TRUE(client.Delete(kube::resources::Pods(), "etl", "dbt-run").ok());
  ASSERT_TRUE(WaitFor([&] { return background.ConfigMapReaders("etl", "dbt-profiles").empty(); }));
  reply = review(DbtProfiles(kSecretValue));
  EXPECT_TRUE(reply.allowed);
  EXPECT_FALSE(reply.governed);
  background.Stop();
}

}  // namespace
}  // namespace pipeguard::webhook
