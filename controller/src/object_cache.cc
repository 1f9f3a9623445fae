#include "pipeguard/controller/object_cache.h"

#include "pipeguard/kube/errors.h"

namespace pipeguard::controller {
namespace {
constexpr std::string_view kNameSelector = "metadata.name=";
}  // namespace

void InformerCache::Add(const kube::Informer* informer) {
  std::lock_guard lock(mu_);
  informers_.push_back(informer);
}

std::optional<kube::ObjectPtr> InformerCache::Lookup(const kube::Resource& resource, std::string_view ns,
                                                     std::string_view name) const {
  std::lock_guard lock(mu_);
  for (const kube::Informer* informer : informers_) {
    const kube::Resource& r = informer->options().resource;
    if (r.group != resource.group || r.resource != resource.resource) continue;
    const std::string& covered = informer->options().namespace_;
    if (!covered.empty() && covered != ns) continue;
    if (!informer->HasSynced()) continue;
    // An informer restricted to one name (RBAC by resourceNames) holds nothing of any other name.
    if (const std::string& fs = informer->options().field_selector;
        fs.starts_with(kNameSelector) && std::string_view(fs).substr(kNameSelector.size()) != name) {
      continue;
    }
    return informer->Get(kube::ObjectKey(resource.namespaced ? ns : std::string_view(), name));
  }
  return std::nullopt;
}

std::vector<kube::ObjectPtr> InformerCache::List(const kube::Resource& resource) const {
  std::lock_guard lock(mu_);
  std::vector<kube::ObjectPtr> out;
  for (const kube::Informer* informer : informers_) {
    const kube::Resource& r = informer->options().resource;
    if (r.group != resource.group || r.resource != resource.resource) continue;
    for (auto& object : informer->List()) out.push_back(std::move(object));
  }
  return out;
}

namespace {
StatusOr<Observed> ReadLive(kube::KubeClient& client, const kube::Resource& resource, std::string_view ns,
                            std::string_view name) {
  auto got = client.Get(resource, ns, name);
  if (!got.ok()) {
    if (kube::IsNotFound(got.status())) return Observed{};
    return got.status();
  }
  return Observed{.object = std::move(got).value(), .from_cache = false};
}
}  // namespace

StatusOr<Observed> ReadForDiff(kube::KubeClient& client, const ObjectCache* cache, const kube::Resource& resource,
                               std::string_view ns, std::string_view name, const NeedsWrite& needs_write) {
  if (cache != nullptr) {
    if (auto cached = cache->Lookup(resource, ns, name); cached.has_value() && *cached != nullptr) {
      return ConfirmLive(client, Observed{.object = **cached, .from_cache = true}, resource, ns, name, needs_write);
    }
  }
  return ReadLive(client, resource, ns, name);  // a miss says nothing: the object may be new or outside the selector
}

StatusOr<Observed> ConfirmLive(kube::KubeClient& client, Observed seen, const kube::Resource& resource,
                               std::string_view ns, std::string_view name, const NeedsWrite& needs_write) {
  if (!seen.from_cache || !needs_write(seen.object)) return seen;
  return ReadLive(client, resource, ns, name);
}

}  // namespace pipeguard::controller
