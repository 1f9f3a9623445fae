// Controller: the shared machinery around a Reconciler (controller-runtime's controller): informers that enqueue
// keys, a WorkQueue with per-item backoff, N workers, periodic resync, and leader-election gating.
//
// Event sources:
//   - PipelineSecurityProfiles: add/update/delete/resync enqueue "namespace/name".
//   - ServiceAccounts and NetworkPolicies (owned objects, filtered by `owned_label_selector`): each event enqueues
//     the owner profile, found through the controller ownerReference of kind PipelineSecurityProfile (group
//     pipeguard.io). Objects without such a reference are ignored.
// Leadership: with a LeaderElectionConfig, informers run on every replica (warm caches) but workers reconcile only
// while this replica leads; on becoming leader every cached profile is enqueued. Without one, this replica always
// leads.
// Results: Done -> Forget; RequeueAfter -> Forget + AddAfter; Requeue or an error -> AddRateLimited.
//   - Services: each event enqueues the profiles whose spec.network.egress names that Service.
// Caches: the profile, ServiceAccount, NetworkPolicy and Service informers are offered to the reconciler as an
// ObjectCache (Reconciler::UseCache) from construction until Stop(), so steady-state reconciles read them instead of
// the API. Cached objects carry no metadata.managedFields (kube::StripManagedFields). Lifecycle: Start() once; Stop()
// (idempotent, destructor too) stops leader election (releasing the lease), shuts the queue down, waits for in-flight
// reconciles and stops informers. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "pipeguard/kube/client.h"
#include "pipeguard/kube/clock.h"
#include "pipeguard/kube/informer.h"
#include "pipeguard/kube/leader_election.h"
#include "pipeguard/operator/metrics.h"
#include "pipeguard/operator/reconciler.h"
#include "pipeguard/operator/work_queue.h"

namespace pipeguard::reconcilers {

struct ControllerOptions {
  int workers = 2;
  std::chrono::milliseconds resync_period{600'000};  // every profile is reconciled at least this often (IAM drift)
  std::string namespace_;                            // "" = all namespaces
  // Label selector for the owned-object informers ("" = all objects; FakeKubeClient supports no selectors).
  std::string owned_label_selector = "app.kubernetes.io/managed-by=pipeguard";
  std::optional<kube::LeaderElectionConfig> leader_election;
  RateLimiterOptions rate_limiter;
  OperatorMetrics* metrics = nullptr;  // optional; must outlive the controller
};

// The reconcile key of the profile that owns `object` (via its controller ownerReference), or "" when none.
std::string OwnerProfileKey(const nlohmann::json& object);
// The keys ("namespace/name") of the profiles whose spec.network.egress names `service` (a rule's service.namespace
// defaults to the profile's namespace). Malformed profiles and Services yield no keys.
std::vector<std::string> ProfilesNamingService(const std::vector<kube::ObjectPtr>& profiles,
                                               const nlohmann::json& service);

class Controller {
 public:
  // `client`, `reconciler` and `clock` must outlive the controller.
  Controller(kube::KubeClient& client, Reconciler& reconciler, ControllerOptions options,
             const kube::Clock& clock = kube::SystemClock());
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  void Start();
  void Stop();

  // True once every informer has synced (for /readyz).
  bool Ready() const;
  bool IsLeader() const { return leader_.load(); }
  WorkQueue& queue() { return queue_; }

  // Takes one ready key (without blocking) and reconciles it. Returns false when no key was ready. For tests
  // driving the controller without worker threads; honours leadership like the workers.
  bool ProcessNextItem();

 private:
  void Worker(std::stop_token stop);
  void Handle(const std::string& key);
  void EnqueueAllProfiles();
  void SetLeader(bool leader);

  kube::KubeClient& client_;
  Reconciler& reconciler_;
  const ControllerOptions options_;
  const kube::Clock& clock_;
  WorkQueue queue_;
  std::atomic<bool> leader_{false};
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
  std::unique_ptr<kube::Informer> profiles_;
  std::vector<std::unique_ptr<kube::Informer>> owned_;
  std::unique_ptr<kube::Informer> services_;  // Services named by egress rules (unfiltered: they are not ours)
  InformerCache cache_;                       // over profiles_, owned_ and services_
  std::unique_ptr<kube::LeaderElector> elector_;
  std::vector<std::jthread> workers_;
};

}  // namespace pipeguard::reconcilers
