// webhook_tamper.h (pure: the desired-state file, what counts as tampering, what a restore writes) and
// WebhookGuard::CheckOnce against the in-memory FakeKubeClient (restore, Event, metric, leadership, cache reads).
#include "pipeguard/desired/webhook_tamper.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <thread>

#include "pipeguard/kube/fake_client.h"
#include "pipeguard/kube/resource.h"
#include "pipeguard/reconcilers/metrics.h"
#include "pipeguard/reconcilers/webhook_guard.h"

namespace pipeguard::reconcilers {
namespace {

using nlohmann::json;
namespace res = kube::resources;

// Shaped like helm/pipeguard/templates/webhook-configurations.yaml renders them.
constexpr const char* kDesiredYaml = R"(
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: pg-pipeguard
  labels: {app.kubernetes.io/name: pipeguard}
  resourceVersion: "17"
webhooks:
  - name: validate.pipeguard.io
    admissionReviewVersions: [v1]
    sideEffects: None
    failurePolicy: Fail
    timeoutSeconds: 10
    matchPolicy: Equivalent
    clientConfig:
      service: {name: pg-pipeguard-webhook, namespace: pipeguard-system, path: /validate, port: 443}
      caBundle: Q0EtQlVORExF
    namespaceSelector:
      matchExpressions:
        - {key: kubernetes.io/metadata.name, operator: NotIn, values: [kube-system, pipeguard-system]}
    rules:
      - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods], scope: Namespaced}
      - {apiGroups: [batch], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [jobs, cronjobs], scope: Namespaced}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: pg-pipeguard
  annotations: {cert-manager.io/inject-ca-from: pipeguard-system/pg-pipeguard-webhook-tls}
webhooks:
  - name: mutate.pipeguard.io
    admissionReviewVersions: [v1]
    sideEffects: None
    reinvocationPolicy: Never
    clientConfig:
      service: {name: pg-pipeguard-webhook, namespace: pipeguard-system, path: /mutate}
    rules:
      - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}
)";

std::vector<json> Desired() {
  auto parsed = desired::ParseDesiredWebhookConfigurations(kDesiredYaml, "webhooks.yaml");
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  return parsed.ok() ? *parsed : std::vector<json>{};
}

// What the API server stores for `desired`: defaults filled in, server metadata added, lists reordered.
json AsStored(json object) {
  object["metadata"]["resourceVersion"] = "42";
  object["metadata"]["uid"] = "0b8a-uid";
  object["metadata"]["labels"]["extra"] = "kept";
  for (auto& w : object["webhooks"]) {
    if (!w.contains("failurePolicy")) w["failurePolicy"] = "Fail";
    if (!w.contains("matchPolicy")) w["matchPolicy"] = "Equivalent";
    if (!w.contains("timeoutSeconds")) w["timeoutSeconds"] = 10;
    if (!w.contains("namespaceSelector")) w["namespaceSelector"] = json::object();
    w["objectSelector"] = json::object();
    if (!w["clientConfig"]["service"].contains("port")) w["clientConfig"]["service"]["port"] = 443;
    if (!w["clientConfig"].contains("caBundle")) w["clientConfig"]["caBundle"] = "SU5KRUNURUQ=";  // cainjector's
    for (auto& r : w["rules"]) {
      if (!r.contains("scope")) r["scope"] = "*";
      std::reverse(r["operations"].begin(), r["operations"].end());
    }
    std::reverse(w["rules"].begin(), w["rules"].end());
  }
  return object;
}

std::vector<std::string> Labels(const std::vector<desired::WebhookFinding>& findings) {
  std::vector<std::string> out;
  for (const auto& f : findings) out.emplace_back(desired::WebhookTamperLabel(f.change));
  return out;
}

TEST(WebhookTamperTest, ParsesTheChartRenderingAndDropsServerMetadata) {
  const auto desired = Desired();
  ASSERT_EQ(desired.size(), 2u);
  EXPECT_EQ(desired[0]["kind"], "ValidatingWebhookConfiguration");
  EXPECT_EQ(desired[1]["kind"], "MutatingWebhookConfiguration");
  EXPECT_FALSE(desired[0]["metadata"].contains("resourceVersion"));
  EXPECT_EQ(desired[0]["webhooks"][0]["timeoutSeconds"], 10);

  auto list = desired::ParseDesiredWebhookConfigurations(
      R"({"apiVersion":"v1","kind":"List","items":[{"apiVersion":"admissionregistration.k8s.io/v1",
          "kind":"ValidatingWebhookConfiguration","metadata":{"name":"a"},"webhooks":[{"name":"w.io"}]}]})",
      "list.json");
  ASSERT_TRUE(list.ok()) << list.status().message();
  EXPECT_EQ(list->size(), 1u);
}

TEST(WebhookTamperTest, RejectsFilesThatCannotBeTheDesiredState) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "no webhook configurations"},
      {"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "expected ValidatingWebhookConfiguration"},
      {"apiVersion: admissionregistration.k8s.io/v1beta1\nkind: ValidatingWebhookConfiguration\n"
       "metadata: {name: x}\nwebhooks: [{name: a.io}]\n",
       "apiVersion"},
      {"apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {}\n"
       "webhooks: [{name: a.io}]\n",
       "metadata.name is required"},
      {"apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: x}\n",
       "has no webhooks"},
      {"apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: x}\n"
       "webhooks: [{name: a.io}, {name: a.io}]\n",
       "appears twice"},
      {"apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: x}\n"
       "webhooks: [{name: a.io}]\n---\napiVersion: admissionregistration.k8s.io/v1\n"
       "kind: ValidatingWebhookConfiguration\nmetadata: {name: x}\nwebhooks: [{name: b.io}]\n",
       "appears twice"},
      {"webhooks: [unclosed\n", "webhooks.yaml"},
  };
  for (const auto& [text, want] : cases) {
    auto parsed = desired::ParseDesiredWebhookConfigurations(text, "webhooks.yaml");
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_THAT(parsed.status().message(), ::testing::HasSubstr(want)) << text;
    EXPECT_THAT(parsed.status().message(), ::testing::HasSubstr("webhooks.yaml")) << text;
  }
}

TEST(WebhookTamperTest, TheStoredFormWithApiDefaultsIsIntact) {
  for (const auto& desired : Desired()) {
    EXPECT_THAT(desired::CompareWebhookConfiguration(desired, AsStored(desired)), ::testing::IsEmpty())
        << desired.dump();
  }
}

struct TamperCase {
  std::string name;
  size_t object;  // 0 validating, 1 mutating
  std::function<void(json&)> tamper;
  std::string change;
};

TEST(WebhookTamperTest, EveryWeakeningIsFoundAndNamed) {
  const std::vector<TamperCase> cases = {
      {"failurePolicy Ignore", 0, [](json& o) { o["webhooks"][0]["failurePolicy"] = "Ignore"; }, "failure_policy"},
      {"a resource dropped", 0, [](json& o) { o["webhooks"][0]["rules"][0]["resources"] = {"jobs"}; }, "rules"},
      {"an operation dropped", 0, [](json& o) { o["webhooks"][0]["rules"][1]["operations"] = {"UPDATE"}; }, "rules"},
      {"a rule removed", 0, [](json& o) { o["webhooks"][0]["rules"].erase(0); }, "rules"},
      {"scope narrowed", 1, [](json& o) { o["webhooks"][0]["rules"][0]["scope"] = "Cluster"; }, "rules"},
      {"a namespace excluded", 0,
       [](json& o) { o["webhooks"][0]["namespaceSelector"]["matchExpressions"][0]["values"].push_back("data"); },
       "namespace_selector"},
      {"namespaceSelector replaced", 1,
       [](json& o) {
         o["webhooks"][0]["namespaceSelector"] = {{"matchLabels", {{"audited", "true"}}}};
       },
       "namespace_selector"},
      {"objectSelector added", 0,
       [](json& o) {
         o["webhooks"][0]["objectSelector"] = {{"matchExpressions", {{{"key", "skip"}, {"operator", "DoesNotExist"}}}}};
       },
       "object_selector"},
      {"matchConditions added", 0,
       [](json& o) {
         o["webhooks"][0]["matchConditions"] = {{{"name", "never"}, {"expression", "false"}}};
       },
       "match_conditions"},
      {"service renamed", 0, [](json& o) { o["webhooks"][0]["clientConfig"]["service"]["name"] = "evil"; },
       "client_config"},
      {"path changed", 1, [](json& o) { o["webhooks"][0]["clientConfig"]["service"]["path"] = "/healthz"; },
       "client_config"},
      {"port changed", 1, [](json& o) { o["webhooks"][0]["clientConfig"]["service"]["port"] = 8443; }, "client_config"},
      {"url instead of service", 0,
       [](json& o) {
         o["webhooks"][0]["clientConfig"] = {{"url", "https://allow-all.example/"}};
       },
       "client_config"},
      {"caBundle replaced", 0, [](json& o) { o["webhooks"][0]["clientConfig"]["caBundle"] = "T1RIRVI="; },
       "client_config"},
      {"timeout changed", 0, [](json& o) { o["webhooks"][0]["timeoutSeconds"] = 1; }, "timeout"},
      {"matchPolicy Exact", 0, [](json& o) { o["webhooks"][0]["matchPolicy"] = "Exact"; }, "match_policy"},
      {"sideEffects", 0, [](json& o) { o["webhooks"][0]["sideEffects"] = "NoneOnDryRun"; }, "side_effects"},
      {"review versions", 0, [](json& o) { o["webhooks"][0]["admissionReviewVersions"] = {"v1beta1"}; },
       "admission_review_versions"},
      {"reinvocation", 1, [](json& o) { o["webhooks"][0]["reinvocationPolicy"] = "IfNeeded"; }, "reinvocation_policy"},
      {"webhook removed", 0, [](json& o) { o["webhooks"] = json::array(); }, "webhook_removed"},
      {"webhook renamed", 1, [](json& o) { o["webhooks"][0]["name"] = "other.pipeguard.io"; }, "webhook_removed"},
      {"webhook added", 1,
       [](json& o) {
         json extra = o["webhooks"][0];
         extra["name"] = "sidecar.attacker.io";
         o["webhooks"].push_back(extra);
       },
       "webhook_added"},
      {"inject annotation removed", 1, [](json& o) { o["metadata"].erase("annotations"); }, "metadata"},
      {"label changed", 0, [](json& o) { o["metadata"]["labels"]["app.kubernetes.io/name"] = "x"; }, "metadata"},
  };
  const auto desired = Desired();
  for (const auto& c : cases) {
    json observed = AsStored(desired[c.object]);
    c.tamper(observed);
    const auto findings = desired::CompareWebhookConfiguration(desired[c.object], observed);
    EXPECT_THAT(Labels(findings), ::testing::Contains(c.change)) << c.name;
    for (const auto& f : findings) {
      EXPECT_EQ(f.detail.find("Q0EtQlVORExF"), std::string::npos) << c.name << ": the caBundle is never printed";
    }
    // Restoring fixes it, and keeps the server's metadata.
    const json restored = desired::RestoredWebhookConfiguration(desired[c.object], observed);
    EXPECT_THAT(desired::CompareWebhookConfiguration(desired[c.object], AsStored(restored)), ::testing::IsEmpty())
        << c.name;
    EXPECT_EQ(restored["metadata"]["resourceVersion"], "42") << c.name;
  }
  EXPECT_EQ(Labels(desired::CompareWebhookConfiguration(desired[0], std::nullopt)),
            std::vector<std::string>{"deleted"});
}

TEST(WebhookTamperTest, RestoreKeepsAnInjectedCaBundleAndForeignMetadata) {
  const auto desired = Desired();
  json observed = AsStored(desired[1]);  // desired has no caBundle: cert-manager injects it
  observed["webhooks"][0]["failurePolicy"] = "Ignore";
  const json restored = desired::RestoredWebhookConfiguration(desired[1], observed);
  EXPECT_EQ(restored["webhooks"][0]["clientConfig"]["caBundle"], "SU5KRUNURUQ=");
  EXPECT_FALSE(restored["webhooks"][0].contains("failurePolicy")) << "the desired webhook as rendered (defaults apply)";
  EXPECT_EQ(restored["metadata"]["uid"], "0b8a-uid");
  EXPECT_EQ(restored["metadata"]["labels"]["extra"], "kept");
  EXPECT_EQ(restored["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
            "pipeguard-system/pg-pipeguard-webhook-tls");
  EXPECT_EQ(desired::RestoredWebhookConfiguration(desired[1], std::nullopt), desired[1]);
}

class WebhookGuardTest : public ::testing::Test {
 protected:
  WebhookGuardOptions Options(bool leader) {
    WebhookGuardOptions o;
    o.desired = Desired();
    o.reporting_instance = "operator-0";
    o.leader = leader;
    o.metrics = &metrics_;
    o.deletion_grace = std::chrono::milliseconds(0);
    o.upgrade_grace = std::chrono::milliseconds(0);
    return o;
  }
  // The chart's desired-state ConfigMap holding `text`.
  void PutConfigMap(const std::string& text) {
    json cm = {
        {"apiVersion", "v1"},
        {"kind", "ConfigMap"},
        {"metadata", {{"name", "pg-pipeguard-operator-webhook-configurations"}, {"namespace", "pipeguard-system"}}},
        {"data", {{"webhook-configurations.yaml", text}}}};
    auto got = kube_.Get(res::ConfigMaps(), "pipeguard-system", "pg-pipeguard-operator-webhook-configurations");
    if (got.ok()) {
      cm["metadata"]["resourceVersion"] = (*got)["metadata"]["resourceVersion"];
      ASSERT_TRUE(kube_.Update(res::ConfigMaps(), "pipeguard-system", cm).ok());
    } else {
      ASSERT_TRUE(kube_.Create(res::ConfigMaps(), "pipeguard-system", cm).ok());
    }
  }
  WebhookGuardOptions WithConfigMap(WebhookGuardOptions o) {
    o.desired_configmap_namespace = "pipeguard-system";
    o.desired_configmap_name = "pg-pipeguard-operator-webhook-configurations";
    return o;
  }
  std::vector<json> WarningEvents() {
    std::vector<json> out;
    auto events = kube_.List(res::Events(), "default", {});
    if (!events.ok()) return out;
    for (const auto& e : events->items) {
      if (e.value("type", "") == "Warning" && e.value("reason", "") == "WebhookConfigurationTampered") out.push_back(e);
    }
    return out;
  }
  kube::FakeKubeClient kube_;
  OperatorMetrics metrics_;
};

TEST_F(WebhookGuardTest, RecreatesDeletedAndRestoresWeakenedConfigurations) {
  WebhookGuard guard(kube_, Options(true));
  auto first = guard.CheckOnce();
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(*first, 2) << "both were missing";
  EXPECT_EQ(metrics_.TamperCount("ValidatingWebhookConfiguration", "deleted"), 1);
  EXPECT_EQ(metrics_.TamperCount("MutatingWebhookConfiguration", "deleted"), 1);

  auto stored = kube_.Get(res::ValidatingWebhookConfigurations(), "", "pg-pipeguard");
  ASSERT_TRUE(stored.ok());
  json weakened = *stored;
  weakened["webhooks"][0]["failurePolicy"] = "Ignore";
  ASSERT_TRUE(kube_.Update(res::ValidatingWebhookConfigurations(), "", weakened).ok());
  auto second = guard.CheckOnce();
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(*second, 1);
  auto now = kube_.Get(res::ValidatingWebhookConfigurations(), "", "pg-pipeguard");
  ASSERT_TRUE(now.ok());
  EXPECT_EQ((*now)["webhooks"][0]["failurePolicy"], "Fail");
  EXPECT_EQ((*now)["metadata"]["uid"], (*stored)["metadata"]["uid"]) << "updated in place, not recreated";
  EXPECT_EQ(metrics_.TamperCount("ValidatingWebhookConfiguration", "failure_policy"), 1);

  const auto events = WarningEvents();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_THAT(events.back().value("note", "") + events.front().value("note", ""), ::testing::HasSubstr("Ignore"));
  EXPECT_EQ(metrics_.Serialize().find("Q0EtQlVORExF"), std::string::npos);

  // Intact: a pass writes nothing.
  const int updates = kube_.Calls(kube::Verb::kUpdate), creates = kube_.Calls(kube::Verb::kCreate);
  auto third = guard.CheckOnce();
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(*third, 0);
  EXPECT_EQ(kube_.Calls(kube::Verb::kUpdate), updates);
  EXPECT_EQ(kube_.Calls(kube::Verb::kCreate), creates);
}

TEST_F(WebhookGuardTest, AConflictIsAnErrorToRetryAndNothingIsCounted) {
  WebhookGuard guard(kube_, Options(true));
  ASSERT_TRUE(guard.CheckOnce().ok());
  auto stored = kube_.Get(res::MutatingWebhookConfigurations(), "", "pg-pipeguard");
  ASSERT_TRUE(stored.ok());
  json weakened = *stored;
  weakened["webhooks"][0]["timeoutSeconds"] = 1;
  ASSERT_TRUE(kube_.Update(res::MutatingWebhookConfigurations(), "", weakened).ok());
  kube_.FailNext(kube::Verb::kUpdate, Status::FailedPrecondition("Conflict: the object has been modified"));
  EXPECT_FALSE(guard.CheckOnce().ok());
  EXPECT_EQ(metrics_.TamperCount("MutatingWebhookConfiguration", "timeout"), 0);
  auto retried = guard.CheckOnce();
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(*retried, 1);
  EXPECT_EQ(metrics_.TamperCount("MutatingWebhookConfiguration", "timeout"), 1);
}

TEST_F(WebhookGuardTest, ADeletionIsRestoredOnlyAfterTheGrace) {
  kube::FakeClock clock;
  WebhookGuardOptions o = Options(true);
  o.deletion_grace = std::chrono::seconds(5);
  WebhookGuard guard(kube_, o, clock);
  auto first = guard.CheckOnce();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, 0) << "missing, but not for 5 s yet";
  EXPECT_EQ(kube_.Calls(kube::Verb::kCreate), 0);
  clock.Advance(std::chrono::seconds(4));
  EXPECT_EQ(*guard.CheckOnce(), 0);
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(*guard.CheckOnce(), 2);
  EXPECT_EQ(metrics_.TamperCount("ValidatingWebhookConfiguration", "deleted"), 1);
}

TEST_F(WebhookGuardTest, HelmUninstallIsNotUndone) {
  kube::FakeClock clock;
  PutConfigMap(kDesiredYaml);
  WebhookGuardOptions o = WithConfigMap(Options(true));
  o.deletion_grace = std::chrono::seconds(5);
  WebhookGuard guard(kube_, o, clock);
  EXPECT_EQ(*guard.CheckOnce(), 0);  // both configurations missing: inside the grace
  // helm uninstall: webhook configurations first (already gone here), then the ConfigMap.
  ASSERT_TRUE(kube_.Delete(res::ConfigMaps(), "pipeguard-system", "pg-pipeguard-operator-webhook-configurations").ok());
  clock.Advance(std::chrono::seconds(6));
  auto after = guard.CheckOnce();
  ASSERT_TRUE(after.ok()) << after.status().message();
  EXPECT_EQ(*after, 0);
  EXPECT_EQ(kube_.Calls(kube::Verb::kCreate), 1) << "only the test's ConfigMap was ever created";
  EXPECT_EQ(metrics_.TamperCount("ValidatingWebhookConfiguration", "deleted"), 0);
}

TEST_F(WebhookGuardTest, HelmUpgradeIsFollowedNotReverted) {
  PutConfigMap(kDesiredYaml);
  WebhookGuard guard(kube_, WithConfigMap(Options(true)));
  ASSERT_EQ(*guard.CheckOnce(), 2);  // installed (counted as restored: they were missing)
  // helm upgrade: the ConfigMap first, then the configuration, both with timeoutSeconds 5.
  std::string upgraded = kDesiredYaml;
  upgraded.replace(upgraded.find("timeoutSeconds: 10"), 18, "timeoutSeconds: 5");
  PutConfigMap(upgraded);
  json live = *kube_.Get(res::ValidatingWebhookConfigurations(), "", "pg-pipeguard");
  live["webhooks"][0]["timeoutSeconds"] = 5;
  ASSERT_TRUE(kube_.Update(res::ValidatingWebhookConfigurations(), "", live).ok());
  EXPECT_EQ(*guard.CheckOnce(), 0);
  EXPECT_EQ(metrics_.TamperCount("ValidatingWebhookConfiguration", "timeout"), 0);
  // Tampering afterwards is judged against the upgraded state.
  live = *kube_.Get(res::ValidatingWebhookConfigurations(), "", "pg-pipeguard");
  live["webhooks"][0]["timeoutSeconds"] = 10;
  ASSERT_TRUE(kube_.Update(res::ValidatingWebhookConfigurations(), "", live).ok());
  EXPECT_EQ(*guard.CheckOnce(), 1);
  EXPECT_EQ((*kube_.Get(res::ValidatingWebhookConfigurations(), "", "pg-pipeguard"))["webhooks"][0]["timeoutSeconds"],
            5);
  // A broken ConfigMap does not switch the guard off: the last good desired state stays.
  PutConfigMap("not: a webhook configuration\n");
  live = *kube_.Get(res::ValidatingWebhookConfigurations(), "", "pg-pipeguard");
  live["webhooks"][0]["failurePolicy"] = "Ignore";
  ASSERT_TRUE(kube_.Update(res::ValidatingWebhookConfigurations(), "", live).ok());
  EXPECT_EQ(*guard.CheckOnce(), 1);
  EXPECT_EQ(metrics_.TamperCount("ValidatingWebhookConfiguration", "failure_policy"), 1);
}

// A CA rotation step (tls.rotation in the chart) changes the caBundles. Helm writes the ConfigMap, then the Mutating,
// then the Validating configuration; a pass started by the Mutating write sees the Validating one still old. It must
// leave it to Helm, and still restore a difference that outlives the grace.
TEST_F(WebhookGuardTest, AnUpgradeIsNotTamperingWhileHelmWritesTheConfigurations) {
  kube::FakeClock clock;
  PutConfigMap(kDesiredYaml);
  WebhookGuardOptions o = WithConfigMap(Options(true));
  o.upgrade_grace = std::chrono::seconds(5);
  WebhookGuard guard(kube_, o, clock);
  ASSERT_EQ(*guard.CheckOnce(), 2);  // installed
  const size_t events = WarningEvents().size();
  auto with_bundle = [](const std::string& bundle) {
    std::string text = kDesiredYaml;
    text.replace(text.find("Q0EtQlVORExF"), 12, bundle);
    return text;
  };
  auto live_bundle = [this] {
    return (*kube_.Get(res::ValidatingWebhookConfigurations(), "", "pg-pipeguard"))["webhooks"][0]["clientConfig"]
        .value("caBundle", "");
  };
  auto helm_writes = [this](const std::string& bundle) {
    json live = *kube_.Get(res::ValidatingWebhookConfigurations(), "", "pg-pipeguard");
    live["webhooks"][0]["clientConfig"]["caBundle"] = bundle;
    ASSERT_TRUE(kube_.Update(res::ValidatingWebhookConfigurations(), "", live).ok());
  };

  PutConfigMap(with_bundle("T0xEK05FVw=="));  // stage: old + new CA
  auto during = guard.CheckOnce();            // before Helm reaches the Validating configuration
  ASSERT_TRUE(during.ok()) << during.status().message();
  EXPECT_EQ(*during, 0);
  EXPECT_EQ(live_bundle(), "Q0EtQlVORExF") << "left for Helm to write";
  helm_writes("T0xEK05FVw==");
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(*guard.CheckOnce(), 0);
  clock.Advance(std::chrono::seconds(10));
  EXPECT_EQ(*guard.CheckOnce(), 0) << "converged";
  EXPECT_EQ(metrics_.TamperCount("ValidatingWebhookConfiguration", "client_config"), 0);
  EXPECT_EQ(WarningEvents().size(), events) << "no tamper Event for an upgrade";

  // The next step changes the desired state again, but nobody writes the configuration: once the grace is over, the
  // difference is tampering like any other.
  PutConfigMap(with_bundle("TkVX"));
  EXPECT_EQ(*guard.CheckOnce(), 0);
  clock.Advance(std::chrono::seconds(4));
  EXPECT_EQ(*guard.CheckOnce(), 0);
  EXPECT_EQ(live_bundle(), "T0xEK05FVw==");
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(*guard.CheckOnce(), 1);
  EXPECT_EQ(live_bundle(), "TkVX");
  EXPECT_EQ(metrics_.TamperCount("ValidatingWebhookConfiguration", "client_config"), 1);
  EXPECT_EQ(WarningEvents().size(), events + 1);
}

TEST_F(WebhookGuardTest, AFollowerNeverWrites) {
  WebhookGuard guard(kube_, Options(false));
  guard.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(kube_.Calls(kube::Verb::kCreate), 0);
  EXPECT_EQ(guard.restores(), 0);
  guard.SetLeader(true);  // becoming leader triggers a pass at once
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (guard.restores() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(guard.restores(), 2);
  guard.Stop();
}

// Steady state: a pass over intact configurations reads only the informer caches. A tampered configuration is read
// live before it is restored, and so is the desired-state ConfigMap.
TEST_F(WebhookGuardTest, SteadyStateReadsTheCachesAndConfirmsLiveBeforeWriting) {
  PutConfigMap(kDesiredYaml);
  WebhookGuard guard(kube_, WithConfigMap(Options(false)));  // a follower: only this test runs passes
  guard.Start();
  ASSERT_EQ(*guard.CheckOnce(), 2);
  auto gets_of_a_pass = [&] {
    const int before = kube_.Calls(kube::Verb::kGet);
    EXPECT_TRUE(guard.CheckOnce().ok());
    return kube_.Calls(kube::Verb::kGet) - before;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!(guard.Ready() && gets_of_a_pass() == 0) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // until the informers have seen the restores
  }
  const int writes = kube_.Calls(kube::Verb::kUpdate) + kube_.Calls(kube::Verb::kCreate);
  EXPECT_EQ(gets_of_a_pass(), 0) << "intact: the ConfigMap and both configurations come from the caches";
  EXPECT_EQ(kube_.Calls(kube::Verb::kUpdate) + kube_.Calls(kube::Verb::kCreate), writes);

  json live = *kube_.Get(res::ValidatingWebhookConfigurations(), "", "pg-pipeguard");
  live["webhooks"][0]["failurePolicy"] = "Ignore";
  ASSERT_TRUE(kube_.Update(res::ValidatingWebhookConfigurations(), "", live).ok());
  int gets = 0;
  while (guard.restores() < 3 && std::chrono::steady_clock::now() < deadline) gets = gets_of_a_pass();
  ASSERT_EQ(guard.restores(), 3);
  EXPECT_EQ(gets, 2) << "the restoring pass read the tampered configuration and the ConfigMap live";
  EXPECT_EQ(metrics_.TamperCount("ValidatingWebhookConfiguration", "failure_policy"), 1);
  guard.Stop();
}

}  // namespace
}  // namespace pipeguard::reconcilers
