// Controller: one generic, level-based control loop (controller-runtime's controller). Every loop of the operator
// runs on it: the PipelineSecurityProfile reconciler and the webhook guard (and any later one, e.g. a background
// audit). A loop brings three things:
//   - watches: the resources it reads, each an informer plus a function that maps an object seen there (added,
//     updated, deleted or resynced) to the keys to reconcile;
//   - Reconcile(key): level-based and idempotent; reads through cache() (ReadForDiff / ConfirmLive, object_cache.h)
//     so that steady state reads informer caches only and every write is decided on the live object;
//   - Options: workers, resync, leadership, backoff, metrics.
//
// Keys: a key is queued at most once and never reconciled twice at once (WorkQueue). Results: Done -> Forget;
// RequeueAfter -> Forget + AddAfter; Requeue or an error (or an exception) -> AddRateLimited (per-key exponential
// backoff).
// Resync: every resync_period each object of a `primary` watch is offered to its key function again.
// Leadership: informers run on every replica (warm caches); workers reconcile only while this replica leads.
//   - Options::leader_election set: this controller runs the Lease elector (the config's own callbacks still fire,
//     so other loops can follow it through SetLeader);
//   - Options::follow_leadership: no elector; starts as a follower, SetLeader() drives it;
//   - neither: always leads.
// On becoming leader every object of every primary watch is enqueued, and so are the standing keys.
// Caches: cache() is valid from construction until Stop(). Informers' objects carry no metadata.managedFields
// unless a watch sets its own transform.
// Lifecycle: Start() once; Stop() (idempotent, destructor too) stops leader election (releasing the lease), shuts
// the queue down, waits for in-flight reconciles and stops informers. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/controller/object_cache.h"
#include "pipeguard/controller/work_queue.h"
#include "pipeguard/kube/client.h"
#include "pipeguard/kube/clock.h"
#include "pipeguard/kube/informer.h"
#include "pipeguard/kube/leader_election.h"

namespace pipeguard::controller {

// What the controller does with a key after Reconcile.
struct Result {
  enum class Action {
    kDone,          // converged (or nothing to do); forget the key's backoff
    kRequeueAfter,  // come back after `after` (forget the backoff)
    kRequeue,       // come back after the key's exponential backoff (transient: throttling, conflicts)
  };
  Action action = Action::kDone;
  std::chrono::milliseconds after{0};
  std::string reason;  // for logs: why a requeue

  static Result Done() { return {}; }
  static Result RequeueAfter(std::chrono::milliseconds d, std::string why = {}) {
    return {Action::kRequeueAfter, d, std::move(why)};
  }
  static Result Requeue(std::string why) { return {Action::kRequeue, {}, std::move(why)}; }
};

// An object seen by a watch -> the keys to reconcile ({} = none). `cache` is the controller's, e.g. to find every
// primary object that depends on this one. Runs on the informer's thread; must not block on the network.
using KeysFor = std::function<std::vector<std::string>(const kube::ObjectPtr& object, const InformerCache& cache)>;

// The object's own key, kube::ObjectKey ("namespace/name", or "name" when cluster-scoped).
KeysFor ObjectKeys();
// The key of the object's controller owner (its ownerReference with controller: true) of `kind` in API group
// `group`, in the object's namespace; none when it has no such owner.
KeysFor ControllerOwnerKeys(std::string group, std::string kind);
// Always `key`, whatever the object (for a loop that reconciles one thing from several sources).
KeysFor ConstantKey(std::string key);
// No key: a watch that only feeds cache() (objects the loop reads but whose changes need no reconcile).
KeysFor NoKeys();

struct Watch {
  kube::InformerOptions informer;  // resource, namespace, selectors; transform defaults to StripManagedFields
  KeysFor keys;
  // The reconciled resource itself: every cached object is offered again every resync_period and when this
  // replica starts leading.
  bool primary = false;
  // Optional: whether an update can matter to the loop (e.g. not a Pod's status update); empty: every update is
  // offered. Runs on the informer's thread; must be cheap.
  std::function<bool(const kube::Json& older, const kube::Json& newer)> update_matters;
};

// Observes the loop (e.g. Prometheus). Thread-safe; must outlive the controller.
class Metrics {
 public:
  virtual ~Metrics() = default;
  // outcome: "success", "requeue" or "error"; seconds: the time Reconcile took.
  virtual void RecordReconcile(std::string_view outcome, double seconds) = 0;
  virtual void SetLeader(bool leader) = 0;
};

struct Options {
  std::string name = "controller";  // in log lines
  int workers = 2;
  std::chrono::milliseconds resync_period{0};  // 0: no periodic resync of primary watches
  std::optional<kube::LeaderElectionConfig> leader_election;
  bool follow_leadership = false;  // see the header comment; ignored with leader_election
  // Reconciled without any event: enqueued whenever this replica starts leading (at once when it always leads).
  std::vector<std::string> standing_keys;
  RateLimiterOptions rate_limiter;
  Metrics* metrics = nullptr;  // optional
};

using ReconcileFunc = std::function<StatusOr<Result>(const std::string& key)>;

class Controller {
 public:
  // `client` and `clock` must outlive the controller; `reconcile` is called from the workers (several at once for
  // different keys).
  Controller(kube::KubeClient& client, std::vector<Watch> watches, ReconcileFunc reconcile, Options options,
             const kube::Clock& clock = kube::SystemClock());
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  void Start();
  void Stop();

  // True once every informer has synced (for /readyz).
  bool Ready() const;
  bool IsLeader() const { return leader_.load(); }
  // Leadership from outside (follow_leadership): becoming leader enqueues the primary objects and standing keys.
  void SetLeader(bool leader);
  const InformerCache& cache() const { return cache_; }
  WorkQueue& queue() { return queue_; }

  // Takes one ready key (without blocking) and reconciles it. Returns false when no key was ready. For tests
  // driving the controller without worker threads; honours leadership like the workers.
  bool ProcessNextItem();

 private:
  void Worker(std::stop_token stop);
  void Handle(const std::string& key);
  void Offer(const Watch& watch, const kube::ObjectPtr& object);
  void EnqueueEverything();

  kube::KubeClient& client_;
  const std::vector<Watch> watches_;
  const ReconcileFunc reconcile_;
  const Options options_;
  const kube::Clock& clock_;
  WorkQueue queue_;
  std::atomic<bool> leader_{false};
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
  std::vector<std::unique_ptr<kube::Informer>> informers_;  // one per watch, in order
  InformerCache cache_;                                     // over informers_
  std::unique_ptr<kube::LeaderElector> elector_;
  std::vector<std::jthread> workers_;
};

}  // namespace pipeguard::controller
