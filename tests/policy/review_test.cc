// Review::image_checks: the (image, key scope) pairs the webhook fetches signatures for before evaluating an object.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipeguard/policy/config.h"
#include "pipeguard/policy/context.h"
#include "pipeguard/policy/engine.h"

namespace pipeguard::policy {
namespace {

using nlohmann::json;

json Pod(const std::vector<std::string>& images) {
  json containers = json::array();
  for (size_t i = 0; i < images.size(); ++i) {
    containers.push_back({{"name", "c" + std::to_string(i)}, {"image", images[i]}});
  }
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", "p"}, {"namespace", "etl"}, {"labels", {{"pipeguard.io/pipeline", "payments"}}}}},
          {"spec", {{"containers", containers}, {"initContainers", {{{"name", "init"}, {"image", images[0]}}}}}}};
}

std::vector<std::string> Paths(const std::vector<ImageCheck>& checks) {
  std::vector<std::string> out;
  for (const auto& c : checks) out.push_back(c.path + "=" + c.image);
  return out;
}

TEST(ReviewImageChecks, ListsEveryImageFieldOnceWithItsPath) {
  Config config = DefaultConfig();
  const auto context = ContextSnapshotBuilder(config).Build();
  RequestInfo request;
  request.namespace_ = "etl";
  const json pod = Pod({"registry.corp/etl:1", "registry.corp/etl:2"});
  const auto checks = PrepareReview(pod, request, *context).image_checks();
  EXPECT_EQ(Paths(checks), (std::vector<std::string>{"/spec/initContainers/0/image=registry.corp/etl:1",
                                                     "/spec/containers/0/image=registry.corp/etl:1",
                                                     "/spec/containers/1/image=registry.corp/etl:2"}));
}

// A requester must not be able to make the webhook connect to a registry of their choosing: images outside the
// allowlist are denied by untrusted-registry and never verified.
TEST(ReviewImageChecks, LeavesOutImagesFromRegistriesOutsideTheAllowlist) {
  Config config = DefaultConfig();
  config.images.allowed_registries = {"registry.corp/"};
  const auto context = ContextSnapshotBuilder(config).Build();
  RequestInfo request;
  request.namespace_ = "etl";
  const json pod = Pod({"registry.corp/etl:1", "attacker.example:8443/probe:1", "registry.corp.evil.io/x:1"});
  const auto checks = PrepareReview(pod, request, *context).image_checks();
  EXPECT_EQ(Paths(checks), (std::vector<std::string>{"/spec/initContainers/0/image=registry.corp/etl:1",
                                                     "/spec/containers/0/image=registry.corp/etl:1"}));
}

// The CLI and the webhook verify exactly what the engine will look up: an object the engine does not govern, or
// one too malformed to read, costs no registry call.
TEST(ReviewImageChecks, NoneForObjectsTheEngineDoesNotJudgeByImage) {
  Config config = DefaultConfig();
  const auto context = ContextSnapshotBuilder(config).Build();
  RequestInfo request;
  request.namespace_ = "etl";

  json unlabelled = Pod({"registry.corp/etl:1"});
  unlabelled["metadata"].erase("labels");
  const Review ungoverned = PrepareReview(unlabelled, request, *context);
  EXPECT_FALSE(ungoverned.governed());
  EXPECT_TRUE(ungoverned.image_checks().empty());

  json malformed = Pod({"registry.corp/etl:1"});
  malformed["metadata"]["labels"] = "pipeline";  // labels hide whether the pod is governed: denied, not verified
  const Review unreadable = PrepareReview(malformed, request, *context);
  EXPECT_TRUE(unreadable.governed());
  EXPECT_TRUE(unreadable.image_checks().empty());
  EXPECT_FALSE(Engine().Evaluate(unreadable).allowed);

  RequestInfo deleting = request;
  deleting.operation = "DELETE";
  EXPECT_FALSE(PrepareReview(Pod({"registry.corp/etl:1"}), deleting, *context).governed());
}

// One review serves the verdict: Evaluate on a prepared review equals the one-call form.
TEST(ReviewImageChecks, EvaluatingAPreparedReviewEqualsEvaluatingTheObject) {
  Config config = DefaultConfig();
  const auto context = ContextSnapshotBuilder(config).Build();
  RequestInfo request;
  request.namespace_ = "etl";
  json pod = Pod({"registry.corp/etl:1"});
  pod["spec"]["containers"][0]["env"] = {{{"name", "DB_PASSWORD"}, {"value", "hunter2-but-longer"}}};
  const Engine engine;
  const Review review = PrepareReview(pod, request, *context);
  const Verdict prepared = engine.Evaluate(review);
  const Verdict direct = engine.Evaluate(pod, request, *context);
  EXPECT_EQ(prepared.allowed, direct.allowed);
  EXPECT_EQ(prepared.governed, direct.governed);
  ASSERT_EQ(prepared.violations.size(), direct.violations.size());
  for (size_t i = 0; i < prepared.violations.size(); ++i) {
    EXPECT_EQ(prepared.violations[i].rule, direct.violations[i].rule);
    EXPECT_EQ(prepared.violations[i].path, direct.violations[i].path);
  }
  EXPECT_FALSE(prepared.violations.empty());
}

// Mounted ConfigMaps: one Engine judges each ConfigMap object once and reuses the findings; a new version of the
// ConfigMap (a new object, as an informer update or a reloaded snapshot gives) is judged again, so the memo never
// keeps a stale verdict. The lookup is what PrepareReview uses when one is given.
TEST(MountedConfigMaps, ANewVersionOfAConfigMapIsJudgedAgainByTheSameEngine) {
  auto config = ParseConfig("images: {verify: false}\n", "test");
  ASSERT_TRUE(config.ok()) << config.status().message();
  const auto snapshot = ContextSnapshotBuilder(*config).Build();
  json pod = Pod({"123456789012.dkr.ecr.eu-west-1.amazonaws.com/etl:1"});
  pod["spec"]["volumes"] = json::array({{{"name", "v"}, {"configMap", {{"name", "conf"}}}}});
  auto version = [](const std::string& password) {
    return std::make_shared<const json>(json{{"apiVersion", "v1"},
                                             {"kind", "ConfigMap"},
                                             {"metadata", {{"name", "conf"}, {"namespace", "etl"}}},
                                             {"data", {{"db.ini", "[db]\npassword = " + password + "\n"}}}});
  };
  std::shared_ptr<const json> current = version("Lit3ralDbPassw0rd");
  const ConfigMapLookup lookup = [&](const std::string& ns, const std::string& name) {
    return ns == "etl" && name == "conf" ? current : nullptr;
  };
  RequestInfo request;
  const Engine engine;
  auto judge = [&] { return engine.Evaluate(PrepareReview(pod, request, *snapshot, lookup)); };

  Verdict first = judge();
  ASSERT_TRUE(first.governed);
  auto has_mounted_secret = [](const Verdict& v) {
    for (const auto& violation : v.violations) {
      if (violation.rule == rules::kPlaintextSecret && violation.path == "/spec/volumes/0/configMap/name") return true;
    }
    return false;
  };
  EXPECT_TRUE(has_mounted_secret(first));
  EXPECT_TRUE(has_mounted_secret(judge()));  // the same object again: the memo's findings

  current = version("${file:/run/secrets/db:password}");
  EXPECT_FALSE(has_mounted_secret(judge()));
  current = version("An0therLit3ralPw");
  EXPECT_TRUE(has_mounted_secret(judge()));
  current = nullptr;  // deleted: nothing to judge, and reported as unresolved
  EXPECT_FALSE(has_mounted_secret(judge()));
  EXPECT_EQ(PrepareReview(pod, request, *snapshot, lookup).unresolved_config_maps(),
            std::vector<std::string>{"etl/conf"});
}

}  // namespace
}  // namespace pipeguard::policy
