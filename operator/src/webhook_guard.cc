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
    : client_(client), options_(std::move(options)), clock_(clock), leader_(options_.leader) {
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
    if (restored.ok()) {
      failures = 0;
      continue;
    }
    wait = std::min(options_.resync_period, options_.retry_delay * (1 << std::min(failures, 10)));
    ++failures;
    spdlog::error("webhook guard: {} (retry in {} ms)", restored.status().message(), wait.count());
  }
}

StatusOr<int> WebhookGuard::CheckOnce() {
  int restored = 0;
  Status first = Status::Ok();
  for (const json& desired : options_.desired) {
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
