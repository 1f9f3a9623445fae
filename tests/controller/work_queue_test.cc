// WorkQueue: dedup, processing exclusivity, delays on an injected clock, per-item backoff.
#include "pipeguard/controller/work_queue.h"

#include <gtest/gtest.h>

#include <thread>

#include "pipeguard/kube/clock.h"

namespace pipeguard::controller {
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

}  // namespace
}  // namespace pipeguard::controller
