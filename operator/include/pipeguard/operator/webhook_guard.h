// WebhookGuard: keeps pipeguard's own Validating/MutatingWebhookConfigurations at their desired state (the chart's
// rendering, see webhook_tamper.h for where it comes from and what counts as tampering).
//
// One informer per desired object, restricted by fieldSelector metadata.name=<name> (so RBAC can restrict list and
// watch by resourceNames), wakes the guard on any add, update or delete; a periodic pass (resync_period) covers a
// missed event. While this replica leads, each pass reads every desired object with a GET (authoritative, not the
// cache) and, when it is missing or differs: Create (deleted) or Update with the observed resourceVersion (changed;
// a Conflict retries after retry_delay). Each restore produces one Warning Event "WebhookConfigurationTampered"
// (in event_namespace, regarding the configuration), pipeguard_operator_tamper_total{kind,change} once per finding,
// and one JSON log line at error level. The caBundle is never logged.
//
// Helm upgrade and uninstall are not tampering. With a desired-state ConfigMap configured (the one the chart renders
// and mounts as the file), each pass first GETs it:
//   - its content becomes the desired state (an upgrade that changes the configurations is followed at once instead
//     of being reverted; Helm writes ConfigMaps before webhook configurations);
//   - while it is missing or being deleted, nothing is written: `helm uninstall` deletes the webhook configurations
//     first and this ConfigMap next, and recreating a configuration then would leave a fail-closed webhook pointing at
//     a deleted Service.
// A deleted configuration is recreated only once it has been missing for deletion_grace (by `clock`), which gives
// an uninstall time to delete the ConfigMap; it is the longest a deletion goes unrestored.
//
// Leadership: a non-leader never writes. SetLeader(true) triggers a pass at once.
// Lifecycle: Start() once; Stop() is idempotent (the destructor runs it). Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/kube/client.h"
#include "pipeguard/kube/clock.h"
#include "pipeguard/kube/informer.h"
#include "pipeguard/operator/metrics.h"

namespace pipeguard::reconcilers {

struct WebhookGuardOptions {
  std::vector<nlohmann::json> desired;  // from ParseDesiredWebhookConfigurations; at least one
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
  OperatorMetrics* metrics = nullptr;  // optional; must outlive the guard
};

class WebhookGuard {
 public:
  // `client` and `clock` must outlive the guard.
  WebhookGuard(kube::KubeClient& client, WebhookGuardOptions options, const kube::Clock& clock = kube::SystemClock());
  ~WebhookGuard();
  WebhookGuard(const WebhookGuard&) = delete;
  WebhookGuard& operator=(const WebhookGuard&) = delete;

  void Start();
  void Stop();
  void SetLeader(bool leader);
  bool IsLeader() const { return leader_.load(); }
  // True once every informer has synced.
  bool Ready() const;

  // One pass over every desired configuration, whatever the leadership (the worker calls it only while leading).
  // Returns how many objects were restored; the first error after trying all of them. Serialised internally.
  StatusOr<int> CheckOnce();
  // Restores counted since construction (for tests).
  int restores() const { return restores_.load(); }

 private:
  void Run(std::stop_token stop);
  void Wake();
  Status CheckOne(const nlohmann::json& desired, bool* restored);
  // Reads the desired-state ConfigMap into desired_. False when it is missing or being deleted (write nothing).
  StatusOr<bool> RefreshDesired();

  kube::KubeClient& client_;
  const WebhookGuardOptions options_;
  const kube::Clock& clock_;
  std::atomic<bool> leader_;
  std::atomic<int> restores_{0};
  std::atomic<bool> started_{false};
  std::vector<std::unique_ptr<kube::Informer>> informers_;

  std::mutex check_mu_;  // serialises CheckOnce; guards the fields below
  std::vector<nlohmann::json> desired_;
  std::map<std::string, std::chrono::system_clock::time_point> missing_since_;  // "Kind/name" -> first seen missing
  std::optional<std::chrono::milliseconds> recheck_after_;  // a deletion inside its grace: look again then

  std::mutex mu_;  // guards pending_
  std::condition_variable_any cv_;
  bool pending_ = true;
  std::jthread thread_;
};

}  // namespace pipeguard::reconcilers
