#include "pipeguard/reconcilers/webhook_guard.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "pipeguard/desired/webhook_tamper.h"
#include "pipeguard/kube/errors.h"
#include "pipeguard/kube/resource.h"

namespace pipeguard::reconcilers {

using nlohmann::json;

namespace {

const kube::Resource& ResourceOf(const json& object) {
  return object.value("kind", "") == desired::kMutatingWebhookConfigurationKind
             ? kube::resources::MutatingWebhookConfigurations()
             : kube::resources::ValidatingWebhookConfigurations();
}

std::string NameOf(const json& object) { return object["metadata"].value("name", ""); }

constexpr std::string_view kPassKey = "webhook-configurations";  // the guard's one key: a pass over all of them

// The desired-state ConfigMap is read, never written: the cached copy serves until a write is about to follow.
bool NeverWritten(const std::optional<json>&) { return false; }

}  // namespace

WebhookGuard::WebhookGuard(kube::KubeClient& client, WebhookGuardOptions options, const kube::Clock& clock)
    : client_(client), options_(std::move(options)), clock_(clock), desired_(options_.desired) {
  std::vector<controller::Watch> watches;
  for (const json& desired : options_.desired) {
    watches.push_back(
        {.informer = {.resource = ResourceOf(desired), .field_selector = "metadata.name=" + NameOf(desired)},
         .keys = controller::ConstantKey(std::string(kPassKey))});
  }
  if (!options_.desired_configmap_name.empty()) {
    watches.push_back({.informer = {.resource = kube::resources::ConfigMaps(),
                                    .namespace_ = options_.desired_configmap_namespace,
                                    .field_selector = "metadata.name=" + options_.desired_configmap_name},
                       .keys = controller::NoKeys()});  // Helm writes the configurations right after it
  }
  auto pass = [this](const std::string&) -> StatusOr<controller::Result> {
    auto restored = CheckOnce();
    if (!restored.ok()) return restored.status();  // retried after retry_delay, doubling up to resync_period
    std::lock_guard lock(check_mu_);
    return controller::Result::RequeueAfter(recheck_after_ ? std::min(options_.resync_period, *recheck_after_)
                                                           : options_.resync_period);
  };
  loop_ = std::make_unique<controller::Controller>(
      client_, std::move(watches), pass,
      controller::Options{
          .name = "webhook guard",
          .workers = 1,
          .follow_leadership = !options_.leader,
          .standing_keys = {std::string(kPassKey)},
          .rate_limiter = {.base_delay = options_.retry_delay, .max_delay = options_.resync_period, .jitter = 0}},
      clock_);
}

WebhookGuard::~WebhookGuard() { Stop(); }

StatusOr<bool> WebhookGuard::RefreshDesired(bool live) {
  desired_from_cache_ = false;
  if (options_.desired_configmap_name.empty()) return true;
  const std::string where = options_.desired_configmap_namespace + "/" + options_.desired_configmap_name;
  auto cm =
      controller::ReadForDiff(client_, live ? nullptr : &loop_->cache(), kube::resources::ConfigMaps(),
                              options_.desired_configmap_namespace, options_.desired_configmap_name, NeverWritten);
  if (!cm.ok()) return cm.status();
  if (!cm->object || (*cm->object)["metadata"].contains("deletionTimestamp")) {
    spdlog::error(
        "webhook guard: the desired-state ConfigMap {} is gone (helm uninstall, or deleted): restoring nothing", where);
    return false;
  }
  desired_from_cache_ = cm->from_cache;
  const json data = cm->object->value("data", json::object());
  auto parsed = desired::ParseDesiredWebhookConfigurations(
      data.value(options_.desired_configmap_key, ""), "ConfigMap " + where + " key " + options_.desired_configmap_key);
  if (!parsed.ok()) {  // keep guarding what we had: a broken ConfigMap must not switch the guard off
    spdlog::error("webhook guard: {}; keeping the previous desired state", parsed.status().message());
    return true;
  }
  if (*parsed != desired_) {
    spdlog::info("webhook guard: desired state loaded from ConfigMap {} ({} configurations)", where, parsed->size());
    desired_ = std::move(parsed).value();
    desired_changed_at_ = clock_.Now();
  }
  return true;
}

StatusOr<int> WebhookGuard::CheckOnce() {
  std::lock_guard lock(check_mu_);
  recheck_after_.reset();
  auto present = RefreshDesired(/*live=*/false);
  if (!present.ok()) return present.status();
  if (!*present) return 0;
  std::vector<Check> checks = Observe();
  const bool writes = std::any_of(checks.begin(), checks.end(), [](const Check& c) { return !c.findings.empty(); });
  if (writes && desired_from_cache_) {
    // A write follows: the desired state is confirmed with the API server too (a helm upgrade or uninstall may be
    // further along than the cache); when it differs from the cached one, the configurations are judged again.
    const std::vector<json> cached = desired_;
    present = RefreshDesired(/*live=*/true);
    if (!present.ok()) return present.status();
    if (!*present) return 0;
    if (desired_ != cached) checks = Observe();
  }
  if (writes && desired_changed_at_) {
    const auto since = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now() - *desired_changed_at_);
    if (since < options_.upgrade_grace) {  // Helm may still be writing the configurations: judge them again later
      const auto left = options_.upgrade_grace - since;
      RecheckWithin(left);
      spdlog::info("webhook guard: desired state changed {} ms ago (helm upgrade): judging again in {} ms",
                   since.count(), left.count());
      for (Check& check : checks) check.findings.clear();
    }
  }
  int restored = 0;
  Status first = Status::Ok();
  for (const Check& check : checks) {
    Status s = check.error.ok() && !check.findings.empty() ? Restore(check) : check.error;
    if (s.ok() && !check.findings.empty()) ++restored;
    if (!s.ok() && first.ok()) first = s;
  }
  if (!first.ok()) return first;
  return restored;
}

std::vector<WebhookGuard::Check> WebhookGuard::Observe() {
  std::vector<Check> checks;
  for (const json& desired : desired_) {
    Check check{.desired = &desired};
    const std::string name = NameOf(desired);
    auto got = controller::ReadForDiff(client_, &loop_->cache(), ResourceOf(desired), "", name,
                                       [&](const std::optional<json>& observed) {
                                         return !desired::CompareWebhookConfiguration(desired, observed).empty();
                                       });
    if (!got.ok()) {
      check.error = got.status();
      checks.push_back(std::move(check));
      continue;
    }
    check.observed = std::move(got->object);
    const std::string key = desired.value("kind", "") + "/" + name;
    if (check.observed) {
      missing_since_.erase(key);
    } else {
      const auto now = clock_.Now();
      const auto since = missing_since_.emplace(key, now).first->second;
      const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - since);
      if (waited < options_.deletion_grace) {  // an uninstall deletes the ConfigMap within this time
        const auto left = options_.deletion_grace - waited;
        RecheckWithin(left);
        checks.push_back(std::move(check));
        continue;
      }
    }
    check.findings = desired::CompareWebhookConfiguration(desired, check.observed);
    checks.push_back(std::move(check));
  }
  return checks;
}

Status WebhookGuard::Restore(const Check& check) {
  const json& desired = *check.desired;
  const std::optional<json>& observed = check.observed;
  const std::vector<desired::WebhookFinding>& findings = check.findings;
  const kube::Resource& resource = ResourceOf(desired);
  const std::string kind = desired.value("kind", "");
  const std::string name = NameOf(desired);
  const std::string key = kind + "/" + name;
  const json restore = desired::RestoredWebhookConfiguration(desired, observed);
  auto written = observed ? client_.Update(resource, "", restore) : client_.Create(resource, "", restore);
  if (!written.ok()) {
    // AlreadyExists (recreated meanwhile) and Conflict (changed meanwhile): the informer event brings us back.
    return Status(written.status().code(), "restoring " + kind + " " + name + ": " + written.status().message());
  }
  restores_.fetch_add(1);
  missing_since_.erase(key);
  std::string summary;
  json changes = json::array();
  for (const auto& f : findings) {
    if (options_.metrics != nullptr) options_.metrics->RecordTamper(kind, desired::WebhookTamperLabel(f.change));
    changes.push_back(
        {{"change", desired::WebhookTamperLabel(f.change)}, {"webhook", f.webhook}, {"detail", f.detail}});
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
