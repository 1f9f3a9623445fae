// Leader election driven step by step against the in-memory client with an injected clock (no sleeping).
#include "pipeguard/kube/leader_election.h"

#include <gtest/gtest.h>

#include "pipeguard/kube/errors.h"
#include "pipeguard/kube/fake_client.h"

namespace pipeguard::kube {
namespace {
using std::chrono::seconds;

struct Candidate {
  Candidate(FakeKubeClient& client, const Clock& clock, const std::string& id) {
    LeaderElectionConfig config;
    config.lease_namespace = "pipeguard-system";
    config.lease_name = "operator";
    config.identity = id;
    config.on_started_leading = [this] { ++started; };
    config.on_stopped_leading = [this] { ++stopped; };
    elector = std::make_unique<LeaderElector>(client, config, clock);
  }
  int started = 0, stopped = 0;
  std::unique_ptr<LeaderElector> elector;
};

std::string Holder(FakeKubeClient& client) {
  auto lease = client.Get(resources::Leases(), "pipeguard-system", "operator");
  return lease.ok() ? lease->value("/spec/holderIdentity"_json_pointer, "") : "<none>";
}

TEST(LeaderElectionTest, ValidatesConfig) {
  LeaderElectionConfig c{.lease_namespace = "ns", .lease_name = "l", .identity = "a"};
  EXPECT_TRUE(ValidateLeaderElectionConfig(c).ok());
  c.renew_deadline = std::chrono::milliseconds(20'000);
  EXPECT_FALSE(ValidateLeaderElectionConfig(c).ok());
  c = {.lease_namespace = "ns", .lease_name = "l", .identity = ""};
  EXPECT_FALSE(ValidateLeaderElectionConfig(c).ok());
}

TEST(LeaderElectionTest, ExactlyOneLeaderAndHandoverAfterExpiry) {
  FakeKubeClient client;
  FakeClock clock;
  Candidate a(client, clock, "a"), b(client, clock, "b");

  a.elector->Step();
  b.elector->Step();
  EXPECT_TRUE(a.elector->IsLeader());
  EXPECT_FALSE(b.elector->IsLeader());
  EXPECT_EQ(Holder(client), "a");
  EXPECT_EQ(b.elector->Leader(), "a");

  // a keeps renewing; b never takes over however long it waits.
  for (int i = 0; i < 20; ++i) {
    clock.Advance(seconds(2));
    a.elector->Step();
    b.elector->Step();
    ASSERT_TRUE(a.elector->IsLeader());
    ASSERT_FALSE(b.elector->IsLeader());
  }

  // a stops renewing (hung): b acquires once the lease has not changed for leaseDurationSeconds on b's clock.
  clock.Advance(seconds(14));
  b.elector->Step();
  EXPECT_FALSE(b.elector->IsLeader());
  clock.Advance(seconds(2));
  b.elector->Step();
  EXPECT_TRUE(b.elector->IsLeader());
  EXPECT_EQ(Holder(client), "b");
  auto lease = client.Get(resources::Leases(), "pipeguard-system", "operator");
  EXPECT_EQ(lease->value("/spec/leaseTransitions"_json_pointer, -1), 1);

  // a wakes up, sees b holding the lease and steps down at once.
  a.elector->Step();
  EXPECT_FALSE(a.elector->IsLeader());
  EXPECT_EQ(a.started, 1);
  EXPECT_EQ(a.stopped, 1);
  EXPECT_EQ(b.started, 1);
  EXPECT_EQ(b.stopped, 0);
}

TEST(LeaderElectionTest, ReleaseOnStopHandsOverImmediately) {
  FakeKubeClient client;
  FakeClock clock;
  Candidate a(client, clock, "a"), b(client, clock, "b");
  a.elector->Step();
  b.elector->Step();
  ASSERT_TRUE(a.elector->IsLeader());
  a.elector->Stop();
  EXPECT_FALSE(a.elector->IsLeader());
  EXPECT_EQ(a.stopped, 1);
  EXPECT_EQ(Holder(client), "");
  b.elector->Step();  // no waiting for expiry
  EXPECT_TRUE(b.elector->IsLeader());
}

TEST(LeaderElectionTest, LosesLeadershipWhenRenewalFailsPastTheDeadline) {
  FakeKubeClient client;
  FakeClock clock;
  Candidate a(client, clock, "a");
  a.elector->Step();
  ASSERT_TRUE(a.elector->IsLeader());
  const Status unavailable = MakeApiError(ErrorReason::kUnavailable, 0, "GET lease", "connection refused");
  for (int i = 0; i < 5; ++i) client.FailNext(Verb::kGet, unavailable);
  clock.Advance(seconds(2));
  a.elector->Step();
  EXPECT_TRUE(a.elector->IsLeader());  // within renew_deadline (10 s)
  clock.Advance(seconds(8));
  a.elector->Step();
  EXPECT_FALSE(a.elector->IsLeader());
  EXPECT_EQ(a.stopped, 1);
}

TEST(LeaderElectionTest, ConcurrentUpdateLosesOnResourceVersion) {
  FakeKubeClient client;
  FakeClock clock;
  Candidate a(client, clock, "a");
  a.elector->Step();
  // Someone else rewrites the lease between a's read and write: a's update conflicts and a does not renew.
  auto lease = client.Get(resources::Leases(), "pipeguard-system", "operator");
  Json stale = *lease;
  (*lease)["spec"]["holderIdentity"] = "intruder";
  ASSERT_TRUE(client.Update(resources::Leases(), "pipeguard-system", *lease).ok());
  auto conflict = client.Update(resources::Leases(), "pipeguard-system", stale);
  EXPECT_TRUE(IsConflict(conflict.status()));
  clock.Advance(seconds(2));
  EXPECT_FALSE(a.elector->TryAcquireOrRenew());
  EXPECT_EQ(a.elector->Leader(), "intruder");
}

}  // namespace
}  // namespace pipeguard::kube
