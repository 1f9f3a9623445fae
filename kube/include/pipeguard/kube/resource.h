// Addressing Kubernetes resources: a GroupVersionResource plus the facts needed to build request paths (namespaced
// or cluster-scoped) and to restore `kind`/`apiVersion` on LIST items (the API server omits them there).
#pragma once

#include <string>
#include <string_view>

namespace pipeguard::kube {

// A value type; cheap to copy. `group` is empty for the core ("legacy") API group.
struct Resource {
  std::string group;     // "" for core, "apps", "pipeguard.io", ...
  std::string version;   // "v1", "v1alpha1", ...
  std::string resource;  // plural, lower case: "pods", "pipelinesecurityprofiles"
  std::string kind;      // "Pod", "PipelineSecurityProfile"
  bool namespaced = true;

  // "v1" for core, otherwise "group/version".
  std::string ApiVersion() const;
  // "/api/v1" or "/apis/<group>/<version>".
  std::string GroupVersionPath() const;
  // The collection path: ".../namespaces/<ns>/<resource>" for a namespaced resource with a namespace, otherwise
  // ".../<resource>" (all namespaces, or a cluster-scoped resource; `ns` is ignored for cluster-scoped ones).
  std::string CollectionPath(std::string_view ns) const;
  // The object path, with an optional subresource ("status").
  std::string ObjectPath(std::string_view ns, std::string_view name, std::string_view subresource = {}) const;
  // "pods", "pipelinesecurityprofiles.pipeguard.io": how kubectl names a resource, for messages.
  std::string DisplayName() const;

  friend bool operator==(const Resource&, const Resource&) = default;
};

// The resources pipeguard uses. Each returns a reference to a process-lifetime constant.
namespace resources {
const Resource& Pods();
const Resource& ServiceAccounts();
const Resource& Services();
const Resource& Namespaces();
const Resource& ConfigMaps();
const Resource& Secrets();
const Resource& Events();  // events.k8s.io/v1
const Resource& Leases();  // coordination.k8s.io/v1
const Resource& NetworkPolicies();
const Resource& Roles();
const Resource& RoleBindings();
const Resource& ClusterRoles();
const Resource& ClusterRoleBindings();
const Resource& ValidatingWebhookConfigurations();
const Resource& MutatingWebhookConfigurations();
const Resource& CustomResourceDefinitions();
const Resource& PipelineSecurityProfiles();  // pipeguard.io/v1alpha1
const Resource& Deployments();               // apps/v1
const Resource& Jobs();                      // batch/v1
const Resource& CronJobs();                  // batch/v1
const Resource& SparkApplications();         // sparkoperator.k8s.io/v1beta2 (a CRD that may be absent)
const Resource& PolicyReports();             // wgpolicyk8s.io/v1alpha2
const Resource& ClusterPolicyReports();      // wgpolicyk8s.io/v1alpha2, cluster-scoped
}  // namespace resources

}  // namespace pipeguard::kube
