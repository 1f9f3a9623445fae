// ObjectCache: read access to informer caches for a reconciler's diffs (client-go's listers), so that a
// steady-state reconcile of a converged object reads nothing from the API server.
//
// Contract for readers: a cached object may be stale (the informer has not seen the latest write yet). A reconciler
// may therefore decide "nothing to do" from the cache, but before any write it re-reads the object from the API
// server and diffs again; a change the cache has not seen yet arrives as an informer event, which enqueues the key
// again. Cached objects are shared and must not be modified. ReadForDiff and ConfirmLive below are that rule,
// written once: every reconciler reads through them.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/kube/client.h"
#include "pipeguard/kube/informer.h"
#include "pipeguard/kube/resource.h"

namespace pipeguard::controller {

class ObjectCache {
 public:
  virtual ~ObjectCache() = default;
  // std::nullopt: no synced cache covers `resource` in `ns` (read the API server instead). Otherwise the cached
  // object, or nullptr when the cache does not hold it (absent, or outside the informer's label or field selector:
  // callers confirm an absence with the API server before creating). Thread-safe, never blocks on the network.
  virtual std::optional<kube::ObjectPtr> Lookup(const kube::Resource& resource, std::string_view ns,
                                                std::string_view name) const = 0;
};

// An ObjectCache over a set of informers. An informer covers (resource, ns, name) when its resource matches (group
// and plural), its namespace is "" or `ns`, its field selector is not "metadata.name=" another name, and it has
// synced. Informers are registered before use and must outlive
// the cache's use. Thread-safe.
class InformerCache final : public ObjectCache {
 public:
  void Add(const kube::Informer* informer);
  std::optional<kube::ObjectPtr> Lookup(const kube::Resource& resource, std::string_view ns,
                                        std::string_view name) const override;
  // Every object the informers of `resource` hold (synced or not), e.g. to map an event to the keys that depend
  // on it.
  std::vector<kube::ObjectPtr> List(const kube::Resource& resource) const;

 private:
  mutable std::mutex mu_;
  std::vector<const kube::Informer*> informers_;
};

// An object as read for a diff. `object` empty: it does not exist (as far as the source knows).
struct Observed {
  std::optional<kube::Json> object;
  bool from_cache = false;  // read from an informer cache, so possibly stale: never write on it
};

// Says whether `observed` (empty: the object does not exist) differs from what the reconciler wants, i.e. whether
// a write would follow.
using NeedsWrite = std::function<bool(const std::optional<kube::Json>& observed)>;

// The read before a diff: `resource` ns/name from `cache` when a synced cache holds it (`cache` may be null), then
// ConfirmLive. A cache miss is read from the API server (the object may be new, or outside the informer's
// selector). NotFound from the API server is an empty Observed; other errors are returned.
StatusOr<Observed> ReadForDiff(kube::KubeClient& client, const ObjectCache* cache, const kube::Resource& resource,
                               std::string_view ns, std::string_view name, const NeedsWrite& needs_write);

// The confirmation before a write: when `seen` came from a cache and `needs_write(seen.object)`, the object is read
// again from the API server (and returned with from_cache false); otherwise `seen` is returned as it is. So a write
// is always decided on the live object, and a converged object costs no API call.
StatusOr<Observed> ConfirmLive(kube::KubeClient& client, Observed seen, const kube::Resource& resource,
                               std::string_view ns, std::string_view name, const NeedsWrite& needs_write);

}  // namespace pipeguard::controller
