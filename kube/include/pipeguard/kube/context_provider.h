// The Kubernetes-API-backed policy::ContextProvider for the webhook: informers for PipelineSecurityProfiles,
// Namespaces, ServiceAccounts, Roles, ClusterRoles, RoleBindings and ClusterRoleBindings; after any change a new
// immutable ContextSnapshot is built from the informer stores (debounced: at most one build per `debounce`) and
// swapped in atomically. The request path (Current()) reads an atomic shared_ptr and never calls the API.
//
// ConfigMaps (for the ConfigMaps governed pods mount, policy::PrepareReview) come from one more informer, read
// directly by ConfigMap(): they are not part of the snapshot, so a ConfigMap change never rebuilds it. Its cache
// drops managedFields and binaryData, which no rule reads. Needs list/watch on configmaps (the chart's ClusterRole).
//
// Before Ready(), Current() returns a snapshot with the configuration and no cluster objects; callers that must not
// decide on partial data check Ready() (e.g. in a readiness probe).
// A malformed object (e.g. an invalid profile) is left out of the snapshot and reported through on_error with its
// kind/namespace/name; the rest of the snapshot is still built.
//
// Thread-safety: Current(), Ready(), builds() are thread-safe. Start() once, Stop() idempotent (the destructor
// stops).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "pipeguard/kube/client.h"
#include "pipeguard/kube/informer.h"
#include "pipeguard/policy/config.h"
#include "pipeguard/policy/context.h"

namespace pipeguard::kube {

struct KubeContextOptions {
  policy::Config config;
  std::chrono::milliseconds debounce{200};
  // Called (from the build thread) once for each object the snapshot builder rejects (the message names the
  // object and field, never its contents). API errors are retried inside the informers and logged there.
  std::function<void(const Status&)> on_error;
  // Called after each swap, with the number of builds so far (for metrics and tests).
  std::function<void(uint64_t builds)> on_rebuilt;
  // Optional: called with every new snapshot before it becomes current (the webhook builds the image verification
  // service of its configuration here). An error keeps the previous snapshot, is logged and goes to on_error; for
  // the initial snapshot (built from the configuration alone) it is Create()'s error.
  std::function<Status(const std::shared_ptr<const policy::ContextSnapshot>&)> prepare;
  int watch_timeout_seconds = 300;
};

class KubeContextProvider final : public policy::ContextProvider {
 public:
  // `client` must outlive the provider. Prefer Create() when options.prepare is set: the constructor cannot report
  // a failure to prepare the initial snapshot (it is logged and Current() is then null until a build succeeds).
  KubeContextProvider(KubeClient& client, KubeContextOptions options);
  // Builds the initial snapshot (configuration only) and prepares it; an error there is returned.
  static StatusOr<std::unique_ptr<KubeContextProvider>> Create(KubeClient& client, KubeContextOptions options);
  ~KubeContextProvider() override;

  void Start();
  void Stop();

  std::shared_ptr<const policy::ContextSnapshot> Current() const override { return current_.load(); }
  // True once every informer has synced and a snapshot including their objects has been swapped in.
  bool Ready() const override { return ready_.load(); }
  // From the ConfigMap informer's store; null before it synced or when the ConfigMap does not exist.
  std::shared_ptr<const nlohmann::json> ConfigMap(const std::string& ns, const std::string& name) const override;
  bool WaitReady(std::chrono::milliseconds timeout) const;
  uint64_t builds() const { return builds_.load(); }

 private:
  void MarkDirty();
  // Runs options_.prepare (if any) on `snapshot` and swaps it in when that succeeds.
  Status Publish(std::shared_ptr<const policy::ContextSnapshot> snapshot);
  void BuildLoop(std::stop_token stop);

  KubeClient& client_;
  KubeContextOptions options_;
  std::vector<std::unique_ptr<Informer>> informers_;
  std::unique_ptr<Informer> config_maps_;  // not part of the snapshot
  std::atomic<std::shared_ptr<const policy::ContextSnapshot>> current_;
  std::atomic<bool> ready_{false};
  std::atomic<uint64_t> builds_{0};
  Status initial_status_;

  mutable std::mutex mu_;
  mutable std::condition_variable_any cv_;
  bool dirty_ = false;
  std::jthread build_thread_;
};

}  // namespace pipeguard::kube
