// ProfileController: profile and owned-object events reconcile the owner, errors retry with backoff, only the
// leader reconciles (the generic loop underneath, against FakeKubeClient).
#include "pipeguard/reconcilers/profile_controller.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "pipeguard/kube/fake_client.h"

namespace pipeguard::reconcilers {
namespace {

using namespace std::chrono_literals;

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

TEST(ProfileController, ProfileAndOwnedObjectEventsReconcileTheOwner) {
  kube::FakeKubeClient kube;
  RecordingReconciler reconciler;
  OperatorMetrics metrics;
  ProfileController controller(kube, reconciler, {.workers = 2, .owned_label_selector = "", .metrics = &metrics});
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

TEST(ProfileController, ErrorsAreRetriedWithBackoff) {
  kube::FakeKubeClient kube;
  RecordingReconciler reconciler;
  reconciler.fail_first_ = true;
  OperatorMetrics metrics;
  ProfileController controller(
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

TEST(ProfileController, OnlyTheLeaderReconciles) {
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
  ProfileController a(kube, a_reconciler, {.owned_label_selector = "", .leader_election = le("a")});
  a.Start();
  ASSERT_TRUE(Eventually([&] { return a.IsLeader(); }));
  ProfileController b(kube, b_reconciler, {.owned_label_selector = "", .leader_election = le("b")});
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
