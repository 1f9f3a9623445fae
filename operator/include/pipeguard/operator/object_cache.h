// ObjectCache: read access to informer caches for the reconciler's diffs (client-go's listers), so that a
// steady-state reconcile of a converged profile reads no Kubernetes object from the API server.
//
// Contract for readers: a cached object may be stale (the informer has not seen the latest write yet). A reconciler
// may therefore decide "nothing to do" from the cache, but before any write it re-reads the object from the API
// server and diffs again; a change the cache has not seen yet arrives as an informer event, which enqueues the
// profile again. Cached objects are shared and must not be modified.
#pragma once

#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "pipeguard/kube/informer.h"
#include "pipeguard/kube/resource.h"

namespace pipeguard::reconcilers {

class ObjectCache {
 public:
  virtual ~ObjectCache() = default;
  // std::nullopt: no synced cache covers `resource` in `ns` (read the API server instead). Otherwise the cached
  // object, or nullptr when the cache does not hold it (absent, or outside the informer's label selector: callers
  // confirm an absence with the API server before creating). Thread-safe, never blocks on the network.
  virtual std::optional<kube::ObjectPtr> Lookup(const kube::Resource& resource, std::string_view ns,
                                                std::string_view name) const = 0;
};

// An ObjectCache over a set of informers. An informer covers (resource, ns) when its resource matches (group and
// plural), its namespace is "" or `ns`, and it has synced. Informers are registered before use and must outlive
// the cache's use. Thread-safe.
class InformerCache final : public ObjectCache {
 public:
  void Add(const kube::Informer* informer);
  std::optional<kube::ObjectPtr> Lookup(const kube::Resource& resource, std::string_view ns,
                                        std::string_view name) const override;

 private:
  mutable std::mutex mu_;
  std::vector<const kube::Informer*> informers_;
};

}  // namespace pipeguard::reconcilers
