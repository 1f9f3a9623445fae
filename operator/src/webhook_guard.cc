#include "pipeguard/operator/webhook_guard.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "pipeguard/kube/errors.h"
#include "pipeguard/kube/resource.h"
#include "pipeguard/operator/webhook_tamper.h"

namespace pipeguard::reconcilers {

using nlohmann::json;

namespace {

const kube::Resource& ResourceOf(const json& object) {
  return object.value("kind", "") == kMutatingWebhookConfigurationKind
             ? kube::resources::MutatingWebhookConfigurations()
             : kube::resources::ValidatingWebhookConfigurations();
}

std::string NameOf(const json& object) { return object["metadata"].value("name", ""); }

}  // namespace

WebhookGuard::WebhookGuard(kube::KubeClient& client, WebhookGuardOptions options, const kube::Clock& clock)
    : client_(client),
      options_(std::move(options)),
      clock_(clock),
      leader_(options_.leader),
      desired_(options_.desired) {
  kube::InformerHandlers handlers;
  handlers.on_add = [this](const kube::ObjectPtr&) { Wake(); };
  handlers.on_update = [this](const kube::ObjectPtr&, const kube::ObjectPtr&) { Wake(); };
  handlers.on_delete = [this](const kube::ObjectPtr&) { Wake(); };
  for (const json& desired : options_.desired) {
    kube::InformerOptions o;
    o.resource = ResourceOf(desired);
    o.field_selector = "metadata.name=" + NameOf(desired);
    informers_.push_back(std::make_unique<kube::Informer>(client_, o, handlers));
  }
}

WebhookGuard::~WebhookGuard() { Stop(); }

void WebhookGuard::Start() {
  if (started_.exchange(true)) return;
  for (auto& i : informers_) i->Start();
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

void WebhookGuard::Stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    cv_.notify_all();
    thread_.join();
  }
  for (auto& i : informers_) i->Stop();
}

void WebhookGuard::SetLeader(bool leader) {
  const bool was = leader_.exchange(leader);
  if (leader && !was) Wake();
}

bool WebhookGuard::Ready() const {
  for (const auto& i : informers_) {
    if (!i->HasSynced()) return false;
  }
  return true;
}

void WebhookGuard::Wake() {
  {
    std::lock_guard lock(mu_);
    pending_ = true;
  }
  cv_.notify_all();
}

void WebhookGuard::Run(std::stop_token stop) {
  auto wait = options_.resync_period;
  int failures = 0;  // consecutive failed passes: the retry delay doubles, up to the resync period
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, stop, wait, [this] { return pending_; });
      if (stop.stop_requested()) return;
      pending_ = false;
    }
    wait = options_.resync_period;
    if (!leader_.load()) continue;
    auto restored = CheckOnce();
    {
      std::lock_guard lock(check_mu_);
      if (recheck_after_) wait = std::min(wait, *recheck_after_);
    }
    if (restored.ok()) {
      failures = 0;
      continue;
    }
    wait = std::min(options_.resync_period, options_.retry_delay * (1 << std::min(failures, 10)));
    ++failures;
    spdlog::error("webhook guard: {} (retry in {} ms)", restored.status().message(), wait.count());
  }
}

StatusOr<bool> WebhookGuard::RefreshDesired() {
  if (options_.desired_configmap_name.empty()) return true;
  const std::string where = options_.desired_configmap_namespace + "/" + options_.desired_configmap_name;
  auto cm =
      client_.Get(kube::resources::ConfigMaps(), options_.desired_configmap_namespace, options_.desired_configmap_name);
  if (!cm.ok() && !kube::IsNotFound(cm.status())) return cm.status();
  if (!cm.ok() || (*cm)["metadata"].contains("deletionTimestamp")) {
    spdlog::error(
        "webhook guard: the desired-state ConfigMap {} is gone (helm uninstall, or deleted): restoring nothing", where);
    return false;
  }
  const json data = cm->value("data", json::object());
  auto parsed = ParseDesiredWebhookConfigurations(data.value(options_.desired_configmap_key, ""),
                                                  "ConfigMap " + where + " key " + options_.desired_configmap_key);
  if (!parsed.ok()) {  // keep guarding what we had: a broken ConfigMap must not switch the guard off
    spdlog::error("webhook guard: {}; keeping the previous desired state", parsed.status().message());
    return true;
  }
  if (*parsed != desired_) {
    spdlog::info("webhook guard: desired state loaded from ConfigMap {} ({} configurations)", where, parsed->size());
    desired_ = std::move(parsed).value();
  }
  return true;
}

StatusOr<int> WebhookGuard::CheckOnce() {
  std::lock_guard lock(check_mu_);
  recheck_after_.reset();
  auto present = RefreshDesired();
  if (!present.ok()) return present.status();
  if (!*present) return 0;
  int restored = 0;
  Status first = Status::Ok();
  for (const json& desired : desired_) {
    bool did = false;
    Status s = CheckOne(desired, &did);
    if (did) ++restored;
    if (!s.ok() && first.ok()) first = s;
  }
  if (!first.ok()) return first;
  return restored;
}

Status WebhookGuard::CheckOne(const json& desired, bool* restored) {
  *restored = false;
  const kube::Resource& resource = ResourceOf(desired);
  const std::string kind = desired.value("kind", "");
  const std::string name = NameOf(desired);
  std::optional<json> observed;
  auto got = client_.Get(resource, "", name);
  if (got.ok()) {
    observed = std::move(got).value();
  } else if (!kube::IsNotFound(got.status())) {
    return got.status();
  }
  const std::string key = kind + "/" + name;
  if (observed) {
    missing_since_.erase(key);
  } else {
    const auto now = clock_.Now();
    const auto since = missing_since_.emplace(key, now).first->second;
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - since);
    if (waited < options_.deletion_grace) {  // an uninstall deletes the ConfigMap within this time
      const auto left = options_.deletion_grace - waited;
      recheck_after_ = recheck_after_ ? std::min(*recheck_after_, left) : left;
      return Status::Ok();
    }
  }
  const std::vector<WebhookFinding> findings = CompareWebhookConfiguration(desired, observed);
  if (findings.empty()) return Status::Ok();

  const json restore = RestoredWebhookConfiguration(desired, observed);
  auto written = observed ? client_.Update(resource, "", restore) : client_.Create(resource, "", restore);
  if (!written.ok()) {
    // AlreadyExists (recreated meanwhile) and Conflict (changed meanwhile): the informer event brings us back.
    return Status(written.status().code(), "restoring " + kind + " " + name + ": " + written.status().message());
  }
  *restored = true;
  restores_.fetch_add(1);
  missing_since_.erase(key);

  std::string summary;
  json changes = json::array();
  for (const auto& f : findings) {
    if (options_.metrics != nullptr) options_.metrics->RecordTamper(kind, WebhookTamperLabel(f.change));
    changes.push_back({{"change", WebhookTamperLabel(f.change)}, {"webhook", f.webhook}, {"detail", f.detail}});
    if (!summary.empty()) summary += "; ";
    summary += f.detail;
  }
  // One error-level line per restore: the alert's evidence. Details name fields, never the caBundle.
  spdlog::error("{}", json{{"audit", "webhook_configuration_tampered"},
                           {"kind", kind},
                           {"name", name},
                           {"action", observed ? "updated" : "recreated"},
                           {"changes", changes}}
                          .dump());

  kube::EventSpec event;
  event.regarding = *written;
  event.type = "Warning";
  event.reason = "WebhookConfigurationTampered";
  event.action = observed ? "Restore" : "Recreate";
  event.note = kind + " " + name + " differed from the desired state and was restored: " + summary;
  event.reporting_instance = options_.reporting_instance;
  event.namespace_ = options_.event_namespace;
  if (auto e = kube::CreateEvent(client_, event, clock_); !e.ok()) {
    spdlog::warn("webhook guard: cannot record the tamper Event for {} {}: {}", kind, name, e.status().message());
  }
  return Status::Ok();
}

}  // namespace pipeguard::reconcilers
