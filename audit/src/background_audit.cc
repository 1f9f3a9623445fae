#include "pipeguard/audit/background_audit.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "pipeguard/kube/errors.h"
#include "pipeguard/report/policy_report.h"

namespace pipeguard::audit {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kReportName = report::kSource;  // every report this audit writes is named "pipeguard"

std::string NamespaceOf(const json& object) {
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return {};
  const auto ns = metadata->find("namespace");
  return ns != metadata->end() && ns->is_string() ? ns->get<std::string>() : std::string();
}

// Whether an update can change a verdict: the spec, labels or annotations differ (a Pod's status updates from the
// kubelet do not wake the audit).
bool JudgedPartsDiffer(const json& older, const json& newer) {
  auto part = [](const json& object, std::string_view key) -> const json& {
    static const json kNull;
    auto it = object.find(key);
    return it == object.end() ? kNull : *it;
  };
  const json& old_metadata = part(older, "metadata");
  const json& new_metadata = part(newer, "metadata");
  return part(older, "spec") != part(newer, "spec") || part(old_metadata, "labels") != part(new_metadata, "labels") ||
         part(old_metadata, "annotations") != part(new_metadata, "annotations");
}

std::int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The controller's view of leadership and reconciles, into the audit's metrics.
class ControllerMetrics final : public controller::Metrics {
 public:
  explicit ControllerMetrics(AuditMetrics* metrics) : metrics_(metrics) {}
  void RecordReconcile(std::string_view, double) override {}
  void SetLeader(bool leader) override {
    if (metrics_ != nullptr) metrics_->SetLeader(leader);
  }

 private:
  AuditMetrics* metrics_;
};

// The API server refuses new objects in a namespace being deleted (403, "... because it is being terminated").
bool NamespaceTerminating(const Status& status) {
  return kube::IsForbidden(status) && status.message().find("because it is being terminated") != std::string::npos;
}

bool IsOurReport(const json& object) {
  const auto metadata = object.find("metadata");
  return metadata != object.end() && metadata->is_object() && metadata->value("name", "") == kReportName;
}

}  // namespace

BackgroundAudit::BackgroundAudit(kube::KubeClient& client, const policy::ContextProvider& context,
                                 const policy::Engine& engine, ImageVerdictsForSnapshot images,
                                 BackgroundAuditOptions options)
    : client_(client), context_(context), engine_(engine), images_(std::move(images)), options_(std::move(options)) {}

BackgroundAudit::~BackgroundAudit() { Stop(); }

std::vector<std::string> BackgroundAudit::NoteChange(const json& object) {
  std::string ns = NamespaceOf(object);
  if (ns.empty()) return {};
  std::lock_guard lock(mu_);
  changed_.emplace(ns, SteadyClock::now());  // keeps the first unjudged change's time
  return {std::move(ns)};
}

void BackgroundAudit::IndexReads(const kube::Resource& kind, const kube::ObjectPtr& seen,
                                 const controller::InformerCache& cache) {
  const std::string ns = NamespaceOf(*seen);
  const auto metadata = seen->find("metadata");
  const std::string name = metadata != seen->end() && metadata->is_object() ? metadata->value("name", "") : "";
  if (name.empty()) return;
  std::lock_guard lock(index_mu_);
  // The store is updated before handlers run, so the cache holds the latest state (null: deleted). Before the
  // informer's first sync the cache answers nothing: the event's own object is the latest then.
  const std::optional<kube::ObjectPtr> current = cache.Lookup(kind, ns, name);
  const kube::ObjectPtr& latest = current.has_value() ? *current : seen;
  readers_.Set(kind.resource + "/" + ns + "/" + name, latest.get());
}

void BackgroundAudit::Start() {
  judged_kinds_ = {kube::resources::Pods(), kube::resources::Jobs(), kube::resources::CronJobs(),
                   kube::resources::Deployments()};
  if (options_.spark_applications) {
    const std::string crd =
        kube::resources::SparkApplications().resource + "." + kube::resources::SparkApplications().group;
    if (client_.Get(kube::resources::CustomResourceDefinitions(), "", crd).ok()) {
      judged_kinds_.push_back(kube::resources::SparkApplications());
    } else {
      spdlog::info("background audit: CRD {} not found, SparkApplications are not audited", crd);
    }
  }
  std::vector<controller::Watch> watches;
  for (const kube::Resource& kind : judged_kinds_) {
    controller::Watch watch;
    watch.informer.resource = kind;
    watch.informer.watch_timeout_seconds = options_.watch_timeout_seconds;
    watch.keys = [this, kind](const kube::ObjectPtr& object, const controller::InformerCache& cache) {
      IndexReads(kind, object, cache);
      return NoteChange(*object);
    };
    watch.update_matters = JudgedPartsDiffer;
    watch.primary = true;  // resynced every period: every namespace judged again
    watches.push_back(std::move(watch));
  }
  controller::Watch reports;
  reports.primary = true;  // offered again on resync and leadership, so a report left in an empty namespace goes
  reports.informer.resource = kube::resources::PolicyReports();
  reports.informer.label_selector = options_.report_label_selector;
  reports.informer.watch_timeout_seconds = options_.watch_timeout_seconds;
  // A report changed or deleted by anyone but this audit is judged again (and so restored); our own write's event
  // is recognised by its content, since it may arrive before the write's reply.
  reports.keys = [this](const kube::ObjectPtr& object,
                        const controller::InformerCache& cache) -> std::vector<std::string> {
    if (!IsOurReport(*object)) return {};
    // The store is updated before handlers run: a report no longer cached was deleted.
    const auto cached = cache.Lookup(kube::resources::PolicyReports(), NamespaceOf(*object), kReportName);
    const bool deleted = cached.has_value() && *cached == nullptr;
    if (!deleted) {
      std::lock_guard lock(mu_);
      auto written = written_reports_.find(NamespaceOf(*object));
      if (written != written_reports_.end() && !report::NeedsWrite(written->second, *object)) return {};
    }
    return NoteChange(*object);
  };
  watches.push_back(std::move(reports));

  controller::Options controller_options;
  controller_options.name = "background audit";
  controller_options.workers = 1;  // one namespace at a time: bounded CPU and registry calls
  controller_options.resync_period = options_.period;
  controller_options.leader_election = options_.leader_election;
  controller_metrics_ = std::make_unique<ControllerMetrics>(options_.metrics);
  controller_options.metrics = controller_metrics_.get();
  controller_ = std::make_unique<controller::Controller>(
      client_, std::move(watches), [this](const std::string& ns) { return Reconcile(ns); },
      std::move(controller_options));
  controller_->Start();
  context_thread_ = std::jthread([this](std::stop_token stop) { WatchContext(stop); });
}

void BackgroundAudit::Stop() {
  if (context_thread_.joinable()) {
    context_thread_.request_stop();
    cv_.notify_all();
    context_thread_.join();
  }
  if (controller_) controller_->Stop();
}

bool BackgroundAudit::Synced() const { return controller_ != nullptr && controller_->Ready(); }
bool BackgroundAudit::IsLeader() const { return controller_ != nullptr && controller_->IsLeader(); }

AuditStats BackgroundAudit::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

bool BackgroundAudit::WaitIdle(std::chrono::milliseconds timeout) const {
  const auto until = SteadyClock::now() + timeout;
  std::unique_lock lock(mu_);
  while (true) {
    if (changed_.empty() && judging_ == 0 && controller_ != nullptr && controller_->queue().Len() == 0) return true;
    if (SteadyClock::now() >= until) return false;
    cv_.wait_for(lock, std::chrono::milliseconds(20));  // the queue does not notify: look again shortly
  }
}

void BackgroundAudit::EnqueueAllNamespaces() {
  std::set<std::string> namespaces;
  for (const kube::Resource& kind : judged_kinds_) {
    for (const kube::ObjectPtr& object : controller_->cache().List(kind)) namespaces.insert(NamespaceOf(*object));
  }
  for (const kube::ObjectPtr& report : controller_->cache().List(kube::resources::PolicyReports())) {
    if (IsOurReport(*report)) namespaces.insert(NamespaceOf(*report));
  }
  namespaces.erase("");
  for (const std::string& ns : namespaces) {
    {
      std::lock_guard lock(mu_);
      changed_.emplace(ns, SteadyClock::now());
    }
    controller_->queue().Add(ns);
  }
}

// Polls the context for a new snapshot (an atomic load) and enqueues what it can change.
void BackgroundAudit::WatchContext(std::stop_token stop) {
  const auto interval = std::max(std::chrono::milliseconds(20), options_.settle / 2);
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, stop, interval, [] { return false; });
    }
    if (stop.stop_requested()) return;
    const std::shared_ptr<const policy::ContextSnapshot> snapshot = context_.Current();
    if (snapshot == nullptr || !context_.Ready() || !Synced() || snapshot == judged_snapshot_) continue;
    std::optional<std::set<std::string>> changed;
    if (judged_snapshot_ != nullptr) changed = snapshot->NamespacesChangedSince(*judged_snapshot_);
    judged_snapshot_ = snapshot;
    if (!changed) {
      EnqueueAllNamespaces();
      continue;
    }
    for (const std::string& ns : *changed) {
      {
        std::lock_guard lock(mu_);
        changed_.emplace(ns, SteadyClock::now());
      }
      controller_->queue().Add(ns);
    }
  }
}

StatusOr<controller::Result> BackgroundAudit::Reconcile(const std::string& ns) {
  const std::shared_ptr<const policy::ContextSnapshot> snapshot = context_.Current();
  if (snapshot == nullptr || !context_.Ready() || !Synced()) {
    return controller::Result::RequeueAfter(options_.settle, "the context or the caches are not ready");
  }
  SteadyClock::time_point changed_at = SteadyClock::now();
  {
    std::lock_guard lock(mu_);
    ++judging_;
    if (auto it = changed_.find(ns); it != changed_.end()) {
      const auto settled_at = it->second + options_.settle;
      if (settled_at > SteadyClock::now()) {
        --judging_;
        return controller::Result::RequeueAfter(
            std::chrono::ceil<std::chrono::milliseconds>(settled_at - SteadyClock::now()), "settling");
      }
      changed_at = it->second;
      changed_.erase(it);
    }
  }
  const SteadyClock::time_point started = SteadyClock::now();
  const std::int64_t now = UnixNow();
  std::vector<kube::ObjectPtr> held;
  std::vector<const json*> objects;
  for (const kube::Resource& kind : judged_kinds_) {
    for (kube::ObjectPtr& object : controller_->cache().List(kind)) {
      if (NamespaceOf(*object) != ns) continue;
      objects.push_back(object.get());
      held.push_back(std::move(object));
    }
  }
  const ImageVerdictsFor images = images_ ? images_(*snapshot) : ImageVerdictsFor();
  report::ReportOptions report_options;
  report_options.now_unix_seconds = now;
  report_options.max_results = options_.max_results;
  std::optional<json> desired;
  const auto config_maps = [this](const std::string& config_map_namespace, const std::string& name) {
    return context_.ConfigMap(config_map_namespace, name);
  };
  for (json& built : report::BuildPolicyReports(
           EvaluateStoredObjects(objects, *snapshot, engine_, images, now, config_maps), report_options)) {
    if (built["kind"] == "PolicyReport" && NamespaceOf(built) == ns) desired = std::move(built);
  }
  auto stored = WriteReport(ns, std::move(desired));
  {
    std::lock_guard lock(mu_);
    ++stats_.passes;
    ++stats_.namespaces_evaluated;
    stats_.objects_evaluated += objects.size();
    --judging_;
  }
  cv_.notify_all();
  if (options_.metrics != nullptr) {
    options_.metrics->RecordPass(SteadyClock::now() - started, objects.size(), UnixNow());
    if (stored.ok()) {
      options_.metrics->RecordReport(ns, stored->has_value() ? &**stored : nullptr, now);
      options_.metrics->RecordLag(SteadyClock::now() - changed_at);
    }
  }
  if (!stored.ok()) {
    if (kube::IsConflict(stored.status()) || kube::IsAlreadyExists(stored.status())) {
      return controller::Result::Requeue("the stored report changed meanwhile");
    }
    if (NamespaceTerminating(stored.status())) {
      spdlog::info("background audit: namespace {} is being deleted; no report", ns);
      return controller::Result::Done();  // its objects' deletions will come as events
    }
    spdlog::warn("background audit: PolicyReport {}/{}: {}", ns, kReportName, stored.status().message());
    return stored.status();
  }
  return controller::Result::Done();
}

void BackgroundAudit::TakeWriteToken() {
  if (options_.writes_per_second <= 0) return;
  const auto interval = std::chrono::duration_cast<SteadyClock::duration>(
      std::chrono::duration<double>(1.0 / options_.writes_per_second));
  SteadyClock::time_point wait_until;
  {
    std::lock_guard lock(mu_);
    const SteadyClock::time_point now = SteadyClock::now();
    // A bucket of one second's worth: idle time earns at most that many immediate writes.
    next_token_ = std::max(next_token_, now - std::chrono::seconds(1)) + interval;
    wait_until = next_token_;
  }
  std::this_thread::sleep_until(wait_until);  // the one worker waits; bounded by the bucket
}

void BackgroundAudit::Expect(const std::string& ns, const json& report) {
  std::lock_guard lock(mu_);
  written_reports_[ns] = report;
}

StatusOr<std::optional<json>> BackgroundAudit::WriteReport(const std::string& ns, std::optional<json> desired) {
  const kube::Resource& resource = kube::resources::PolicyReports();
  const controller::NeedsWrite needs_write = [&](const std::optional<json>& observed) {
    if (!desired) return observed.has_value();
    if (!observed) return true;
    json carried = *desired;
    report::CarryTimestamps(*observed, carried);
    return report::NeedsWrite(*observed, carried);
  };
  auto observed = controller::ReadForDiff(client_, &controller_->cache(), resource, ns, kReportName, needs_write);
  if (!observed.ok()) return observed.status();
  auto record = [&](std::string_view verb, const Status& status) {
    const std::string_view result = status.ok()                                                 ? "ok"
                                    : kube::IsConflict(status) || kube::IsAlreadyExists(status) ? "conflict"
                                                                                                : "error";
    if (options_.metrics != nullptr) options_.metrics->RecordWrite(verb, result);
    std::lock_guard lock(mu_);
    if (result == "conflict") ++stats_.conflicts;
    if (result == "error") ++stats_.write_errors;
  };
  if (!needs_write(observed->object)) return observed->object;

  if (!desired) {
    TakeWriteToken();
    kube::DeleteOptions precondition;
    precondition.precondition_uid = (*observed->object)["metadata"].value("uid", "");
    const Status deleted = client_.Delete(resource, ns, kReportName, precondition);
    if (!deleted.ok() && !kube::IsNotFound(deleted)) {
      record("delete", deleted);
      return deleted;
    }
    record("delete", Status::Ok());
    std::lock_guard lock(mu_);
    written_reports_.erase(ns);
    ++stats_.deletes;
    return std::optional<json>();
  }
  TakeWriteToken();
  if (observed->object) {
    report::CarryTimestamps(*observed->object, *desired);
    (*desired)["metadata"]["resourceVersion"] = kube::ResourceVersionOf(*observed->object);
    Expect(ns, *desired);
    StatusOr<json> updated = client_.Update(resource, ns, *desired);
    record("update", updated.status());
    if (!updated.ok()) return updated.status();
    std::lock_guard lock(mu_);
    ++stats_.updates;
    return std::optional<json>(std::move(updated).value());
  }
  Expect(ns, *desired);
  StatusOr<json> created = client_.Create(resource, ns, *desired);
  record("create", created.status());
  if (!created.ok()) return created.status();
  std::lock_guard lock(mu_);
  ++stats_.creates;
  return std::optional<json>(std::move(created).value());
}

}  // namespace pipeguard::audit
