// CountingKubeClient: a KubeClient decorator that counts every request it forwards in
// pipeguard_operator_kube_requests_total{verb,resource} (metrics.h), so the operator's API-server cost (reads, and
// writes that must be zero in a steady-state resync) is observable. One call = one request (ListAll counts each
// page; a Watch counts once when it starts). Failed calls are counted too.
//
// Thread-safe as the wrapped client is. `inner` and `metrics` must outlive the decorator.
#pragma once

#include "pipeguard/kube/client.h"
#include "pipeguard/reconcilers/metrics.h"

namespace pipeguard::reconcilers {

class CountingKubeClient final : public kube::KubeClient {
 public:
  CountingKubeClient(kube::KubeClient& inner, OperatorMetrics& metrics) : inner_(inner), metrics_(metrics) {}

  StatusOr<kube::Json> Get(const kube::Resource& resource, std::string_view ns, std::string_view name) override;
  StatusOr<kube::ListPage> List(const kube::Resource& resource, std::string_view ns,
                                const kube::ListOptions& options) override;
  Status Watch(const kube::Resource& resource, std::string_view ns, const kube::WatchOptions& options,
               const kube::WatchCallback& callback, std::stop_token stop) override;
  StatusOr<kube::Json> Create(const kube::Resource& resource, std::string_view ns, const kube::Json& object) override;
  StatusOr<kube::Json> Update(const kube::Resource& resource, std::string_view ns, const kube::Json& object,
                              std::string_view subresource = {}) override;
  StatusOr<kube::Json> Apply(const kube::Resource& resource, std::string_view ns, std::string_view name,
                             const kube::Json& object, const kube::ApplyOptions& options,
                             std::string_view subresource = {}) override;
  StatusOr<kube::Json> Patch(const kube::Resource& resource, std::string_view ns, std::string_view name,
                             kube::PatchType type, const kube::Json& patch, std::string_view subresource = {},
                             std::string_view field_manager = {}) override;
  Status Delete(const kube::Resource& resource, std::string_view ns, std::string_view name,
                const kube::DeleteOptions& options = {}) override;

 private:
  void Count(std::string_view verb, const kube::Resource& resource);

  kube::KubeClient& inner_;
  OperatorMetrics& metrics_;
};

}  // namespace pipeguard::reconcilers
