// The background audit: what is already running in the cluster, judged by the same engine and context snapshot as
// admission and written as wgpolicyk8s.io/v1alpha2 PolicyReports (one named "pipeguard" per namespace).
//
// A loop on the generic controller (controller/controller.h) whose key is a namespace. Watches: Pods, Jobs,
// CronJobs, Deployments and (when its CRD is installed) SparkApplications, each object enqueueing its namespace on
// add, delete and on updates that can change a verdict (spec, labels, annotations; not a Pod's status), and every
// `period` (resync); and the PolicyReports it writes, where a change by anyone else enqueues the namespace (the
// report is restored). The context (policy::ContextProvider of the webhook: profiles, namespaces, service accounts,
// RBAC, configuration) is watched for new snapshots, and ContextSnapshot::NamespacesChangedSince enqueues only the
// namespaces a change can affect (the configuration or RBAC: every namespace). A namespace is judged once its first
// unjudged change is `settle` old, so a rollout of 50 pods is one judgement.
//
// Reconcile(namespace): judge its objects from the informer caches, build its report, and write it only when what a
// reader sees would change (report::NeedsWrite; result timestamps are carried over, so they say since when a result
// holds). The stored report is read through controller::ReadForDiff (cache, then live before a write), writes are
// at most `writes_per_second` (a token bucket of one second's worth) with optimistic concurrency (a Conflict
// requeues). With leader election only the leader writes; every replica keeps its caches warm.
//
// ConfigMap readers: the same informers keep a ConfigMapReaderIndex (config_map_readers.h) of which objects read
// which ConfigMaps, for the webhook's ConfigMap admissions (ConfigMapReaders; the webhook hands it to its handlers
// through policy::ContextProvider::ConfigMapReaders). Every replica keeps it, leader or not; it is complete once
// Synced().
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

#include "pipeguard/audit/config_map_readers.h"
#include "pipeguard/audit/evaluate.h"
#include "pipeguard/audit/metrics.h"
#include "pipeguard/controller/controller.h"
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
  std::uint64_t passes = 0;  // namespace judgements
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
  bool IsLeader() const;
  AuditStats Stats() const;
  // The watched objects that read ConfigMap `ns`/`name` (policy::ConfigMapReaders), as the informers last saw them.
  // Thread-safe, an index lookup; empty before Start().
  std::vector<policy::ConfigMapReader> ConfigMapReaders(const std::string& ns, const std::string& name) const {
    return readers_.Readers(ns, name);
  }
  // Waits (real time) until no namespace is waiting to be judged or being judged; false on timeout. For tests.
  bool WaitIdle(std::chrono::milliseconds timeout) const;

 private:
  // The namespace's objects judged and its report written; the controller's reconcile function.
  StatusOr<controller::Result> Reconcile(const std::string& namespace_);
  std::vector<std::string> NoteChange(const kube::Json& object);
  // Brings the reader index up to the cache's latest state of the object an event of `kind` is about.
  void IndexReads(const kube::Resource& kind, const kube::ObjectPtr& seen, const controller::InformerCache& cache);
  void EnqueueAllNamespaces();
  void WatchContext(std::stop_token stop);
  // Makes the stored report of `namespace_` equal `desired` (none: deleted), writing only when NeedsWrite. Returns
  // the report as stored (for the metrics), or none; a Conflict or an API error as a Status.
  StatusOr<std::optional<nlohmann::json>> WriteReport(const std::string& namespace_,
                                                      std::optional<nlohmann::json> desired);
  void TakeWriteToken();
  void Expect(const std::string& namespace_, const nlohmann::json& report);

  kube::KubeClient& client_;
  const policy::ContextProvider& context_;
  const policy::Engine& engine_;
  ImageVerdictsForSnapshot images_;
  BackgroundAuditOptions options_;

  std::vector<kube::Resource> judged_kinds_;  // the informers' resources, in watch order
  std::unique_ptr<controller::Metrics> controller_metrics_;
  std::unique_ptr<controller::Controller> controller_;
  std::shared_ptr<const policy::ContextSnapshot> judged_snapshot_;  // WatchContext's last snapshot

  mutable std::mutex mu_;
  mutable std::condition_variable_any cv_;
  std::map<std::string, std::chrono::steady_clock::time_point> changed_;  // namespace -> first unjudged change
  int judging_ = 0;                                                       // Reconcile calls in progress
  AuditStats stats_;
  std::chrono::steady_clock::time_point next_token_{};
  // namespace -> the report this audit last wrote (set before the write is sent, so its watch event, which may
  // arrive before the reply, is recognised as ours and does not wake the audit again).
  std::map<std::string, nlohmann::json> written_reports_;
  std::jthread context_thread_;
  ConfigMapReaderIndex readers_;
  // Held across a cache lookup and the index update that follows it, so that events of one object offered from two
  // threads (the informer's, a leadership change's) cannot leave an older state in the index.
  std::mutex index_mu_;
};

}  // namespace pipeguard::audit
