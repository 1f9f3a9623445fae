// InformerCache lookups (synced, missing, not covered) and the one read rule: ReadForDiff takes a converged object
// from the cache, and confirms a difference or a miss with the API server; ConfirmLive reads live only when a write
// would follow.
#include "pipeguard/controller/object_cache.h"

#include <gtest/gtest.h>

#include <thread>

#include "pipeguard/kube/fake_client.h"

namespace pipeguard::controller {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
namespace res = kube::resources;

TEST(InformerCacheTest, CoversSyncedInformersByResourceAndNamespace) {
  kube::FakeKubeClient kube;
  Json sa = {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", "a"}, {"namespace", "data"}}}};
  ASSERT_TRUE(kube.Create(res::ServiceAccounts(), "data", sa).ok());
  kube::Informer all(kube, {.resource = res::ServiceAccounts()});
  kube::Informer only_data(kube, {.resource = res::NetworkPolicies(), .namespace_ = "data"});
  InformerCache cache;
  cache.Add(&all);
  cache.Add(&only_data);

  EXPECT_FALSE(cache.Lookup(res::ServiceAccounts(), "data", "a").has_value()) << "not synced yet";
  all.Start();
  only_data.Start();
  ASSERT_TRUE(all.WaitForSync(10s));
  ASSERT_TRUE(only_data.WaitForSync(10s));

  auto hit = cache.Lookup(res::ServiceAccounts(), "data", "a");
  ASSERT_TRUE(hit.has_value());
  ASSERT_NE(*hit, nullptr);
  EXPECT_EQ((**hit)["metadata"]["name"], "a");
  auto miss = cache.Lookup(res::ServiceAccounts(), "data", "b");
  ASSERT_TRUE(miss.has_value());
  EXPECT_EQ(*miss, nullptr);
  EXPECT_TRUE(cache.Lookup(res::NetworkPolicies(), "data", "x").has_value());
  EXPECT_FALSE(cache.Lookup(res::NetworkPolicies(), "other", "x").has_value()) << "namespace not watched";
  EXPECT_FALSE(cache.Lookup(res::ConfigMaps(), "data", "a").has_value()) << "no informer for the resource";
  all.Stop();
  only_data.Stop();
}

TEST(InformerCacheTest, TransformStripsManagedFieldsBeforeStoring) {
  kube::FakeKubeClient kube;
  Json sa = {{"apiVersion", "v1"},
             {"kind", "ServiceAccount"},
             {"metadata",
              {{"name", "a"},
               {"namespace", "data"},
               {"labels", {{"app", "x"}}},
               {"managedFields", Json::array({{{"manager", "pipeguard-operator"}, {"operation", "Apply"}}})}}}};
  ASSERT_TRUE(kube.Create(res::ServiceAccounts(), "data", sa).ok());
  ASSERT_TRUE(kube.Get(res::ServiceAccounts(), "data", "a")->at("metadata").contains("managedFields"));
  kube::Informer informer(kube, {.resource = res::ServiceAccounts(), .transform = kube::StripManagedFields});
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(10s));
  auto listed = informer.Get("data/a");
  ASSERT_NE(listed, nullptr);
  EXPECT_FALSE((*listed)["metadata"].contains("managedFields"));
  EXPECT_EQ((*listed)["metadata"]["labels"]["app"], "x") << "nothing else is touched";

  Json changed = *kube.Get(res::ServiceAccounts(), "data", "a");
  changed["metadata"]["labels"]["app"] = "y";
  ASSERT_TRUE(kube.Update(res::ServiceAccounts(), "data", changed).ok());
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline && (*informer.Get("data/a"))["metadata"]["labels"]["app"] != "y") {
    std::this_thread::sleep_for(10ms);
  }
  auto watched = informer.Get("data/a");
  EXPECT_EQ((*watched)["metadata"]["labels"]["app"], "y");
  EXPECT_FALSE((*watched)["metadata"].contains("managedFields")) << "watch events are transformed too";
  informer.Stop();
}

// A cache that holds exactly what the test puts in it.
class OneObjectCache final : public ObjectCache {
 public:
  explicit OneObjectCache(Json object) : object_(std::make_shared<const Json>(std::move(object))) {}
  std::optional<kube::ObjectPtr> Lookup(const kube::Resource&, std::string_view, std::string_view name) const override {
    return name == (*object_)["metadata"]["name"] ? object_ : nullptr;
  }

 private:
  kube::ObjectPtr object_;
};

Json ConfigMap(const std::string& name, const std::string& value) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", "data"}}},
          {"data", {{"k", value}}}};
}

TEST(ReadForDiffTest, TakesTheCachedObjectWhenNoWriteWouldFollow) {
  kube::FakeKubeClient kube;
  ASSERT_TRUE(kube.Create(res::ConfigMaps(), "data", ConfigMap("a", "live")).ok());
  OneObjectCache cache(ConfigMap("a", "cached"));
  const int gets = kube.Calls(kube::Verb::kGet);
  auto read = ReadForDiff(kube, &cache, res::ConfigMaps(), "data", "a", [](const auto&) { return false; });
  ASSERT_TRUE(read.ok());
  ASSERT_TRUE(read->object.has_value());
  EXPECT_TRUE(read->from_cache);
  EXPECT_EQ((*read->object)["data"]["k"], "cached");
  EXPECT_EQ(kube.Calls(kube::Verb::kGet), gets) << "no API call for a converged object";
}

TEST(ReadForDiffTest, ADifferenceInTheCacheIsConfirmedLive) {
  kube::FakeKubeClient kube;
  ASSERT_TRUE(kube.Create(res::ConfigMaps(), "data", ConfigMap("a", "live")).ok());
  OneObjectCache cache(ConfigMap("a", "cached"));
  std::vector<std::string> seen;
  auto read = ReadForDiff(kube, &cache, res::ConfigMaps(), "data", "a", [&](const std::optional<Json>& o) {
    seen.push_back((*o)["data"]["k"].get<std::string>());
    return true;
  });
  ASSERT_TRUE(read.ok());
  EXPECT_FALSE(read->from_cache);
  EXPECT_EQ((*read->object)["data"]["k"], "live");
  EXPECT_EQ(seen, std::vector<std::string>{"cached"}) << "the live object is returned, not judged again";
}

TEST(ReadForDiffTest, AMissOrNoCacheIsReadLiveAndNotFoundIsEmpty) {
  kube::FakeKubeClient kube;
  ASSERT_TRUE(kube.Create(res::ConfigMaps(), "data", ConfigMap("b", "live")).ok());
  OneObjectCache cache(ConfigMap("a", "cached"));
  auto never = [](const auto&) { return false; };
  auto missed = ReadForDiff(kube, &cache, res::ConfigMaps(), "data", "b", never);
  ASSERT_TRUE(missed.ok());
  EXPECT_FALSE(missed->from_cache);
  EXPECT_EQ((*missed->object)["data"]["k"], "live") << "a cache miss may be an object outside the selector";
  auto uncached = ReadForDiff(kube, nullptr, res::ConfigMaps(), "data", "b", never);
  ASSERT_TRUE(uncached.ok());
  EXPECT_FALSE(uncached->from_cache);
  auto absent = ReadForDiff(kube, nullptr, res::ConfigMaps(), "data", "none", never);
  ASSERT_TRUE(absent.ok()) << absent.status().message();
  EXPECT_FALSE(absent->object.has_value());
}

TEST(ConfirmLiveTest, ReadsLiveOnlyForACachedObjectThatWouldBeWritten) {
  kube::FakeKubeClient kube;
  ASSERT_TRUE(kube.Create(res::ConfigMaps(), "data", ConfigMap("a", "live")).ok());
  auto always = [](const auto&) { return true; };
  const int gets = kube.Calls(kube::Verb::kGet);
  auto fresh = ConfirmLive(kube, {.object = ConfigMap("a", "fresh"), .from_cache = false}, res::ConfigMaps(), "data",
                           "a", always);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ((*fresh->object)["data"]["k"], "fresh") << "already live: kept";
  EXPECT_EQ(kube.Calls(kube::Verb::kGet), gets);
  auto cached = ConfirmLive(kube, {.object = ConfigMap("a", "stale"), .from_cache = true}, res::ConfigMaps(), "data",
                            "a", always);
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ((*cached->object)["data"]["k"], "live");
  EXPECT_EQ(kube.Calls(kube::Verb::kGet), gets + 1);
}

TEST(InformerCacheTest, ListsEveryInformerOfAResource) {
  kube::FakeKubeClient kube;
  ASSERT_TRUE(kube.Create(res::ConfigMaps(), "data", ConfigMap("a", "1")).ok());
  ASSERT_TRUE(kube.Create(res::ConfigMaps(), "data", ConfigMap("b", "2")).ok());
  kube::Informer informer(kube, {.resource = res::ConfigMaps()});
  InformerCache cache;
  cache.Add(&informer);
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(10s));
  EXPECT_EQ(cache.List(res::ConfigMaps()).size(), 2u);
  EXPECT_TRUE(cache.List(res::Services()).empty());
  informer.Stop();
}

}  // namespace
}  // namespace pipeguard::controller
