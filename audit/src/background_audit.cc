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

}  // namespace

BackgroundAudit::BackgroundAudit(kube::KubeClient& client, const policy::ContextProvider& context,
                                 const policy::Engine& engine, ImageVerdictsForSnapshot images,
                                 BackgroundAuditOptions options)
    : client_(client), context_(context), engine_(engine), images_(std::move(images)), options_(std::move(options)) {}

BackgroundAudit::~BackgroundAudit() { Stop(); }

void BackgroundAudit::Start() {
  std::vector<kube::Resource> kinds = {kube::resources::Pods(), kube::resources::Jobs(), kube::resources::CronJobs(),
                                       kube::resources::Deployments()};
  if (options_.spark_applications) {
    const std::string crd =
        kube::resources::SparkApplications().resource + "." + kube::resources::SparkApplications().group;
    if (client_.Get(kube::resources::CustomResourceDefinitions(), "", crd).ok()) {
      kinds.push_back(kube::resources::SparkApplications());
    } else {
      spdlog::info("background audit: CRD {} not found, SparkApplications are not audited", crd);
    }
  }
  for (const kube::Resource& kind : kinds) {
    kube::InformerOptions informer;
    informer.resource = kind;
    informer.watch_timeout_seconds = options_.watch_timeout_seconds;
    informer.transform = kube::StripManagedFields;
    kube::InformerHandlers handlers;
    handlers.on_add = [this](const kube::ObjectPtr& object) { MarkDirty(NamespaceOf(*object)); };
    handlers.on_update = [this](const kube::ObjectPtr& older, const kube::ObjectPtr& newer) {
      if (JudgedPartsDiffer(*older, *newer)) MarkDirty(NamespaceOf(*newer));
    };
    handlers.on_delete = [this](const kube::ObjectPtr& object) { MarkDirty(NamespaceOf(*object)); };
    sources_.push_back(std::make_unique<kube::Informer>(client_, std::move(informer), std::move(handlers)));
  }
  kube::InformerOptions reports;
  reports.resource = kube::resources::PolicyReports();
  reports.label_selector = options_.report_label_selector;
  reports.watch_timeout_seconds = options_.watch_timeout_seconds;
  reports.transform = kube::StripManagedFields;
  kube::InformerHandlers report_handlers;
  // A report changed or deleted by anyone but this audit is re-judged (and so restored).
  auto foreign_change = [this](const kube::ObjectPtr& object) {
    if ((*object)["metadata"].value("name", "") != kReportName) return;
    const std::string ns = NamespaceOf(*object);
    {
      std::lock_guard lock(mu_);
      auto written = written_versions_.find(ns);
      if (written != written_versions_.end() && written->second == kube::ResourceVersionOf(*object)) return;
    }
    MarkDirty(ns);
  };
  report_handlers.on_update = [foreign_change](const kube::ObjectPtr&, const kube::ObjectPtr& newer) {
    foreign_change(newer);
  };
  report_handlers.on_delete = [this](const kube::ObjectPtr& object) {
    if ((*object)["metadata"].value("name", "") == kReportName) MarkDirty(NamespaceOf(*object));
  };
  reports_ = std::make_unique<kube::Informer>(client_, std::move(reports), std::move(report_handlers));

  if (options_.leader_election) {
    kube::LeaderElectionConfig election = *options_.leader_election;
    election.on_started_leading = [this, started = election.on_started_leading] {
      leader_.store(true);
      if (options_.metrics != nullptr) options_.metrics->SetLeader(true);
      MarkAllDirty();  // the previous leader's view may be older than this replica's caches
      if (started) started();
    };
    election.on_stopped_leading = [this, stopped = election.on_stopped_leading] {
      leader_.store(false);
      if (options_.metrics != nullptr) options_.metrics->SetLeader(false);
      if (stopped) stopped();
    };
    elector_ = std::make_unique<kube::LeaderElector>(client_, std::move(election));
  } else {
    leader_.store(true);
    if (options_.metrics != nullptr) options_.metrics->SetLeader(true);
  }
  for (auto& source : sources_) source->Start();
  reports_->Start();
  if (elector_) elector_->Start();
  thread_ = std::jthread([this](std::stop_token stop) { Loop(stop); });
}

void BackgroundAudit::Stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    cv_.notify_all();
    thread_.join();
  }
  if (elector_) elector_->Stop();
  for (auto& source : sources_) source->Stop();
  if (reports_) reports_->Stop();
}

bool BackgroundAudit::Synced() const {
  if (reports_ == nullptr || !reports_->HasSynced()) return false;
  return std::all_of(sources_.begin(), sources_.end(), [](const auto& source) { return source->HasSynced(); });
}

AuditStats BackgroundAudit::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

bool BackgroundAudit::WaitIdle(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  const std::uint64_t after = pass_generation_;
  return cv_.wait_for(lock, timeout, [&] { return pass_generation_ > after && dirty_.empty() && !all_dirty_; });
}

void BackgroundAudit::MarkDirty(const std::string& namespace_) {
  if (namespace_.empty()) return;
  {
    std::lock_guard lock(mu_);
    dirty_.emplace(namespace_, SteadyClock::now());  // keeps the first, unjudged change's time
  }
  cv_.notify_all();
}

void BackgroundAudit::MarkAllDirty() {
  {
    std::lock_guard lock(mu_);
    all_dirty_ = true;
  }
  cv_.notify_all();
}

void BackgroundAudit::Loop(std::stop_token stop) {
  std::shared_ptr<const policy::ContextSnapshot> judged_snapshot;
  SteadyClock::time_point last_full = SteadyClock::now();
  std::chrono::milliseconds wait = options_.settle;
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, stop, wait, [] { return false; });
    }
    wait = options_.settle;
    if (stop.stop_requested()) return;
    const std::shared_ptr<const policy::ContextSnapshot> snapshot = context_.Current();
    if (snapshot == nullptr || !context_.Ready() || !Synced()) continue;
    if (snapshot != judged_snapshot) {
      std::optional<std::set<std::string>> changed;
      if (judged_snapshot != nullptr) changed = snapshot->NamespacesChangedSince(*judged_snapshot);
      if (!changed) {
        MarkAllDirty();
      } else {
        for (const std::string& ns : *changed) MarkDirty(ns);
      }
      judged_snapshot = snapshot;
    }
    if (SteadyClock::now() - last_full >= options_.period) {
      MarkAllDirty();
      last_full = SteadyClock::now();
    }
    if (!leader_.load()) continue;

    // Take the namespaces whose first change has settled; the rest wait for the next round.
    std::set<std::string> namespaces;
    std::map<std::string, SteadyClock::time_point> changed_at;
    {
      std::lock_guard lock(mu_);
      const SteadyClock::time_point settled = SteadyClock::now() - options_.settle;
      if (all_dirty_) {
        all_dirty_ = false;
        for (const auto& source : sources_) {
          for (const kube::ObjectPtr& object : source->List()) namespaces.insert(NamespaceOf(*object));
        }
        for (const kube::ObjectPtr& report : reports_->List()) {
          if ((*report)["metadata"].value("name", "") == kReportName) namespaces.insert(NamespaceOf(*report));
        }
        namespaces.erase("");
        changed_at = std::move(dirty_);
        dirty_.clear();
      } else {
        for (auto it = dirty_.begin(); it != dirty_.end();) {
          if (it->second <= settled) {
            namespaces.insert(it->first);
            changed_at.insert(*it);
            it = dirty_.erase(it);
          } else {
            ++it;
          }
        }
      }
    }
    if (!namespaces.empty()) {
      Pass(namespaces, snapshot);
      const SteadyClock::time_point done = SteadyClock::now();
      if (options_.metrics != nullptr && !changed_at.empty()) {
        SteadyClock::time_point first = done;
        for (const auto& [ns, at] : changed_at) first = std::min(first, at);
        options_.metrics->RecordLag(done - first);
      }
    }
    {
      std::lock_guard lock(mu_);
      ++pass_generation_;
      if (!dirty_.empty()) wait = std::chrono::milliseconds(std::max<std::int64_t>(1, options_.settle.count() / 4));
    }
    cv_.notify_all();
  }
}

void BackgroundAudit::Pass(const std::set<std::string>& namespaces,
                           const std::shared_ptr<const policy::ContextSnapshot>& snapshot) {
  const SteadyClock::time_point started = SteadyClock::now();
  const std::int64_t now = UnixNow();
  // One read of the caches per pass: the objects of the namespaces to judge, held alive by `held`.
  std::vector<kube::ObjectPtr> held;
  std::map<std::string, std::vector<const json*>> by_namespace;
  for (const auto& source : sources_) {
    for (kube::ObjectPtr& object : source->List()) {
      const std::string ns = NamespaceOf(*object);
      if (!namespaces.count(ns)) continue;
      by_namespace[ns].push_back(object.get());
      held.push_back(std::move(object));
    }
  }
  const ImageVerdictsFor images = images_ ? images_(*snapshot) : ImageVerdictsFor();
  report::ReportOptions report_options;
  report_options.now_unix_seconds = now;
  report_options.max_results = options_.max_results;
  std::size_t objects = 0;
  for (const std::string& ns : namespaces) {
    const std::vector<const json*>& stored = by_namespace[ns];
    objects += stored.size();
    std::vector<json> reports = report::BuildPolicyReports(
        EvaluateStoredObjects(
            stored, *snapshot, engine_, images, now,
            [this](const std::string& cm_ns, const std::string& name) { return context_.ConfigMap(cm_ns, name); }),
        report_options);
    std::optional<json> desired;
    for (json& built : reports) {
      if (built["kind"] == "PolicyReport" && NamespaceOf(built) == ns) desired = std::move(built);
    }
    const std::optional<json> stored_report = WriteReport(ns, std::move(desired), thread_.get_stop_token());
    if (options_.metrics != nullptr) options_.metrics->RecordReport(ns, stored_report ? &*stored_report : nullptr, now);
  }
  if (options_.metrics != nullptr) options_.metrics->RecordPass(SteadyClock::now() - started, objects, UnixNow());
  std::lock_guard lock(mu_);
  ++stats_.passes;
  stats_.namespaces_evaluated += namespaces.size();
  stats_.objects_evaluated += objects;
}

void BackgroundAudit::TakeWriteToken(std::stop_token stop) {
  if (options_.writes_per_second <= 0) return;
  const auto interval = std::chrono::duration_cast<SteadyClock::duration>(
      std::chrono::duration<double>(1.0 / options_.writes_per_second));
  std::unique_lock lock(mu_);
  const SteadyClock::time_point now = SteadyClock::now();
  // A bucket of one second's worth: idle time earns at most that many immediate writes.
  next_token_ = std::max(next_token_, now - std::chrono::seconds(1)) + interval;
  if (next_token_ > now) cv_.wait_until(lock, stop, next_token_, [] { return false; });
}

std::optional<json> BackgroundAudit::WriteReport(const std::string& ns, std::optional<json> desired,
                                                 std::stop_token stop) {
  const kube::ObjectPtr current = reports_->Get(kube::ObjectKey(ns, kReportName));
  const kube::Resource& resource = kube::resources::PolicyReports();
  auto record = [&](std::string_view verb, const Status& status) {
    std::string_view result = status.ok()                                                 ? "ok"
                              : kube::IsConflict(status) || kube::IsAlreadyExists(status) ? "conflict"
                                                                                          : "error";
    if (options_.metrics != nullptr) options_.metrics->RecordWrite(verb, result);
    std::lock_guard lock(mu_);
    if (result == "conflict") {
      ++stats_.conflicts;
      dirty_.emplace(ns, SteadyClock::now());  // the cache was behind: judge again once it has caught up
    } else if (result == "error") {
      ++stats_.write_errors;
      dirty_.emplace(ns, SteadyClock::now());
      spdlog::warn("background audit: {} PolicyReport {}/{}: {}", verb, ns, kReportName, status.message());
    }
  };
  auto remember = [&](const json& stored, std::uint64_t AuditStats::*counter) {
    std::lock_guard lock(mu_);
    written_versions_[ns] = kube::ResourceVersionOf(stored);
    ++(stats_.*counter);
  };

  if (!desired) {
    if (current == nullptr) return std::nullopt;
    TakeWriteToken(stop);
    kube::DeleteOptions precondition;
    precondition.precondition_uid = (*current)["metadata"].value("uid", "");
    const Status deleted = client_.Delete(resource, ns, kReportName, precondition);
    if (deleted.ok() || kube::IsNotFound(deleted)) {
      if (options_.metrics != nullptr) options_.metrics->RecordWrite("delete", "ok");
      std::lock_guard lock(mu_);
      written_versions_.erase(ns);
      ++stats_.deletes;
      return std::nullopt;
    }
    record("delete", deleted);
    return *current;
  }
  if (current != nullptr) {
    report::CarryTimestamps(*current, *desired);
    if (!report::NeedsWrite(*current, *desired)) return *current;
    (*desired)["metadata"]["resourceVersion"] = kube::ResourceVersionOf(*current);
    TakeWriteToken(stop);
    StatusOr<json> updated = client_.Update(resource, ns, *desired);
    record("update", updated.status());
    if (!updated.ok()) return *current;
    remember(*updated, &AuditStats::updates);
    return std::move(updated).value();
  }
  TakeWriteToken(stop);
  StatusOr<json> created = client_.Create(resource, ns, *desired);
  record("create", created.status());
  if (!created.ok()) return std::nullopt;
  remember(*created, &AuditStats::creates);
  return std::move(created).value();
}

}  // namespace pipeguard::audit
