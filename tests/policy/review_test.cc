// ImagesToVerify: the (image, key scope) pairs the webhook fetches signatures for before evaluating an object.
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

TEST(ImagesToVerify, ListsEveryImageFieldOnceWithItsPath) {
  Config config = DefaultConfig();
  const auto context = ContextSnapshotBuilder(config).Build();
  RequestInfo request;
  request.namespace_ = "etl";
  const auto checks = ImagesToVerify(Pod({"registry.corp/etl:1", "registry.corp/etl:2"}), request, *context);
  EXPECT_EQ(Paths(checks), (std::vector<std::string>{"/spec/initContainers/0/image=registry.corp/etl:1",
                                                     "/spec/containers/0/image=registry.corp/etl:1",
                                                     "/spec/containers/1/image=registry.corp/etl:2"}));
}

// A requester must not be able to make the webhook connect to a registry of their choosing: images outside the
// allowlist are denied by untrusted-registry and never verified.
TEST(ImagesToVerify, LeavesOutImagesFromRegistriesOutsideTheAllowlist) {
  Config config = DefaultConfig();
  config.images.allowed_registries = {"registry.corp/"};
  const auto context = ContextSnapshotBuilder(config).Build();
  RequestInfo request;
  request.namespace_ = "etl";
  const auto checks = ImagesToVerify(
      Pod({"registry.corp/etl:1", "attacker.example:8443/probe:1", "registry.corp.evil.io/x:1"}), request, *context);
  EXPECT_EQ(Paths(checks), (std::vector<std::string>{"/spec/initContainers/0/image=registry.corp/etl:1",
                                                     "/spec/containers/0/image=registry.corp/etl:1"}));
}

}  // namespace
}  // namespace pipeguard::policy
