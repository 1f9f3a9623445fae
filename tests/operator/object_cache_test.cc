// Reads from informer caches: the reconciler's cache contract (a converged profile reconciles with zero Kubernetes
// API calls; a difference seen in a stale cache is confirmed with the API server before any write), the
// ProfileController attaching its caches, and CountingKubeClient's counts.
#include "pipeguard/controller/object_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "fake_iam.h"
#include "pipeguard/kube/fake_client.h"
#include "pipeguard/reconcilers/counting_kube_client.h"
#include "pipeguard/reconcilers/profile_controller.h"
#include "pipeguard/reconcilers/reconciler.h"
#include "reconciler_fixtures.h"

namespace pipeguard::reconcilers {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
namespace res = kube::resources;

using testing::ProfileObject;
using testing::TestConfig;

// A cache the test fills by hand: it covers every resource it holds an entry for.
class MapCache final : public controller::ObjectCache {
 public:
  void Put(const kube::Resource& r, const Json& object) {
    objects_[Key(r, object["metadata"].value("namespace", ""), object["metadata"]["name"].get<std::string>())] =
        std::make_shared<const Json>(object);
  }
  std::optional<kube::ObjectPtr> Lookup(const kube::Resource& r, std::string_view ns,
                                        std::string_view name) const override {
    ++lookups;
    auto it = objects_.find(Key(r, ns, name));
    if (it == objects_.end()) return std::nullopt;
    return it->second;
  }
  mutable int lookups = 0;

 private:
  static std::string Key(const kube::Resource& r, std::string_view ns, std::string_view name) {
    return r.resource + "|" + std::string(ns) + "|" + std::string(name);
  }
  std::map<std::string, kube::ObjectPtr> objects_;
};

Json Service(const std::string& ns, const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec", {{"selector", {{"app", name}}}, {"ports", {{{"port", 9096}, {"protocol", "TCP"}}}}}}};
}

class CachedReconcileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ProfileReconcilerOptions o;
    o.config = TestConfig();
    o.audit = [](const Json&) {};
    reconciler_ = std::make_unique<ProfileReconciler>(kube_, iam_, o, clock_);
    ASSERT_TRUE(kube_.Create(res::PipelineSecurityProfiles(), "data", ProfileObject()).ok());
    // Converge without a cache, as the first passes after a start do.
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(reconciler_->Reconcile("data", "etl").ok());
  }
  // The cache as an informer that has seen everything so far.
  void SnapshotIntoCache() {
    cache_.Put(res::PipelineSecurityProfiles(), *kube_.Get(res::PipelineSecurityProfiles(), "data", "etl"));
    cache_.Put(res::ServiceAccounts(), *kube_.Get(res::ServiceAccounts(), "data", "etl-sa"));
    for (const char* np : {"pipeguard-etl-deny", "pipeguard-etl-allow"}) {
      cache_.Put(res::NetworkPolicies(), *kube_.Get(res::NetworkPolicies(), "data", np));
    }
  }
  int KubeCalls(kube::Verb verb) const { return kube_.Calls(verb); }
  int KubeWrites() const {
    return kube_.Calls(kube::Verb::kCreate) + kube_.Calls(kube::Verb::kUpdate) + kube_.Calls(kube::Verb::kApply) +
           kube_.Calls(kube::Verb::kPatch) + kube_.Calls(kube::Verb::kDelete);
  }

  kube::FakeKubeClient kube_;
  testing::FakeIam iam_;
  kube::FakeClock clock_;
  MapCache cache_;
  std::unique_ptr<ProfileReconciler> reconciler_;
};

TEST_F(CachedReconcileTest, ConvergedProfileReconcilesWithZeroKubeCallsAndZeroWrites) {
  SnapshotIntoCache();
  reconciler_->UseCache(&cache_);
  const int gets = KubeCalls(kube::Verb::kGet), writes = KubeWrites(), iam_writes = iam_.Writes();
  clock_.Advance(1h);
  auto r = reconciler_->Reconcile("data", "etl");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->action, ReconcileResult::Action::kDone);
  EXPECT_EQ(KubeCalls(kube::Verb::kGet), gets) << "profile, ServiceAccount and NetworkPolicies come from the cache";
  EXPECT_EQ(KubeWrites(), writes);
  EXPECT_EQ(iam_.Writes(), iam_writes);
  EXPECT_GE(iam_.Calls("GetRole"), 1) << "IAM has no watch: it is always read";
  EXPECT_EQ(cache_.lookups, 4);
}

TEST_F(CachedReconcileTest, WithoutACacheEveryObjectIsReadFromTheApiServer) {
  const int gets = KubeCalls(kube::Verb::kGet), writes = KubeWrites();
  ASSERT_TRUE(reconciler_->Reconcile("data", "etl").ok());
  EXPECT_EQ(KubeCalls(kube::Verb::kGet) - gets, 4);  // profile, ServiceAccount, two NetworkPolicies
  EXPECT_EQ(KubeWrites(), writes);
}

TEST_F(CachedReconcileTest, StaleCacheShowingADifferenceIsConfirmedLiveAndNotWritten) {
  SnapshotIntoCache();
  // The cache still holds versions the API server has since moved past (what an informer lagging behind our own
  // writes holds): a tampered ServiceAccount annotation and a NetworkPolicy that allows everything.
  Json sa = *kube_.Get(res::ServiceAccounts(), "data", "etl-sa");
  sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] = "arn:aws:iam::999999999999:role/evil";
  cache_.Put(res::ServiceAccounts(), sa);
  Json np = *kube_.Get(res::NetworkPolicies(), "data", "pipeguard-etl-allow");
  np["spec"]["egress"] = Json::array({Json::object()});
  cache_.Put(res::NetworkPolicies(), np);
  reconciler_->UseCache(&cache_);
  const int gets = KubeCalls(kube::Verb::kGet), writes = KubeWrites();

  ASSERT_TRUE(reconciler_->Reconcile("data", "etl").ok());
  EXPECT_EQ(KubeCalls(kube::Verb::kGet) - gets, 2) << "exactly the two objects that looked different, read live";
  EXPECT_EQ(KubeWrites(), writes) << "the API server's objects match: nothing to write";
}

TEST_F(CachedReconcileTest, RealDriftIsRevertedThroughTheLiveObject) {
  Json np = *kube_.Get(res::NetworkPolicies(), "data", "pipeguard-etl-allow");
  np["spec"]["egress"] = Json::array({Json::object()});
  ASSERT_TRUE(kube_.Update(res::NetworkPolicies(), "data", np).ok());
  SnapshotIntoCache();  // the informer has seen the tampering (its event is what enqueues the profile)
  reconciler_->UseCache(&cache_);
  const int updates = KubeCalls(kube::Verb::kUpdate);

  ASSERT_TRUE(reconciler_->Reconcile("data", "etl").ok());
  EXPECT_EQ(KubeCalls(kube::Verb::kUpdate) - updates, 1);
  auto fixed = kube_.Get(res::NetworkPolicies(), "data", "pipeguard-etl-allow");
  ASSERT_TRUE(fixed.ok());
  EXPECT_NE((*fixed)["spec"]["egress"], Json::array({Json::object()}));
  EXPECT_EQ((*fixed)["metadata"]["uid"], np["metadata"]["uid"]);
}

TEST_F(CachedReconcileTest, ProfileNotConvergedInTheCacheIsReadLive) {
  SnapshotIntoCache();
  Json stale = *kube_.Get(res::PipelineSecurityProfiles(), "data", "etl");
  stale.erase("status");  // as cached before the operator's first status write arrived
  cache_.Put(res::PipelineSecurityProfiles(), stale);
  reconciler_->UseCache(&cache_);
  const int gets = KubeCalls(kube::Verb::kGet), writes = KubeWrites();

  ASSERT_TRUE(reconciler_->Reconcile("data", "etl").ok());
  EXPECT_EQ(KubeCalls(kube::Verb::kGet) - gets, 1) << "the profile, read live; its owned objects from the cache";
  EXPECT_EQ(KubeWrites(), writes) << "the live status already matches";
}

TEST_F(CachedReconcileTest, StaleCachedStatusIsDiffedAgainstTheLiveStatusBeforeWriting) {
  SnapshotIntoCache();
  Json stale = *kube_.Get(res::PipelineSecurityProfiles(), "data", "etl");
  stale["status"]["roleArn"] = "arn:aws:iam::123456789012:role/old";  // converged, but an outdated status field
  cache_.Put(res::PipelineSecurityProfiles(), stale);
  reconciler_->UseCache(&cache_);
  const int gets = KubeCalls(kube::Verb::kGet), patches = KubeCalls(kube::Verb::kPatch);

  ASSERT_TRUE(reconciler_->Reconcile("data", "etl").ok());
  EXPECT_EQ(KubeCalls(kube::Verb::kGet) - gets, 1);
  EXPECT_EQ(KubeCalls(kube::Verb::kPatch), patches);
}

TEST_F(CachedReconcileTest, DeletedProfileMissingFromTheCacheIsConfirmedAndDone) {
  reconciler_->UseCache(&cache_);  // holds nothing: every lookup is a miss
  const int gets = KubeCalls(kube::Verb::kGet), get_roles = iam_.Calls("GetRole");
  auto r = reconciler_->Reconcile("data", "gone");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->action, ReconcileResult::Action::kDone);
  EXPECT_EQ(KubeCalls(kube::Verb::kGet) - gets, 1) << "the miss is confirmed with the API server";
  EXPECT_EQ(iam_.Calls("GetRole"), get_roles);
}

// Records what the controller offers.
class CacheRecordingReconciler final : public Reconciler {
 public:
  StatusOr<ReconcileResult> Reconcile(const std::string&, const std::string&) override {
    return ReconcileResult::Done();
  }
  void UseCache(const controller::ObjectCache* cache) override { cache_ = cache; }
  const controller::ObjectCache* cache_ = nullptr;
};

TEST(ControllerCacheTest, OffersItsInformersUntilStopped) {
  kube::FakeKubeClient kube;
  Json profile = ProfileObject();
  ASSERT_TRUE(kube.Create(res::PipelineSecurityProfiles(), "data", profile).ok());
  ASSERT_TRUE(kube.Create(res::Services(), "streaming", Service("streaming", "kafka")).ok());
  CacheRecordingReconciler reconciler;
  ProfileController controller(kube, reconciler, {.workers = 1, .owned_label_selector = ""});
  ASSERT_NE(reconciler.cache_, nullptr);
  controller.Start();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!controller.Ready() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(controller.Ready());
  auto cached = reconciler.cache_->Lookup(res::PipelineSecurityProfiles(), "data", "etl");
  ASSERT_TRUE(cached.has_value());
  ASSERT_NE(*cached, nullptr);
  EXPECT_EQ((**cached)["spec"]["serviceAccount"]["name"], "etl-sa");
  EXPECT_TRUE(reconciler.cache_->Lookup(res::ServiceAccounts(), "data", "etl-sa").has_value());
  EXPECT_TRUE(reconciler.cache_->Lookup(res::Services(), "streaming", "kafka").has_value());
  controller.Stop();
  EXPECT_EQ(reconciler.cache_, nullptr);
}

TEST(ProfilesNamingServiceTest, MatchesNameAndNamespaceDefaultingToTheProfiles) {
  auto profile = [](const std::string& ns, const std::string& name, Json egress) {
    Json p = ProfileObject();
    p["metadata"]["namespace"] = ns;
    p["metadata"]["name"] = name;
    p["spec"]["network"]["egress"] = std::move(egress);
    return std::make_shared<const Json>(std::move(p));
  };
  const std::vector<kube::ObjectPtr> profiles = {
      profile("data", "same-ns", Json::parse(R"([{"service": {"name": "kafka"}, "ports": [{"port": 9096}]}])")),
      profile("etl", "other-ns", Json::parse(R"([{"service": {"name": "kafka", "namespace": "data"}}])")),
      profile("etl", "wrong-ns", Json::parse(R"([{"service": {"name": "kafka"}}])")),
      profile("data", "cidr-only", Json::parse(R"([{"cidr": "10.0.0.0/8"}])")),
      profile("data", "malformed", Json::parse(R"("not a list")")),
  };
  EXPECT_EQ(ProfilesNamingService(profiles, Service("data", "kafka")),
            (std::vector<std::string>{"data/same-ns", "etl/other-ns"}));
  EXPECT_TRUE(ProfilesNamingService(profiles, Service("data", "postgres")).empty());
  EXPECT_TRUE(ProfilesNamingService(profiles, Json("garbage")).empty());
}

// Egress to a Service: a converged profile resolves it from the cache (zero GETs), and a Service change seen by
// the controller's informer re-reconciles the profile, which rewrites the NetworkPolicy to the new ports.
TEST(ControllerServiceCacheTest, ServiceChangesReReconcileProfilesThatNameThem) {
  kube::FakeKubeClient kube;
  testing::FakeIam iam;
  const kube::Clock& clock = kube::SystemClock();  // the controller's queue and informers run in real time
  ASSERT_TRUE(kube.Create(res::Services(), "streaming", Service("streaming", "kafka")).ok());
  Json profile = ProfileObject();
  profile["spec"]["network"]["egress"] =
      Json::parse(R"([{"service": {"name": "kafka", "namespace": "streaming"}, "ports": [{"port": 9096}]}])");
  ASSERT_TRUE(kube.Create(res::PipelineSecurityProfiles(), "data", profile).ok());
  ProfileReconcilerOptions o;
  o.config = TestConfig();
  o.audit = [](const Json&) {};
  ProfileReconciler reconciler(kube, iam, o, clock);
  ProfileController controller(kube, reconciler, {.workers = 1, .owned_label_selector = ""}, clock);
  controller.Start();
  auto allow_ports = [&] {
    auto np = kube.Get(res::NetworkPolicies(), "data", "pipeguard-etl-allow");
    return np.ok() ? (*np)["spec"]["egress"].dump() : std::string();
  };
  auto eventually = [](auto pred) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!pred() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
    return pred();
  };
  ASSERT_TRUE(eventually([&] { return allow_ports().find("9096") != std::string::npos; })) << allow_ports();

  // The Service moves its pods (selector) and port: the profile is re-reconciled without a resync.
  Json moved = *kube.Get(res::Services(), "streaming", "kafka");
  moved["spec"]["selector"] = {{"app", "kafka-v2"}};
  ASSERT_TRUE(kube.Update(res::Services(), "streaming", moved).ok());
  EXPECT_TRUE(eventually([&] { return allow_ports().find("kafka-v2") != std::string::npos; })) << allow_ports();
  controller.Stop();
}

TEST(CountingKubeClientTest, CountsEveryRequestByVerbAndResource) {
  kube::FakeKubeClient fake;
  OperatorMetrics metrics;
  CountingKubeClient kube(fake, metrics);
  Json sa = {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", "a"}, {"namespace", "data"}}}};
  ASSERT_TRUE(kube.Create(res::ServiceAccounts(), "data", sa).ok());
  ASSERT_TRUE(kube.Get(res::ServiceAccounts(), "data", "a").ok());
  EXPECT_FALSE(kube.Get(res::ServiceAccounts(), "data", "missing").ok());
  ASSERT_TRUE(kube.ListAll(res::ServiceAccounts(), "data", {}).ok());
  ASSERT_TRUE(kube.Delete(res::ServiceAccounts(), "data", "a").ok());
  EXPECT_EQ(metrics.KubeRequestCount("create", "serviceaccounts"), 1);
  EXPECT_EQ(metrics.KubeRequestCount("get", "serviceaccounts"), 2) << "failed calls count too";
  EXPECT_EQ(metrics.KubeRequestCount("list", "serviceaccounts"), 1);
  EXPECT_EQ(metrics.KubeRequestCount("delete", "serviceaccounts"), 1);
  EXPECT_EQ(metrics.KubeRequestCount("get", "networkpolicies"), 0);
  EXPECT_EQ(fake.Calls(kube::Verb::kGet), 2) << "forwarded";
  EXPECT_THAT(
      metrics.Serialize(),
      ::testing::HasSubstr(R"(pipeguard_operator_kube_requests_total{resource="serviceaccounts",verb="get"} 2)"));
}

}  // namespace
}  // namespace pipeguard::reconcilers
