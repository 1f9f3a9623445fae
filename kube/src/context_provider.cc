#include "pipeguard/kube/context_provider.h"

#include <spdlog/spdlog.h>

#include <set>

namespace pipeguard::kube {

KubeContextProvider::KubeContextProvider(KubeClient& client, KubeContextOptions options)
    : client_(client), options_(std::move(options)) {
  initial_status_ = Publish(policy::ContextSnapshotBuilder(options_.config).Build());
  if (!initial_status_.ok()) spdlog::error("kube: context: {}", initial_status_.message());
}

StatusOr<std::unique_ptr<KubeContextProvider>> KubeContextProvider::Create(KubeClient& client,
                                                                           KubeContextOptions options) {
  auto provider = std::make_unique<KubeContextProvider>(client, std::move(options));
  if (!provider->initial_status_.ok()) return provider->initial_status_;
  return provider;
}

Status KubeContextProvider::Publish(std::shared_ptr<const policy::ContextSnapshot> snapshot) {
  if (options_.prepare) {
    if (Status prepared = options_.prepare(snapshot); !prepared.ok()) return prepared;
  }
  current_.store(std::move(snapshot));
  return Status::Ok();
}

KubeContextProvider::~KubeContextProvider() { Stop(); }

void KubeContextProvider::MarkDirty() {
  std::lock_guard lock(mu_);
  dirty_ = true;
  cv_.notify_all();
}

void KubeContextProvider::Start() {
  if (!informers_.empty()) return;
  InformerHandlers handlers;
  handlers.on_add = [this](const ObjectPtr&) { MarkDirty(); };
  handlers.on_update = [this](const ObjectPtr&, const ObjectPtr&) { MarkDirty(); };
  handlers.on_delete = [this](const ObjectPtr&) { MarkDirty(); };
  handlers.on_synced = [this] { MarkDirty(); };
  for (const Resource* r : {&resources::PipelineSecurityProfiles(), &resources::Namespaces(),
                            &resources::ServiceAccounts(), &resources::Roles(), &resources::ClusterRoles(),
                            &resources::RoleBindings(), &resources::ClusterRoleBindings()}) {
    InformerOptions io;
    io.resource = *r;
    io.watch_timeout_seconds = options_.watch_timeout_seconds;
    io.transform = StripManagedFields;  // the snapshot builder never reads it; keeps the webhook's caches small
    informers_.push_back(std::make_unique<Informer>(client_, io, handlers));
  }
  InformerOptions cm;
  cm.resource = resources::ConfigMaps();
  cm.watch_timeout_seconds = options_.watch_timeout_seconds;
  cm.transform = [](Json& object) {
    StripManagedFields(object);
    object.erase("binaryData");  // no rule reads binary files
  };
  InformerHandlers cm_handlers;
  cm_handlers.on_synced = [this] { MarkDirty(); };  // readiness waits for it; its changes need no new snapshot
  config_maps_ = std::make_unique<Informer>(client_, cm, cm_handlers);
  build_thread_ = std::jthread([this](std::stop_token stop) { BuildLoop(stop); });
  for (auto& informer : informers_) informer->Start();
  config_maps_->Start();
}

std::shared_ptr<const nlohmann::json> KubeContextProvider::ConfigMap(const std::string& ns,
                                                                     const std::string& name) const {
  if (config_maps_ == nullptr) return nullptr;
  return config_maps_->Get(ns + "/" + name);
}

void KubeContextProvider::Stop() {
  for (auto& informer : informers_) informer->Stop();
  if (config_maps_ != nullptr) config_maps_->Stop();
  if (build_thread_.joinable()) {
    build_thread_.request_stop();
    {
      std::lock_guard lock(mu_);
      cv_.notify_all();
    }
    build_thread_.join();
  }
}

bool KubeContextProvider::WaitReady(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return ready_.load(); });
}

void KubeContextProvider::BuildLoop(std::stop_token stop) {
  auto last_build = std::chrono::steady_clock::time_point();
  std::set<std::string> reported;
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (!cv_.wait(lock, stop, [this] { return dirty_; })) return;
      // Debounce: at most one build per `debounce`; changes arriving meanwhile join this build.
      const auto earliest = last_build + options_.debounce;
      if (std::chrono::steady_clock::now() < earliest) {
        cv_.wait_until(lock, stop, earliest, [] { return false; });
        if (stop.stop_requested()) return;
      }
      dirty_ = false;
    }
    last_build = std::chrono::steady_clock::now();

    const bool all_synced =
        std::all_of(informers_.begin(), informers_.end(), [](const auto& i) { return i->HasSynced(); }) &&
        config_maps_->HasSynced();
    policy::ContextSnapshotBuilder builder(options_.config);
    std::set<std::string> errors;
    for (const auto& informer : informers_) {
      for (const auto& object : informer->List()) {
        auto added = builder.Add(*object);
        if (!added.ok()) errors.insert(added.status().message());
      }
    }
    if (Status published = Publish(std::move(builder).Build()); !published.ok()) {
      // The previous snapshot stays; the next change retries.
      spdlog::error("kube: context: new snapshot rejected, keeping the previous one: {}", published.message());
      if (options_.on_error) options_.on_error(published);
      continue;
    }
    const uint64_t builds = ++builds_;
    for (const auto& message : errors) {
      if (reported.count(message) != 0) continue;  // reported once while it persists
      spdlog::warn("kube: context: object left out of the snapshot: {}", message);
      if (options_.on_error) options_.on_error(Status::InvalidArgument(message));
    }
    reported = std::move(errors);
    if (all_synced && !ready_.load()) {
      std::lock_guard lock(mu_);
      ready_.store(true);
      cv_.notify_all();
    }
    if (options_.on_rebuilt) options_.on_rebuilt(builds);
  }
}

}  // namespace pipeguard::kube
