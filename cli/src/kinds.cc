#include "kinds.h"

#include <set>

namespace pipeguard::cli::internal {

bool IsClusterScopedKind(std::string_view kind) {
  static const std::set<std::string_view> kClusterScoped = {
      "APIService",
      "CSIDriver",
      "CSINode",
      "CertificateSigningRequest",
      "ClusterRole",
      "ClusterRoleBinding",
      "CustomResourceDefinition",
      "FlowSchema",
      "IngressClass",
      "MutatingWebhookConfiguration",
      "Namespace",
      "Node",
      "PersistentVolume",
      "PriorityClass",
      "PriorityLevelConfiguration",
      "RuntimeClass",
      "StorageClass",
      "ValidatingAdmissionPolicy",
      "ValidatingAdmissionPolicyBinding",
      "ValidatingWebhookConfiguration",
      "VolumeAttachment",
  };
  return kClusterScoped.count(kind) > 0;
}

}  // namespace pipeguard::cli::internal
