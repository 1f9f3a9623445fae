#include "pipeguard/operator/object_cache.h"

#include "pipeguard/kube/client.h"

namespace pipeguard::reconcilers {

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
    return informer->Get(kube::ObjectKey(resource.namespaced ? ns : std::string_view(), name));
  }
  return std::nullopt;
}

}  // namespace pipeguard::reconcilers
