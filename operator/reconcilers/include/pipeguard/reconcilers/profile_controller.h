// ProfileController: the PipelineSecurityProfile reconciler on the generic controller (pipeguard/controller).
//
// Watches:
//   - PipelineSecurityProfiles (primary): add/update/delete/resync enqueue "namespace/name".
//   - ServiceAccounts and NetworkPolicies (owned objects, filtered by `owned_label_selector`): each event enqueues
//     the owner profile, found through the controller ownerReference of kind PipelineSecurityProfile (group
//     pipeguard.io). Objects without such a reference are ignored.
//   - Services: each event enqueues the profiles whose spec.network.egress names that Service.
// The caches of these watches are offered to the reconciler (Reconciler::UseCache) from construction until Stop(),
// so steady-state reconciles read them instead of the API. Leadership, backoff, workers and resync are the generic
// controller's (controller.h): on becoming leader every cached profile is reconciled. Thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "pipeguard/controller/controller.h"
#include "pipeguard/kube/client.h"
#include "pipeguard/kube/clock.h"
#include "pipeguard/kube/leader_election.h"
#include "pipeguard/reconcilers/metrics.h"
#include "pipeguard/reconcilers/reconciler.h"

namespace pipeguard::reconcilers {

struct ProfileControllerOptions {
  int workers = 2;
  std::chrono::milliseconds resync_period{600'000};  // every profile is reconciled at least this often (IAM drift)
  std::string namespace_;                            // "" = all namespaces
  // Label selector for the owned-object informers ("" = all objects; FakeKubeClient supports no selectors).
  std::string owned_label_selector = "app.kubernetes.io/managed-by=pipeguard";
  std::optional<kube::LeaderElectionConfig> leader_election;
  controller::RateLimiterOptions rate_limiter;
  OperatorMetrics* metrics = nullptr;  // optional; must outlive the controller
};

// The keys ("namespace/name") of the profiles whose spec.network.egress names `service` (a rule's service.namespace
// defaults to the profile's namespace). Malformed profiles and Services yield no keys.
std::vector<std::string> ProfilesNamingService(const std::vector<kube::ObjectPtr>& profiles,
                                               const nlohmann::json& service);

class ProfileController {
 public:
  // `client`, `reconciler` and `clock` must outlive the controller.
  ProfileController(kube::KubeClient& client, Reconciler& reconciler, ProfileControllerOptions options,
                    const kube::Clock& clock = kube::SystemClock());
  ~ProfileController();
  ProfileController(const ProfileController&) = delete;
  ProfileController& operator=(const ProfileController&) = delete;

  void Start() { loop_.Start(); }
  // Stops the loop (controller.h), then withdraws the caches from the reconciler. Idempotent.
  void Stop();
  bool Ready() const { return loop_.Ready(); }
  bool IsLeader() const { return loop_.IsLeader(); }
  controller::WorkQueue& queue() { return loop_.queue(); }
  bool ProcessNextItem() { return loop_.ProcessNextItem(); }

 private:
  Reconciler& reconciler_;
  controller::Controller loop_;
};

}  // namespace pipeguard::reconcilers
