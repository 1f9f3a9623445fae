// WorkQueue: the controller's queue of reconcile keys (e.g. "namespace/name"), modelled on client-go's
// RateLimitingQueue.
//
// Guarantees:
//   - Dedup: a key is queued at most once; adding a queued key is a no-op.
//   - No concurrent processing of one key: a key added while a worker processes it is queued again only when that
//     worker calls Done(key).
//   - Delayed adds (AddAfter) become ready when the injected clock reaches their time; an earlier AddAfter of the same
//     key wins.
//   - AddRateLimited delays a key by its per-item exponential backoff: base * 2^failures, capped at max, with up to
//     `jitter` (a fraction) added; Forget(key) resets the failure count (call it after a successful reconcile).
// Time comes from the injected kube::Clock. Get() blocks in real time but re-checks the clock at least every
// `poll_interval`, so a FakeClock advanced by a test is noticed; TryGet() never blocks (deterministic tests).
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>

#include "pipeguard/kube/clock.h"

namespace pipeguard::controller {

struct RateLimiterOptions {
  std::chrono::milliseconds base_delay{5};
  std::chrono::milliseconds max_delay{1'000'000};  // 1000 s, client-go's default
  double jitter = 0.2;                             // up to +20% of the delay
  uint64_t seed = 0;                               // 0: random
};

class WorkQueue {
 public:
  explicit WorkQueue(const kube::Clock& clock, RateLimiterOptions options = {},
                     std::chrono::milliseconds poll_interval = std::chrono::milliseconds(50));
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `key` now (no-op after ShutDown).
  void Add(const std::string& key);
  // Queues `key` once `delay` has passed on the clock (<= 0: now).
  void AddAfter(const std::string& key, std::chrono::milliseconds delay);
  // Queues `key` after its backoff and counts one failure. Returns the delay used.
  std::chrono::milliseconds AddRateLimited(const std::string& key);
  // Resets the failure count of `key`.
  void Forget(const std::string& key);
  int NumRequeues(const std::string& key) const;

  // Blocks until a key is ready (returned; the caller must call Done(key)) or ShutDown (nullopt).
  std::optional<std::string> Get();
  // Like Get but returns nullopt at once when nothing is ready.
  std::optional<std::string> TryGet();
  void Done(const std::string& key);

  // Wakes every Get with nullopt; later adds are ignored. Idempotent.
  void ShutDown();
  bool ShuttingDown() const;

  // Keys ready to be handed out now (not counting delayed keys or keys being processed).
  size_t Len() const;
  // Keys waiting for their AddAfter time.
  size_t DelayedLen() const;
  // When the earliest delayed key becomes ready, if any.
  std::optional<std::chrono::system_clock::time_point> NextDelayedAt() const;

 private:
  // Requires mu_. Moves due delayed keys to the ready queue.
  void PromoteDueLocked();
  // Requires mu_.
  void AddLocked(const std::string& key);
  std::optional<std::string> PopLocked();

  const kube::Clock& clock_;
  const RateLimiterOptions options_;
  const std::chrono::milliseconds poll_interval_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<std::chrono::system_clock::time_point, std::string> delayed_;
  std::map<std::string, std::chrono::system_clock::time_point> delayed_at_;
  std::set<std::string> dirty_;                 // queued or to be re-queued after Done
  std::set<std::string> processing_;            // handed out, not yet Done
  std::multimap<uint64_t, std::string> order_;  // FIFO of ready keys (sequence -> key)
  std::set<std::string> ready_;
  uint64_t sequence_ = 0;
  std::map<std::string, int> failures_;
  std::mt19937_64 rng_;
  bool shutting_down_ = false;
};

}  // namespace pipeguard::controller
