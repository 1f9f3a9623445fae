#include "pipeguard/reconcilers/profile_controller.h"

#include "pipeguard/kube/resource.h"
#include "pipeguard/profile/profile.h"

namespace pipeguard::reconcilers {
namespace {

namespace res = kube::resources;

std::vector<controller::Watch> ProfileWatches(const ProfileControllerOptions& options) {
  std::vector<controller::Watch> watches;
  watches.push_back({.informer = {.resource = res::PipelineSecurityProfiles(), .namespace_ = options.namespace_},
                     .keys = controller::ObjectKeys(),
                     .primary = true});
  for (const kube::Resource* owned : {&res::ServiceAccounts(), &res::NetworkPolicies()}) {
    watches.push_back({.informer = {.resource = *owned,
                                    .namespace_ = options.namespace_,
                                    .label_selector = options.owned_label_selector},
                       .keys = controller::ControllerOwnerKeys("pipeguard.io", std::string(api::kProfileKind))});
  }
  // Services named by egress rules (unfiltered: they are not ours): a change re-reconciles every profile that names
  // the Service (its selector and ports shape the NetworkPolicy), and the reconciler resolves them from this cache.
  watches.push_back({.informer = {.resource = res::Services(), .namespace_ = options.namespace_},
                     .keys = [](const kube::ObjectPtr& service, const controller::InformerCache& cache) {
                       return ProfilesNamingService(cache.List(res::PipelineSecurityProfiles()), *service);
                     }});
  return watches;
}

controller::Options LoopOptions(const ProfileControllerOptions& options) {
  return {.name = "operator",
          .workers = options.workers,
          .resync_period = options.resync_period,
          .leader_election = options.leader_election,
          .rate_limiter = options.rate_limiter,
          .metrics = options.metrics};
}

}  // namespace

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

ProfileController::ProfileController(kube::KubeClient& client, Reconciler& reconciler, ProfileControllerOptions options,
                                     const kube::Clock& clock)
    : reconciler_(reconciler),
      loop_(
          client, ProfileWatches(options),
          [&reconciler](const std::string& key) -> StatusOr<ReconcileResult> {
            const size_t slash = key.find('/');
            if (slash == std::string::npos) return reconciler.Reconcile("", key);
            return reconciler.Reconcile(key.substr(0, slash), key.substr(slash + 1));
          },
          LoopOptions(options), clock) {
  reconciler_.UseCache(&loop_.cache());
}

ProfileController::~ProfileController() { Stop(); }

void ProfileController::Stop() {
  loop_.Stop();
  reconciler_.UseCache(nullptr);
}

}  // namespace pipeguard::reconcilers
