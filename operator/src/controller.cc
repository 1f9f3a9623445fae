#include "pipeguard/operator/controller.h"

#include <spdlog/spdlog.h>

#include "pipeguard/kube/resource.h"
#include "pipeguard/profile/profile.h"

namespace pipeguard::reconcilers {

std::string OwnerProfileKey(const nlohmann::json& object) {
  if (!object.is_object() || !object.contains("metadata")) return "";
  const auto& meta = object["metadata"];
  const std::string ns = meta.value("namespace", "");
  for (const auto& ref : meta.value("ownerReferences", nlohmann::json::array())) {
    const std::string api_version = ref.value("apiVersion", "");
    if (ref.value("kind", "") == api::kProfileKind && api_version.rfind("pipeguard.io/", 0) == 0 &&
        ref.value("controller", false) && ref.contains("name") && ref["name"].is_string()) {
      return kube::ObjectKey(ns, ref["name"].get<std::string>());
    }
  }
  return "";
}

std::vector<std::string> ProfilesNamingService(const std::vector<kube::ObjectPtr>& profiles,
                                               const nlohmann::json& service) {
  std::vector<std::string> keys;
  if (!service.is_object() || !service.contains("metadata") || !service["metadata"].is_object()) return keys;
  const std::string service_ns = service["metadata"].value("namespace", "");
  const std::string service_name = service["metadata"].value("name", "");
  for (const auto& profile : profiles) {
    const nlohmann::json& object = *profile;
    const nlohmann::json* egress = nullptr;
    if (object.contains("spec") && object["spec"].is_object() && object["spec"].contains("network") &&
        object["spec"]["network"].is_object() && object["spec"]["network"].contains("egress")) {
      egress = &object["spec"]["network"]["egress"];
    }
    if (egress == nullptr || !egress->is_array()) continue;
    const std::string profile_ns = object["metadata"].value("namespace", "");
    for (const auto& rule : *egress) {
      if (!rule.is_object() || !rule.contains("service") || !rule["service"].is_object()) continue;
      const auto& ref = rule["service"];
      const std::string ns = ref.value("namespace", std::string());
      if (ref.value("name", std::string()) == service_name && (ns.empty() ? profile_ns : ns) == service_ns) {
        keys.push_back(kube::ObjectKey(object));
        break;
      }
    }
  }
  return keys;
}

Controller::Controller(kube::KubeClient& client, Reconciler& reconciler, ControllerOptions options,
                       const kube::Clock& clock)
    : client_(client),
      reconciler_(reconciler),
      options_(std::move(options)),
      clock_(clock),
      queue_(clock, options_.rate_limiter) {
  auto enqueue = [this](const kube::ObjectPtr& o) { queue_.Add(kube::ObjectKey(*o)); };
  kube::InformerHandlers profile_handlers;
  profile_handlers.on_add = enqueue;
  profile_handlers.on_update = [this](const kube::ObjectPtr&, const kube::ObjectPtr& o) {
    queue_.Add(kube::ObjectKey(*o));
  };
  profile_handlers.on_delete = enqueue;
  profile_handlers.on_resync = enqueue;
  kube::InformerOptions profile_options;
  profile_options.resource = kube::resources::PipelineSecurityProfiles();
  profile_options.namespace_ = options_.namespace_;
  profile_options.resync_period = options_.resync_period;
  profile_options.transform = kube::StripManagedFields;  // no reader needs it: smaller caches
  profiles_ = std::make_unique<kube::Informer>(client_, profile_options, profile_handlers);

  auto enqueue_owner = [this](const kube::ObjectPtr& o) {
    const std::string key = OwnerProfileKey(*o);
    if (!key.empty()) queue_.Add(key);
  };
  kube::InformerHandlers owned_handlers;
  owned_handlers.on_add = enqueue_owner;
  owned_handlers.on_update = [enqueue_owner](const kube::ObjectPtr&, const kube::ObjectPtr& o) { enqueue_owner(o); };
  owned_handlers.on_delete = enqueue_owner;
  for (const kube::Resource* r : {&kube::resources::ServiceAccounts(), &kube::resources::NetworkPolicies()}) {
    kube::InformerOptions o;
    o.resource = *r;
    o.namespace_ = options_.namespace_;
    o.label_selector = options_.owned_label_selector;
    o.transform = kube::StripManagedFields;
    owned_.push_back(std::make_unique<kube::Informer>(client_, o, owned_handlers));
  }
  // Services named by egress rules: a change re-reconciles every profile that names the Service (its selector and
  // ports shape the NetworkPolicy), and the reconciler resolves them from this cache.
  auto enqueue_naming = [this](const kube::ObjectPtr& service) {
    if (!profiles_) return;
    for (const auto& key : ProfilesNamingService(profiles_->List(), *service)) queue_.Add(key);
  };
  kube::InformerHandlers service_handlers;
  service_handlers.on_add = enqueue_naming;
  service_handlers.on_update = [enqueue_naming](const kube::ObjectPtr&, const kube::ObjectPtr& o) {
    enqueue_naming(o);
  };
  service_handlers.on_delete = enqueue_naming;
  kube::InformerOptions service_options;
  service_options.resource = kube::resources::Services();
  service_options.namespace_ = options_.namespace_;
  service_options.transform = kube::StripManagedFields;
  services_ = std::make_unique<kube::Informer>(client_, service_options, service_handlers);

  cache_.Add(profiles_.get());
  for (const auto& i : owned_) cache_.Add(i.get());
  cache_.Add(services_.get());
  reconciler_.UseCache(&cache_);

  if (options_.leader_election) {
    kube::LeaderElectionConfig le = *options_.leader_election;
    auto started = le.on_started_leading;
    auto stopped = le.on_stopped_leading;
    le.on_started_leading = [this, started] {
      SetLeader(true);
      if (started) started();
    };
    le.on_stopped_leading = [this, stopped] {
      SetLeader(false);
      if (stopped) stopped();
    };
    elector_ = std::make_unique<kube::LeaderElector>(client_, le, clock_);
  } else {
    SetLeader(true);
  }
}

Controller::~Controller() { Stop(); }

void Controller::SetLeader(bool leader) {
  const bool was = leader_.exchange(leader);
  if (options_.metrics != nullptr) options_.metrics->SetLeader(leader);
  if (leader && !was) {
    spdlog::info("operator: leading; reconciling every profile");
    EnqueueAllProfiles();
  } else if (!leader && was) {
    spdlog::warn("operator: lost leadership; reconciles paused");
  }
}

void Controller::EnqueueAllProfiles() {
  if (!profiles_) return;
  for (const auto& o : profiles_->List()) queue_.Add(kube::ObjectKey(*o));
}

void Controller::Start() {
  if (started_.exchange(true)) return;
  profiles_->Start();
  for (auto& i : owned_) i->Start();
  services_->Start();
  if (elector_) elector_->Start();
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers_.emplace_back([this](std::stop_token stop) { Worker(stop); });
  }
}

void Controller::Stop() {
  if (stopped_.exchange(true)) return;
  if (elector_) elector_->Stop();
  queue_.ShutDown();
  for (auto& w : workers_) {
    w.request_stop();
    if (w.joinable()) w.join();
  }
  workers_.clear();
  reconciler_.UseCache(nullptr);
  for (auto& i : owned_) i->Stop();
  if (services_) services_->Stop();
  if (profiles_) profiles_->Stop();
}

bool Controller::Ready() const {
  if (!profiles_->HasSynced()) return false;
  for (const auto& i : owned_) {
    if (!i->HasSynced()) return false;
  }
  return services_->HasSynced();
}

void Controller::Worker(std::stop_token stop) {
  while (!stop.stop_requested()) {
    if (!leader_.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (queue_.ShuttingDown()) return;
      continue;
    }
    auto key = queue_.Get();
    if (!key) return;
    Handle(*key);
  }
}

bool Controller::ProcessNextItem() {
  if (!leader_.load()) return false;
  auto key = queue_.TryGet();
  if (!key) return false;
  Handle(*key);
  return true;
}

void Controller::Handle(const std::string& key) {
  if (!leader_.load()) {  // lost leadership between Get and now: leave the key for the next leader pass
    queue_.Done(key);
    queue_.AddAfter(key, std::chrono::milliseconds(1000));
    return;
  }
  const size_t slash = key.find('/');
  const std::string ns = slash == std::string::npos ? "" : key.substr(0, slash);
  const std::string name = slash == std::string::npos ? key : key.substr(slash + 1);
  const auto started = std::chrono::steady_clock::now();
  StatusOr<ReconcileResult> result = Status::Internal("reconciler threw");
  try {
    result = reconciler_.Reconcile(ns, name);
  } catch (const std::exception& e) {
    result = Status::Internal(std::string("reconcile of ") + key + " threw: " + e.what());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::string outcome;
  if (!result.ok()) {
    const auto delay = queue_.AddRateLimited(key);
    spdlog::error("reconcile {} failed (retry in {} ms): {}", key, delay.count(), result.status().message());
    outcome = "error";
  } else if (result->action == ReconcileResult::Action::kRequeue) {
    const auto delay = queue_.AddRateLimited(key);
    spdlog::info("reconcile {}: requeue in {} ms ({})", key, delay.count(), result->reason);
    outcome = "requeue";
  } else if (result->action == ReconcileResult::Action::kRequeueAfter) {
    queue_.Forget(key);
    queue_.AddAfter(key, result->after);
    outcome = "requeue";
  } else {
    queue_.Forget(key);
    outcome = "success";
  }
  if (options_.metrics != nullptr) options_.metrics->RecordReconcile(outcome, seconds);
  queue_.Done(key);
}

}  // namespace pipeguard::reconcilers
