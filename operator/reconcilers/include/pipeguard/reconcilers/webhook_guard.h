// WebhookGuard: keeps pipeguard's own Validating/MutatingWebhookConfigurations at their desired state (the chart's
// rendering, see webhook_tamper.h for where it comes from and what counts as tampering). It runs on the generic
// controller (controller.h) with one standing key: each reconcile is one pass over every desired configuration.
//
// Watches: one informer per desired object, restricted by fieldSelector metadata.name=<name> (so RBAC can restrict
// list and watch by resourceNames), whose events start a pass, and one on the desired-state ConfigMap likewise, which
// only feeds the cache: Helm writes the configurations right after it, and a pass started by the ConfigMap alone
// would "restore" them to the new state first, a false alarm. Every pass schedules the next after resync_period,
// which covers a missed event. A pass reads the ConfigMap and the
// configurations from the informer caches; a configuration that is missing or differs is read again from the API
// server, and so is the ConfigMap (controller::ReadForDiff / ConfirmLive), before anything is written: Create
// (deleted) or Update with the observed resourceVersion (changed; a Conflict retries). So a converged cluster costs
// no API call, and a write is never decided on a stale cache. Each restore produces one Warning Event
// "WebhookConfigurationTampered" (in event_namespace, regarding the configuration),
// pipeguard_operator_tamper_total{kind,change} once per finding, and one JSON log line at error level. The caBundle
// is never logged. A failed pass is retried after retry_delay, doubling per consecutive failure up to resync_period.
//
// Helm upgrade and uninstall are not tampering. With a desired-state ConfigMap configured (the one the chart renders
// and mounts as the file):
//   - its content becomes the desired state (an upgrade that changes the configurations is followed at once instead
//     of being reverted; Helm writes ConfigMaps before webhook configurations);
//   - while it is missing or being deleted, nothing is written: `helm uninstall` deletes the webhook configurations
//     first and this ConfigMap next, and recreating a configuration then would leave a fail-closed webhook pointing at
//     a deleted Service.
// A deleted configuration is recreated only once it has been missing for deletion_grace (by `clock`), which gives
// an uninstall time to delete the ConfigMap; it is the longest a deletion goes unrestored.
//   - when its content changes, differences are left alone for upgrade_grace: Helm writes the Mutating and then the
//     Validating configuration after the ConfigMap, and a pass started by the first write would otherwise "restore"
//     the second to the new state just before Helm writes it (a false alarm, e.g. when a CA rotation changes both
//     caBundles). A difference still there when the grace ends is restored as tampering.
//
// Leadership: a non-leader never writes. SetLeader(true) triggers a pass at once.
// Lifecycle: Start() once; Stop() is idempotent (the destructor runs it). Thread-safe.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/controller/controller.h"
#include "pipeguard/desired/webhook_tamper.h"
#include "pipeguard/kube/client.h"
#include "pipeguard/kube/clock.h"
#include "pipeguard/kube/informer.h"
#include "pipeguard/reconcilers/metrics.h"

namespace pipeguard::reconcilers {

struct WebhookGuardOptions {
  std::vector<nlohmann::json> desired;  // from desired::ParseDesiredWebhookConfigurations; at least one
  std::string reporting_instance;       // the Event's reportingInstance (the pod name)
  // Where the Events live. The API server accepts only "default" or "kube-system" for Events about cluster-scoped
  // objects such as webhook configurations.
  std::string event_namespace = "default";
  std::chrono::milliseconds resync_period{30'000};
  // After a failed pass (Conflict, API unavailable, RBAC forbids create): doubles per consecutive failure, capped at
  // resync_period. A failure is logged at error level: the configuration may stay weakened until it succeeds.
  std::chrono::milliseconds retry_delay{1'000};
  bool leader = true;                       // initial leadership; with leader election start with false
  std::string desired_configmap_namespace;  // "" name = no ConfigMap: `desired` is fixed
  std::string desired_configmap_name;
  std::string desired_configmap_key = "webhook-configurations.yaml";
  std::chrono::milliseconds deletion_grace{5'000};
  std::chrono::milliseconds upgrade_grace{5'000};  // after the desired state changed (see above)
  OperatorMetrics* metrics = nullptr;              // optional; must outlive the guard
};

class WebhookGuard {
 public:
  // `client` and `clock` must outlive the guard.
  WebhookGuard(kube::KubeClient& client, WebhookGuardOptions options, const kube::Clock& clock = kube::SystemClock());
  ~WebhookGuard();
  WebhookGuard(const WebhookGuard&) = delete;
  WebhookGuard& operator=(const WebhookGuard&) = delete;

  void Start() { loop_->Start(); }
  void Stop() { loop_->Stop(); }
  void SetLeader(bool leader) { loop_->SetLeader(leader); }
  bool IsLeader() const { return loop_->IsLeader(); }
  // True once every informer has synced.
  bool Ready() const { return loop_->Ready(); }

  // One pass over every desired configuration, whatever the leadership (the loop calls it only while leading).
  // Returns how many objects were restored; the first error after trying all of them. Serialised internally.
  StatusOr<int> CheckOnce();
  // Restores counted since construction (for tests).
  int restores() const { return restores_.load(); }

 private:
  // One desired configuration as a pass sees it.
  struct Check {
    const nlohmann::json* desired = nullptr;
    std::optional<nlohmann::json> observed;
    std::vector<desired::WebhookFinding> findings;  // empty: nothing to write (intact, or a deletion inside its grace)
    Status error;
  };
  // Reads the desired-state ConfigMap into desired_ (from the cache, or `live`). False when it is missing or being
  // deleted (write nothing).
  StatusOr<bool> RefreshDesired(bool live);
  // Reads every desired configuration for a diff (a difference is confirmed live). Requires check_mu_.
  std::vector<Check> Observe();
  Status Restore(const Check& check);

  kube::KubeClient& client_;
  const WebhookGuardOptions options_;
  const kube::Clock& clock_;
  std::atomic<int> restores_{0};

  std::mutex check_mu_;  // serialises CheckOnce; guards the fields below
  std::vector<nlohmann::json> desired_;
  bool desired_from_cache_ = false;  // desired_ was last read from the informer cache
  std::map<std::string, std::chrono::system_clock::time_point> missing_since_;  // "Kind/name" -> first seen missing
  // A grace period running (a deletion, an upgrade): look again then. RecheckWithin keeps the soonest.
  std::optional<std::chrono::milliseconds> recheck_after_;
  void RecheckWithin(std::chrono::milliseconds left) {
    recheck_after_ = recheck_after_ ? std::min(*recheck_after_, left) : left;
  }
  std::optional<std::chrono::system_clock::time_point> desired_changed_at_;  // the ConfigMap's content last changed

  std::unique_ptr<controller::Controller> loop_;  // last: its workers call CheckOnce
};

}  // namespace pipeguard::reconcilers
