#include "pipeguard/kube/informer.h"

#include <spdlog/spdlog.h>

#include "pipeguard/kube/errors.h"

namespace pipeguard::kube {

void StripManagedFields(Json& object) {
  auto meta = object.find("metadata");
  if (meta != object.end() && meta->is_object()) meta->erase("managedFields");
}

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, uint64_t seed)
    : initial_(std::max(initial, std::chrono::milliseconds(1))), max_(std::max(max, initial_)), rng_(seed) {}

std::chrono::milliseconds Backoff::Next() {
  int64_t d = initial_.count();
  for (int i = 0; i < attempt_ && d < max_.count(); ++i) d *= 2;
  d = std::min<int64_t>(d, max_.count());
  if (attempt_ < 62) ++attempt_;
  std::uniform_int_distribution<int64_t> jitter(d / 2, d);
  return std::chrono::milliseconds(jitter(rng_));
}

struct Informer::Notification {
  enum Kind { kAdd, kUpdate, kDelete, kResync } kind;
  ObjectPtr old_object;
  ObjectPtr object;
};

Informer::Informer(KubeClient& client, InformerOptions options, InformerHandlers handlers)
    : client_(client), options_(std::move(options)), handlers_(std::move(handlers)) {}

Informer::~Informer() { Stop(); }

void Informer::Start() {
  std::lock_guard lock(lifecycle_mu_);
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
  if (options_.resync_period.count() > 0) {
    resync_thread_ = std::jthread([this](std::stop_token stop) { RunResync(stop); });
  }
}

void Informer::Stop() {
  std::lock_guard lock(lifecycle_mu_);
  for (std::jthread* t : {&thread_, &resync_thread_}) {
    if (!t->joinable()) continue;
    t->request_stop();
    {
      std::lock_guard sleep_lock(sleep_mu_);
      sleep_cv_.notify_all();
    }
    t->join();
  }
}

bool Informer::WaitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return synced_cv_.wait_for(lock, timeout, [this] { return synced_.load(); });
}

ObjectPtr Informer::Get(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = store_.find(key);
  return it == store_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Informer::List() const {
  std::lock_guard lock(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(store_.size());
  for (const auto& [key, object] : store_) out.push_back(object);
  return out;
}

size_t Informer::Size() const {
  std::lock_guard lock(mu_);
  return store_.size();
}

std::string Informer::LastResourceVersion() const {
  std::lock_guard lock(mu_);
  return resource_version_;
}

InformerStats Informer::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

bool Informer::SleepFor(std::chrono::milliseconds d, const std::stop_token& stop) {
  std::unique_lock lock(sleep_mu_);
  sleep_cv_.wait_for(lock, stop, d, [] { return false; });
  return !stop.stop_requested();
}

void Informer::Dispatch(std::vector<Notification>& notifications) {
  if (notifications.empty()) return;
  std::lock_guard lock(dispatch_mu_);
  for (auto& n : notifications) {
    switch (n.kind) {
      case Notification::kAdd:
        if (handlers_.on_add) handlers_.on_add(n.object);
        break;
      case Notification::kUpdate:
        if (handlers_.on_update) handlers_.on_update(n.old_object, n.object);
        break;
      case Notification::kDelete:
        if (handlers_.on_delete) handlers_.on_delete(n.object);
        break;
      case Notification::kResync:
        if (handlers_.on_resync) handlers_.on_resync(n.object);
        break;
    }
  }
  notifications.clear();
}

Status Informer::ListAndReplace(std::stop_token stop) {
  ListOptions list_options;
  list_options.label_selector = options_.label_selector;
  list_options.field_selector = options_.field_selector;
  list_options.limit = options_.page_size;
  auto listed = client_.ListAll(options_.resource, options_.namespace_, list_options);
  if (!listed.ok()) return listed.status();
  if (stop.stop_requested()) return Status::Ok();

  std::map<std::string, ObjectPtr> fresh;
  for (auto& item : listed->items) {
    if (options_.transform) options_.transform(item);
    std::string key = ObjectKey(item);
    fresh.emplace(std::move(key), std::make_shared<const Json>(std::move(item)));
  }
  std::vector<Notification> notifications;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, object] : store_) {
      if (fresh.count(key) == 0) notifications.push_back({Notification::kDelete, nullptr, object});
    }
    for (const auto& [key, object] : fresh) {
      auto it = store_.find(key);
      if (it == store_.end()) {
        notifications.push_back({Notification::kAdd, nullptr, object});
      } else if (ResourceVersionOf(*it->second) != ResourceVersionOf(*object)) {
        notifications.push_back({Notification::kUpdate, it->second, object});
      }
    }
    store_ = std::move(fresh);
    resource_version_ = listed->resource_version;
    ++stats_.lists;
    synced_.store(true);
  }
  synced_cv_.notify_all();
  Dispatch(notifications);
  if (handlers_.on_synced) {
    std::lock_guard lock(dispatch_mu_);
    handlers_.on_synced();
  }
  return Status::Ok();
}

Status Informer::WatchOnce(std::stop_token stop, bool* gone) {
  *gone = false;
  WatchOptions watch_options;
  watch_options.resource_version = LastResourceVersion();
  watch_options.allow_bookmarks = true;
  watch_options.label_selector = options_.label_selector;
  watch_options.field_selector = options_.field_selector;
  watch_options.timeout_seconds = options_.watch_timeout_seconds;
  {
    std::lock_guard lock(mu_);
    ++stats_.watches;
  }
  Status event_error;
  std::vector<Notification> notifications;
  auto on_event = [&](WatchEvent&& event) -> bool {
    if (event.type == WatchEventType::kError) {
      event_error = StatusFromApiStatus(event.object, 500, "WATCH " + options_.resource.DisplayName());
      return false;
    }
    const std::string rv = ResourceVersionOf(event.object);
    if (event.type == WatchEventType::kBookmark) {
      std::lock_guard lock(mu_);
      if (!rv.empty()) resource_version_ = rv;
      return true;
    }
    if (options_.transform) options_.transform(event.object);
    const std::string key = ObjectKey(event.object);
    auto object = std::make_shared<const Json>(std::move(event.object));
    {
      std::lock_guard lock(mu_);
      ++stats_.events;
      if (!rv.empty()) resource_version_ = rv;
      auto it = store_.find(key);
      if (event.type == WatchEventType::kDeleted) {
        if (it != store_.end()) {
          store_.erase(it);
          notifications.push_back({Notification::kDelete, nullptr, object});
        }
      } else if (it == store_.end()) {
        store_.emplace(key, object);
        notifications.push_back({Notification::kAdd, nullptr, object});
      } else {
        notifications.push_back({Notification::kUpdate, it->second, object});
        it->second = object;
      }
    }
    Dispatch(notifications);
    return !stop.stop_requested();
  };
  Status s = client_.Watch(options_.resource, options_.namespace_, watch_options, on_event, stop);
  if (s.ok()) s = event_error;
  *gone = IsGone(s);
  return s;
}

void Informer::Run(std::stop_token stop) {
  Backoff backoff(options_.backoff_initial, options_.backoff_max,
                  options_.seed != 0 ? options_.seed : std::random_device{}());
  bool need_list = true;
  int consecutive_gone = 0;
  const std::string what =
      options_.resource.DisplayName() + (options_.namespace_.empty() ? "" : " in namespace " + options_.namespace_);
  while (!stop.stop_requested()) {
    if (need_list) {
      Status s = ListAndReplace(stop);
      if (!s.ok()) {
        {
          std::lock_guard lock(mu_);
          ++stats_.errors;
        }
        const auto delay = backoff.Next();
        spdlog::warn("kube: informer for {}: list failed, retrying in {} ms: {}", what, delay.count(), s.message());
        if (!SleepFor(delay, stop)) break;
        continue;
      }
      need_list = false;
      backoff.Reset();
    }
    bool gone = false;
    const uint64_t events_before = Stats().events;
    const auto watch_started = std::chrono::steady_clock::now();
    Status s = WatchOnce(stop, &gone);
    if (stop.stop_requested()) break;
    const bool saw_events = Stats().events > events_before;
    if (gone) {
      {
        std::lock_guard lock(mu_);
        ++stats_.gone;
      }
      need_list = true;
      spdlog::info("kube: informer for {}: resourceVersion expired (410), relisting", what);
      // 410 right after a fresh list means the server cannot serve that version yet: pace the relists.
      if (!saw_events && consecutive_gone++ > 0 && !SleepFor(backoff.Next(), stop)) break;
      continue;
    }
    consecutive_gone = 0;
    if (saw_events) backoff.Reset();
    if (s.ok() && !saw_events && std::chrono::steady_clock::now() - watch_started < std::chrono::seconds(1)) {
      // A stream that ends at once without events would otherwise spin; pace it like an error.
      if (!SleepFor(backoff.Next(), stop)) break;
      continue;
    }
    if (!s.ok()) {
      {
        std::lock_guard lock(mu_);
        ++stats_.errors;
      }
      const auto delay = backoff.Next();
      spdlog::warn("kube: informer for {}: watch failed, resuming in {} ms: {}", what, delay.count(), s.message());
      if (!SleepFor(delay, stop)) break;
    }
    // A watch that ended normally (server timeout, dropped stream) resumes at once from the last resourceVersion.
  }
}

void Informer::RunResync(std::stop_token stop) {
  while (SleepFor(options_.resync_period, stop)) {
    if (!HasSynced()) continue;
    std::vector<Notification> notifications;
    for (auto& object : List()) notifications.push_back({Notification::kResync, nullptr, std::move(object)});
    Dispatch(notifications);
  }
}

}  // namespace pipeguard::kube
