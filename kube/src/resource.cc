#include "pipeguard/kube/resource.h"

#include "pipeguard/http/url.h"

namespace pipeguard::kube {

std::string Resource::ApiVersion() const { return group.empty() ? version : group + "/" + version; }

std::string Resource::GroupVersionPath() const {
  return group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
}

std::string Resource::CollectionPath(std::string_view ns) const {
  std::string path = GroupVersionPath();
  if (namespaced && !ns.empty()) {
    path += "/namespaces/";
    path += http::PercentEncode(ns);
  }
  path += "/" + resource;
  return path;
}

std::string Resource::ObjectPath(std::string_view ns, std::string_view name, std::string_view subresource) const {
  std::string path = CollectionPath(ns) + "/" + http::PercentEncode(name);
  if (!subresource.empty()) {
    path += "/";
    path += subresource;
  }
  return path;
}

std::string Resource::DisplayName() const { return group.empty() ? resource : resource + "." + group; }

namespace resources {
#define PIPEGUARD_RESOURCE(fn, group, version, plural, kind, namespaced)               \
  const Resource& fn() {                                                               \
    static const Resource* r = new Resource{group, version, plural, kind, namespaced}; \
    return *r;                                                                         \
  }
PIPEGUARD_RESOURCE(Pods, "", "v1", "pods", "Pod", true)
PIPEGUARD_RESOURCE(ServiceAccounts, "", "v1", "serviceaccounts", "ServiceAccount", true)
PIPEGUARD_RESOURCE(Services, "", "v1", "services", "Service", true)
PIPEGUARD_RESOURCE(Namespaces, "", "v1", "namespaces", "Namespace", false)
PIPEGUARD_RESOURCE(ConfigMaps, "", "v1", "configmaps", "ConfigMap", true)
PIPEGUARD_RESOURCE(Secrets, "", "v1", "secrets", "Secret", true)
PIPEGUARD_RESOURCE(Events, "events.k8s.io", "v1", "events", "Event", true)
PIPEGUARD_RESOURCE(Leases, "coordination.k8s.io", "v1", "leases", "Lease", true)
PIPEGUARD_RESOURCE(NetworkPolicies, "networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true)
PIPEGUARD_RESOURCE(Roles, "rbac.authorization.k8s.io", "v1", "roles", "Role", true)
PIPEGUARD_RESOURCE(RoleBindings, "rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true)
PIPEGUARD_RESOURCE(ClusterRoles, "rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false)
PIPEGUARD_RESOURCE(ClusterRoleBindings, "rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding",
                   false)
PIPEGUARD_RESOURCE(ValidatingWebhookConfigurations, "admissionregistration.k8s.io", "v1",
                   "validatingwebhookconfigurations", "ValidatingWebhookConfiguration", false)
PIPEGUARD_RESOURCE(MutatingWebhookConfigurations, "admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
                   "MutatingWebhookConfiguration", false)
PIPEGUARD_RESOURCE(CustomResourceDefinitions, "apiextensions.k8s.io", "v1", "customresourcedefinitions",
                   "CustomResourceDefinition", false)
PIPEGUARD_RESOURCE(PipelineSecurityProfiles, "pipeguard.io", "v1alpha1", "pipelinesecurityprofiles",
                   "PipelineSecurityProfile", true)
PIPEGUARD_RESOURCE(Deployments, "apps", "v1", "deployments", "Deployment", true)
PIPEGUARD_RESOURCE(Jobs, "batch", "v1", "jobs", "Job", true)
PIPEGUARD_RESOURCE(CronJobs, "batch", "v1", "cronjobs", "CronJob", true)
PIPEGUARD_RESOURCE(SparkApplications, "sparkoperator.k8s.io", "v1beta2", "sparkapplications", "SparkApplication", true)
PIPEGUARD_RESOURCE(PolicyReports, "wgpolicyk8s.io", "v1alpha2", "policyreports", "PolicyReport", true)
PIPEGUARD_RESOURCE(ClusterPolicyReports, "wgpolicyk8s.io", "v1alpha2", "clusterpolicyreports", "ClusterPolicyReport",
                   false)
#undef PIPEGUARD_RESOURCE
}  // namespace resources

}  // namespace pipeguard::kube
