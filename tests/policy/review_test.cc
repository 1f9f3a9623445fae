// Review::image_checks: the (image, key scope) pairs the webhook fetches signatures for before evaluating an object.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace pipeguard::policy
