// Informer: LIST + WATCH of one resource kept in an in-memory store, with event handlers.
//
// Lifecycle: construct, Start() (spawns the informer's thread; once), Stop() (idempotent; joins; also run by the
// destructor). The loop: a paginated LIST replaces the store (emitting add/update/delete for the difference), then
// a WATCH from the list's resourceVersion applies events and tracks the last resourceVersion (bookmarks included).
// When a watch ends or drops, it resumes from the last resourceVersion; on 410 Gone (too old) it relists. Errors
// back off exponentially with jitter (reset after a successful list or watch event).
//
// Thread-safety: Get/List/HasSynced/LastResourceVersion are thread-safe and never block on the network. Handlers
// run on the informer's thread (and the resync thread), never concurrently with each other and never under the
// store lock, so they may call Get/List. Handlers must not call Stop() (it would wait for itself).
// Objects are shared as std::shared_ptr<const Json> and never modified after they are stored.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "pipeguard/kube/client.h"

namespace pipeguard::kube {

using ObjectPtr = std::shared_ptr<const Json>;

// Exponential backoff with full jitter in [d/2, d]; not thread-safe. Deterministic given the seed.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, uint64_t seed = std::random_device{}());
  // The next delay: initial, 2*initial, ... capped at max, each jittered.
  std::chrono::milliseconds Next();
  void Reset() { attempt_ = 0; }
  int attempt() const { return attempt_; }

 private:
  std::chrono::milliseconds initial_, max_;
  int attempt_ = 0;
  std::mt19937_64 rng_;
};

struct InformerHandlers {
  std::function<void(const ObjectPtr& object)> on_add;
  std::function<void(const ObjectPtr& old_object, const ObjectPtr& new_object)> on_update;
  // For a delete seen only through a relist, `object` is the last state the informer knew.
  std::function<void(const ObjectPtr& object)> on_delete;
  // Every resync_period: called once per stored object (like client-go's resync, which re-delivers updates).
  std::function<void(const ObjectPtr& object)> on_resync;
  // After every successful LIST (the first one makes HasSynced() true).
  std::function<void()> on_synced;
};

struct InformerOptions {
  Resource resource;
  std::string namespace_;  // "" = all namespaces (or cluster-scoped)
  std::string label_selector;
  std::string field_selector;
  int64_t page_size = 500;
  int watch_timeout_seconds = 300;
  std::chrono::milliseconds resync_period{0};  // 0 = no periodic resync
  std::chrono::milliseconds backoff_initial{200};
  std::chrono::milliseconds backoff_max{30'000};
  uint64_t seed = 0;  // 0: random jitter seed
  // Applied to every listed or watched object before it is stored and handed to handlers (client-go's
  // SetTransform), e.g. StripManagedFields to keep the cache small. Runs on the informer's thread; empty = none.
  std::function<void(Json& object)> transform;
};

// Removes metadata.managedFields (server-side apply bookkeeping, often the largest part of a small object): a
// transform for informers whose readers never need it.
void StripManagedFields(Json& object);

// Counters for observability and tests.
struct InformerStats {
  uint64_t lists = 0;    // successful LISTs
  uint64_t watches = 0;  // WATCH requests started
  uint64_t gone = 0;     // 410s that forced a relist
  uint64_t errors = 0;   // failed LIST/WATCH attempts
  uint64_t events = 0;   // watch events applied (bookmarks excluded)
};

class Informer {
 public:
  // `client` must outlive the informer.
  Informer(KubeClient& client, InformerOptions options, InformerHandlers handlers = {});
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  void Start();
  void Stop();

  // True once the first LIST has been stored (stays true across relists).
  bool HasSynced() const { return synced_.load(); }
  // Waits (real time) until synced or `timeout`; returns HasSynced().
  bool WaitForSync(std::chrono::milliseconds timeout) const;

  // Store reads. Keys are ObjectKey(): "ns/name" or "name".
  ObjectPtr Get(const std::string& key) const;
  std::vector<ObjectPtr> List() const;  // in key order
  size_t Size() const;
  std::string LastResourceVersion() const;
  InformerStats Stats() const;
  const InformerOptions& options() const { return options_; }

 private:
  struct Notification;
  void Run(std::stop_token stop);
  void RunResync(std::stop_token stop);
  Status ListAndReplace(std::stop_token stop);
  // Watches once; sets *gone when the server said 410.
  Status WatchOnce(std::stop_token stop, bool* gone);
  void Dispatch(std::vector<Notification>& notifications);
  // Sleeps up to `d`, waking early on stop. Returns false when stopped.
  bool SleepFor(std::chrono::milliseconds d, const std::stop_token& stop);

  KubeClient& client_;
  const InformerOptions options_;
  const InformerHandlers handlers_;

  mutable std::mutex mu_;  // guards store_, resource_version_, stats_
  mutable std::condition_variable synced_cv_;
  std::map<std::string, ObjectPtr> store_;
  std::string resource_version_;
  InformerStats stats_;
  std::atomic<bool> synced_{false};

  std::mutex dispatch_mu_;  // serialises handler calls

  std::mutex sleep_mu_;
  std::condition_variable_any sleep_cv_;
  std::mutex lifecycle_mu_;
  std::jthread thread_;
  std::jthread resync_thread_;
};

}  // namespace pipeguard::kube
