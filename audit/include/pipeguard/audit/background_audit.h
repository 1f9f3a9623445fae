// The background audit: what is already running in the cluster, judged by the same engine and context snapshot as
// admission and written as wgpolicyk8s.io/v1alpha2 PolicyReports (one named "pipeguard" per namespace).
//
// Sources: informers on Pods, Jobs, CronJobs, Deployments and (when its CRD is installed) SparkApplications, and on
// the PolicyReports it writes; the policy::ContextProvider of the webhook (profiles, namespaces, service accounts,
// RBAC, configuration). A namespace is re-evaluated when one of its objects changes, when the context changes in a
// way that can change its decisions (policy::ContextSnapshot::NamespacesChangedSince: a profile or namespace label
// there; the configuration or RBAC: every namespace), when its report is edited or deleted by someone else, and at
// least once per `period`. Changes are collected for `settle` before a pass, so a rollout of 50 pods is one pass.
//
// Writes: a report is created, updated or deleted only when what a reader sees would change (report::NeedsWrite;
// result timestamps are carried over, so they say since when a result holds), at most `writes_per_second` (a token
// bucket of one second's worth), updates with the cached resourceVersion (a Conflict re-queues the namespace).
// Reads come from the informers' caches only, so the audit's load on the API server is its watches plus its writes.
// With leader election only the leader writes; every replica keeps its caches warm.
//
// Lifecycle: Start() once, Stop() (idempotent; the destructor too). Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pipeguard/audit/evaluate.h"
#include "pipeguard/audit/metrics.h"
#include "pipeguard/kube/client.h"
#include "pipeguard/kube/informer.h"
#include "pipeguard/kube/leader_election.h"
#include "pipeguard/policy/context.h"
#include "pipeguard/policy/engine.h"

namespace pipeguard::audit {

struct BackgroundAuditOptions {
  std::chrono::milliseconds period{std::chrono::minutes(10)};  // every namespace is re-evaluated this often
  std::chrono::milliseconds settle{std::chrono::milliseconds(500)};
  double writes_per_second = 10;                              // PolicyReport creates, updates and deletes
  std::size_t max_results = 1000;                             // per report (report::ReportOptions::max_results)
  bool spark_applications = true;                             // watch SparkApplications when the CRD is installed
  std::optional<kube::LeaderElectionConfig> leader_election;  // none: this replica always writes
  AuditMetrics* metrics = nullptr;                            // optional; must outlive the audit
  int watch_timeout_seconds = 300;
  // Which PolicyReports the audit caches: its own (BuildPolicyReports labels them). "" caches every report, for a
  // client without label selectors (kube::FakeKubeClient); reports not named "pipeguard" are never touched.
  std::string report_label_selector = "app.kubernetes.io/managed-by=pipeguard";
};

// Counters for tests and the bench: passes run, objects evaluated, reports written by verb.
struct AuditStats {
  std::uint64_t passes = 0;
  std::uint64_t namespaces_evaluated = 0;
  std::uint64_t objects_evaluated = 0;
  std::uint64_t creates = 0, updates = 0, deletes = 0, conflicts = 0, write_errors = 0;
};

// The image verdict lookup for the reviews of one pass under `snapshot` (the verification service built for that
// snapshot's configuration); an empty function: no signature verdicts. Called once per pass.
using ImageVerdictsForSnapshot = std::function<ImageVerdictsFor(const policy::ContextSnapshot& snapshot)>;

class BackgroundAudit {
 public:
  // `client`, `context` and `engine` must outlive the audit. `images` may be empty (no signature verdicts).
  BackgroundAudit(kube::KubeClient& client, const policy::ContextProvider& context, const policy::Engine& engine,
                  ImageVerdictsForSnapshot images, BackgroundAuditOptions options);
  ~BackgroundAudit();
  BackgroundAudit(const BackgroundAudit&) = delete;
  BackgroundAudit& operator=(const BackgroundAudit&) = delete;

  void Start();
  void Stop();

  // True once every informer has synced.
  bool Synced() const;
  bool IsLeader() const { return leader_.load(); }
  AuditStats Stats() const;
  // Waits (real time) until a pass has finished after this call and no namespace is waiting; for tests.
  bool WaitIdle(std::chrono::milliseconds timeout) const;

 private:
  void MarkDirty(const std::string& namespace_);
  void MarkAllDirty();
  void Loop(std::stop_token stop);
  // Re-evaluates `namespaces` and writes their reports.
  void Pass(const std::set<std::string>& namespaces, const std::shared_ptr<const policy::ContextSnapshot>& snapshot);
  // Makes the stored report of `namespace_` equal `desired` (none: deleted), writing only when NeedsWrite. Returns
  // the report as stored (for the metrics), or none.
  std::optional<nlohmann::json> WriteReport(const std::string& namespace_, std::optional<nlohmann::json> desired,
                                            std::stop_token stop);
  void TakeWriteToken(std::stop_token stop);

  kube::KubeClient& client_;
  const policy::ContextProvider& context_;
  const policy::Engine& engine_;
  ImageVerdictsForSnapshot images_;
  BackgroundAuditOptions options_;

  std::vector<std::unique_ptr<kube::Informer>> sources_;  // the governed kinds
  std::unique_ptr<kube::Informer> reports_;               // the PolicyReports this audit writes
  std::unique_ptr<kube::LeaderElector> elector_;
  std::atomic<bool> leader_{false};

  mutable std::mutex mu_;
  mutable std::condition_variable_any cv_;
  std::map<std::string, std::chrono::steady_clock::time_point> dirty_;  // namespace -> first change not yet judged
  bool all_dirty_ = false;
  std::uint64_t pass_generation_ = 0;
  AuditStats stats_;
  std::chrono::steady_clock::time_point next_token_{};
  std::map<std::string, std::string> written_versions_;  // namespace -> resourceVersion of our last write
  std::jthread thread_;
};

}  // namespace pipeguard::audit
