#include "pipeguard/reconcilers/counting_kube_client.h"

namespace pipeguard::reconcilers {

void CountingKubeClient::Count(std::string_view verb, const kube::Resource& resource) {
  metrics_.RecordKubeRequest(verb, resource.DisplayName());
}

StatusOr<kube::Json> CountingKubeClient::Get(const kube::Resource& resource, std::string_view ns,
                                             std::string_view name) {
  Count("get", resource);
  return inner_.Get(resource, ns, name);
}

StatusOr<kube::ListPage> CountingKubeClient::List(const kube::Resource& resource, std::string_view ns,
                                                  const kube::ListOptions& options) {
  Count("list", resource);
  return inner_.List(resource, ns, options);
}

Status CountingKubeClient::Watch(const kube::Resource& resource, std::string_view ns, const kube::WatchOptions& options,
                                 const kube::WatchCallback& callback, std::stop_token stop) {
  Count("watch", resource);
  return inner_.Watch(resource, ns, options, callback, std::move(stop));
}

StatusOr<kube::Json> CountingKubeClient::Create(const kube::Resource& resource, std::string_view ns,
                                                const kube::Json& object) {
  Count("create", resource);
  return inner_.Create(resource, ns, object);
}

StatusOr<kube::Json> CountingKubeClient::Update(const kube::Resource& resource, std::string_view ns,
                                                const kube::Json& object, std::string_view subresource) {
  Count("update", resource);
  return inner_.Update(resource, ns, object, subresource);
}

StatusOr<kube::Json> CountingKubeClient::Apply(const kube::Resource& resource, std::string_view ns,
                                               std::string_view name, const kube::Json& object,
                                               const kube::ApplyOptions& options, std::string_view subresource) {
  Count("apply", resource);
  return inner_.Apply(resource, ns, name, object, options, subresource);
}

StatusOr<kube::Json> CountingKubeClient::Patch(const kube::Resource& resource, std::string_view ns,
                                               std::string_view name, kube::PatchType type, const kube::Json& patch,
                                               std::string_view subresource, std::string_view field_manager) {
  Count("patch", resource);
  return inner_.Patch(resource, ns, name, type, patch, subresource, field_manager);
}

Status CountingKubeClient::Delete(const kube::Resource& resource, std::string_view ns, std::string_view name,
                                  const kube::DeleteOptions& options) {
  Count("delete", resource);
  return inner_.Delete(resource, ns, name, options);
}

}  // namespace pipeguard::reconcilers
