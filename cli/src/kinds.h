// Internal to pipeguard::cli: facts about Kubernetes kinds that the CLI needs without an API server.
#pragma once

#include <string_view>

namespace pipeguard::cli::internal {

// True for the built-in kinds that have no namespace (Namespace, ClusterRole, StorageClass, ...). Unknown kinds,
// custom resources included, are treated as namespaced, as most are.
bool IsClusterScopedKind(std::string_view kind);

}  // namespace pipeguard::cli::internal
