// WorkQueue (dedup, processing exclusivity, delays on an injected clock, per-item backoff) and the controller's
// owner mapping and event-driven reconciles against FakeKubeClient.
#include "pipeguard/operator/work_queue.h"

#include <gtest/gtest.h>

#include <thread>

#include "pipeguard/kube/fake_client.h"
#include "pipeguard/operator/controller.h"

namespace pipeguard::reconcilers {
namespace {

using namespace std::chrono_literals;

TEST(WorkQueue, DeduplicatesQueuedKeys) {
  kube::FakeClock clock;
  WorkQueue q(clock);
  q.Add("a/x");
  q.Add("a/x");
  q.Add("a/y");
  EXPECT_EQ(q.Len(), 2u);
  EXPECT_EQ(q.TryGet(), "a/x");
  EXPECT_EQ(q.TryGet(), "a/y");
  EXPECT_EQ(q.TryGet(), std::nullopt);
}

TEST(WorkQueue, KeyAddedWhileProcessingIsRequeuedOnDone) {
  kube::FakeClock clock;
  WorkQueue q(clock);
  q.Add("k");
  auto k = q.TryGet();
  ASSERT_EQ(k, "k");
  q.Add("k");
  EXPECT_EQ(q.TryGet(), std::nullopt) << "never handed out twice at once";
  q.Done("k");
  EXPECT_EQ(q.TryGet(), "k");
}

TEST(WorkQueue, AddAfterWaitsForTheClock) {
  kube::FakeClock clock;
  WorkQueue q(clock);
  q.AddAfter("k", 10s);
  EXPECT_EQ(q.TryGet(), std::nullopt);
  clock.Advance(9s);
  EXPECT_EQ(q.TryGet(), std::nullopt);
  clock.Advance(1s);
  EXPECT_EQ(q.TryGet(), "k");
}

TEST(WorkQueue, EarlierAddAfterWins) {
  kube::FakeClock clock;
  WorkQueue q(clock);
  q.AddAfter("k", 60s);
  q.AddAfter("k", 5s);
  EXPECT_EQ(q.DelayedLen(), 1u);
  clock.Advance(5s);
  EXPECT_EQ(q.TryGet(), "k");
}

TEST(WorkQueue, RateLimitedBackoffGrowsWithJitterAndForgetResets) {
  kube::FakeClock clock;
  WorkQueue q(clock, {.base_delay = 100ms, .max_delay = 1000ms, .jitter = 0.2, .seed = 7});
  std::vector<std::chrono::milliseconds> delays;
  for (int i = 0; i < 6; ++i) delays.push_back(q.AddRateLimited("k"));
  EXPECT_GE(delays[0], 100ms);
  EXPECT_LE(delays[0], 120ms);
  EXPECT_GE(delays[1], 200ms);
  EXPECT_LE(delays[1], 240ms);
  EXPECT_GE(delays[2], 400ms);
  EXPECT_EQ(delays[5], 1000ms) << "capped";
  EXPECT_EQ(q.NumRequeues("k"), 6);
  q.Forget("k");
  EXPECT_EQ(q.NumRequeues("k"), 0);
  EXPECT_LE(q.AddRateLimited("k"), 120ms);
}

TEST(WorkQueue, ShutDownWakesGet) {
  kube::FakeClock clock;
  WorkQueue q(clock);
  std::optional<std::string> got = "unset";
  std::thread t([&] { got = q.Get(); });
  q.ShutDown();
  t.join();
  EXPECT_EQ(got, std::nullopt);
}

TEST(OwnerProfileKey, FollowsTheControllerOwnerReference) {
  nlohmann::json np = {{"metadata",
                        {{"namespace", "data"},
                         {"ownerReferences",
                          {{{"apiVersion", "pipeguard.io/v1alpha1"},
                            {"kind", "PipelineSecurityProfile"},
                            {"name", "etl"},
                            {"controller", true}}}}}}};
  EXPECT_EQ(OwnerProfileKey(np), "data/etl");
  np["metadata"]["ownerReferences"][0]["kind"] = "Deployment";
  EXPECT_EQ(OwnerProfileKey(np), "");
  EXPECT_EQ(OwnerProfileKey(nlohmann::json::object()), "");
}

class RecordingReconciler final : public Reconciler {
 public:
  StatusOr<ReconcileResult> Reconcile(const std::string& ns, const std::string& name) override {
    std::lock_guard lock(mu_);
    keys_.push_back(ns + "/" + name);
    if (fail_first_ && keys_.size() == 1) return Status::Unavailable("transient");
    return ReconcileResult::Done();
  }
  std::vector<std::string> Keys() {
    std::lock_guard lock(mu_);
    return keys_;
  }
  bool fail_first_ = false;

 private:
  std::mutex mu_;
  std::vector<std::string> keys_;
};

template <typename Pred>
bool Eventually(Pred pred) {
  for (int i = 0; i < 500 && !pred(); ++i) std::this_thread::sleep_for(10ms);
  return pred();
}

TEST(Controller, ProfileAndOwnedObjectEventsReconcileTheOwner) {
  kube::FakeKubeClient kube;
  RecordingReconciler reconciler;
  OperatorMetrics metrics;
  Controller controller(kube, reconciler, {.workers = 2, .owned_label_selector = "", .metrics = &metrics});
  controller.Start();
  ASSERT_TRUE(Eventually([&] { return controller.Ready(); }));
  EXPECT_TRUE(controller.IsLeader());
  EXPECT_EQ(metrics.LeaderValue(), 1);
  ASSERT_TRUE(kube.Create(kube::resources::PipelineSecurityProfiles(), "data",
                          {{"apiVersion", "pipeguard.io/v1alpha1"},
                           {"kind", "PipelineSecurityProfile"},
                           {"metadata", {{"name", "etl"}}}})
                  .ok());
  ASSERT_TRUE(Eventually([&] { return reconciler.Keys().size() == 1; }));
  ASSERT_TRUE(kube.Create(kube::resources::NetworkPolicies(), "data",
                          {{"apiVersion", "networking.k8s.io/v1"},
                           {"kind", "NetworkPolicy"},
                           {"metadata",
                            {{"name", "pipeguard-etl-deny"},
                             {"ownerReferences",
                              {{{"apiVersion", "pipeguard.io/v1alpha1"},
                                {"kind", "PipelineSecurityProfile"},
                                {"name", "etl"},
                                {"uid", "u"},
                                {"controller", true}}}}}},
                           {"spec", nlohmann::json::object()}})
                  .ok());
  ASSERT_TRUE(Eventually([&] { return reconciler.Keys().size() == 2; }));
  EXPECT_EQ(reconciler.Keys()[1], "data/etl");
  controller.Stop();
  EXPECT_EQ(metrics.ReconcileCount("success"), 2);
}

TEST(Controller, ErrorsAreRetriedWithBackoff) {
  kube::FakeKubeClient kube;
  RecordingReconciler reconciler;
  reconciler.fail_first_ = true;
  OperatorMetrics metrics;
  Controller controller(
      kube, reconciler,
      {.workers = 1, .owned_label_selector = "", .rate_limiter = {.base_delay = 1ms}, .metrics = &metrics});
  ASSERT_TRUE(kube.Create(kube::resources::PipelineSecurityProfiles(), "data",
                          {{"apiVersion", "pipeguard.io/v1alpha1"},
                           {"kind", "PipelineSecurityProfile"},
                           {"metadata", {{"name", "etl"}}}})
                  .ok());
  controller.Start();
  ASSERT_TRUE(Eventually([&] { return reconciler.Keys().size() >= 2; }));
  controller.Stop();
  EXPECT_EQ(metrics.ReconcileCount("error"), 1);
  EXPECT_GE(metrics.ReconcileCount("success"), 1);
}

TEST(Controller, OnlyTheLeaderReconciles) {
  kube::FakeKubeClient kube;
  RecordingReconciler a_reconciler, b_reconciler;
  ASSERT_TRUE(kube.Create(kube::resources::PipelineSecurityProfiles(), "data",
                          {{"apiVersion", "pipeguard.io/v1alpha1"},
                           {"kind", "PipelineSecurityProfile"},
                           {"metadata", {{"name", "etl"}}}})
                  .ok());
  auto le = [](const std::string& id) {
    kube::LeaderElectionConfig c;
    c.lease_namespace = "pipeguard-system";
    c.lease_name = "pipeguard-operator";
    c.identity = id;
    c.lease_duration = std::chrono::seconds(15);
    c.renew_deadline = 10s;
    c.retry_period = 50ms;
    return c;
  };
  Controller a(kube, a_reconciler, {.owned_label_selector = "", .leader_election = le("a")});
  a.Start();
  ASSERT_TRUE(Eventually([&] { return a.IsLeader(); }));
  Controller b(kube, b_reconciler, {.owned_label_selector = "", .leader_election = le("b")});
  b.Start();
  ASSERT_TRUE(Eventually([&] { return !a_reconciler.Keys().empty() && b.Ready(); }));
  std::this_thread::sleep_for(200ms);  // b runs several election rounds
  EXPECT_FALSE(b.IsLeader());
  EXPECT_TRUE(b_reconciler.Keys().empty());
  a.Stop();  // releases the lease: b takes over and reconciles every cached profile
  ASSERT_TRUE(Eventually([&] { return b.IsLeader() && !b_reconciler.Keys().empty(); }));
  b.Stop();
}

}  // namespace
}  // namespace pipeguard::reconcilers
