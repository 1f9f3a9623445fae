#include "pipeguard/controller/controller.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace pipeguard::controller {

KeysFor ObjectKeys() {
  return [](const kube::ObjectPtr& object, const InformerCache&) {
    return std::vector<std::string>{kube::ObjectKey(*object)};
  };
}

KeysFor ControllerOwnerKeys(std::string group, std::string kind) {
  return [group = std::move(group), kind = std::move(kind)](const kube::ObjectPtr& object, const InformerCache&) {
    std::vector<std::string> keys;
    const kube::Json& o = *object;
    if (!o.is_object() || !o.contains("metadata") || !o["metadata"].is_object()) return keys;
    const auto& meta = o["metadata"];
    const std::string ns = meta.value("namespace", "");
    const kube::Json refs = meta.value("ownerReferences", kube::Json::array());
    if (!refs.is_array()) return keys;
    for (const auto& ref : refs) {
      if (!ref.is_object()) continue;
      const std::string api_version = ref.value("apiVersion", "");
      if (ref.value("kind", "") == kind && api_version.rfind(group + "/", 0) == 0 && ref.value("controller", false) &&
          ref.contains("name") && ref["name"].is_string()) {
        keys.push_back(kube::ObjectKey(ns, ref["name"].get<std::string>()));
        break;
      }
    }
    return keys;
  };
}

KeysFor ConstantKey(std::string key) {
  return [key = std::move(key)](const kube::ObjectPtr&, const InformerCache&) { return std::vector<std::string>{key}; };
}

KeysFor NoKeys() {
  return [](const kube::ObjectPtr&, const InformerCache&) { return std::vector<std::string>(); };
}

Controller::Controller(kube::KubeClient& client, std::vector<Watch> watches, ReconcileFunc reconcile, Options options,
                       const kube::Clock& clock)
    : client_(client),
      watches_(std::move(watches)),
      reconcile_(std::move(reconcile)),
      options_(std::move(options)),
      clock_(clock),
      queue_(clock, options_.rate_limiter) {
  for (const Watch& watch : watches_) {
    kube::InformerHandlers handlers;
    auto offer = [this, &watch](const kube::ObjectPtr& o) { Offer(watch, o); };
    handlers.on_add = offer;
    handlers.on_update = [offer, &watch](const kube::ObjectPtr& old_object, const kube::ObjectPtr& o) {
      if (!watch.update_matters || watch.update_matters(*old_object, *o)) offer(o);
    };
    handlers.on_delete = offer;
    kube::InformerOptions informer = watch.informer;
    if (watch.primary) {
      handlers.on_resync = offer;
      informer.resync_period = options_.resync_period;
    }
    if (!informer.transform) informer.transform = kube::StripManagedFields;  // no reader needs it: smaller caches
    informers_.push_back(std::make_unique<kube::Informer>(client_, informer, handlers));
    cache_.Add(informers_.back().get());
  }

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
  } else if (!options_.follow_leadership) {
    SetLeader(true);
  }
}

Controller::~Controller() { Stop(); }

void Controller::Offer(const Watch& watch, const kube::ObjectPtr& object) {
  for (const auto& key : watch.keys(object, cache_)) queue_.Add(key);
}

void Controller::SetLeader(bool leader) {
  const bool was = leader_.exchange(leader);
  if (options_.metrics != nullptr) options_.metrics->SetLeader(leader);
  if (leader && !was) {
    spdlog::info("{}: leading; reconciling everything", options_.name);
    EnqueueEverything();
  } else if (!leader && was) {
    spdlog::warn("{}: lost leadership; reconciles paused", options_.name);
  }
}

void Controller::EnqueueEverything() {
  for (const auto& key : options_.standing_keys) queue_.Add(key);
  for (size_t i = 0; i < watches_.size() && i < informers_.size(); ++i) {
    if (!watches_[i].primary) continue;
    for (const auto& o : informers_[i]->List()) Offer(watches_[i], o);
  }
}

void Controller::Start() {
  if (started_.exchange(true)) return;
  for (auto& i : informers_) i->Start();
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
  for (auto& i : informers_) i->Stop();
}

bool Controller::Ready() const {
  return std::all_of(informers_.begin(), informers_.end(), [](const auto& i) { return i->HasSynced(); });
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
  const auto started = std::chrono::steady_clock::now();
  StatusOr<Result> result = Status::Internal("reconciler threw");
  try {
    result = reconcile_(key);
  } catch (const std::exception& e) {
    result = Status::Internal(std::string("reconcile of ") + key + " threw: " + e.what());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::string_view outcome;
  if (!result.ok()) {
    const auto delay = queue_.AddRateLimited(key);
    spdlog::error("{}: reconcile {} failed (retry in {} ms): {}", options_.name, key, delay.count(),
                  result.status().message());
    outcome = "error";
  } else if (result->action == Result::Action::kRequeue) {
    const auto delay = queue_.AddRateLimited(key);
    spdlog::info("{}: reconcile {}: requeue in {} ms ({})", options_.name, key, delay.count(), result->reason);
    outcome = "requeue";
  } else if (result->action == Result::Action::kRequeueAfter) {
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

}  // namespace pipeguard::controller
