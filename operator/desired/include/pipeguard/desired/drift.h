// Drift classification: which parts of the observed state differ from the desired state, for the Warning Event,
// the audit log line and pipeguard_operator_drift_reverted_total{kind}. Pure; comparisons are canonical (policy
// documents through aws::PoliciesEquivalent, NetworkPolicy specs order-insensitively) so a no-op never counts.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/aws/iam.h"

namespace pipeguard::desired {

enum class DriftKind {
  kRoleTrustPolicy,
  kRoleInlinePolicy,         // our inline policy changed or deleted, or another inline policy added
  kRoleManagedPolicies,      // a managed policy attached (we attach none)
  kRolePermissionsBoundary,  // boundary removed or replaced
  kRoleTags,                 // an ownership tag removed or changed (other tags are left alone)
  kRoleMaxSessionDuration,
  kServiceAccount,  // role-arn / sts annotation, automount, our labels, or the SA deleted
  kNetworkPolicy,   // spec changed, or the policy deleted
};

// The metric label value: "iam_trust_policy", "iam_inline_policy", "iam_managed_policies",
// "iam_permissions_boundary", "iam_tags", "iam_max_session_duration", "service_account", "network_policy".
std::string_view DriftKindLabel(DriftKind kind);

struct Drift {
  DriftKind kind;
  std::string detail;  // for Events and logs: which field, e.g. "inline policy pipeguard-profile changed"
  bool operator==(const Drift&) const = default;
};

// A role's IAM state, desired or observed (documents as JSON text, decoded).
struct RoleState {
  std::string trust_policy;
  std::map<std::string, std::string> inline_policies;  // policy name -> document
  std::vector<std::string> managed_policy_arns;
  std::string permissions_boundary_arn;
  std::vector<aws::Tag> tags;
  std::optional<int> max_session_duration;
};

// Desired is what the operator would write; every difference that matters is one Drift, in DriftKind order.
// Tags: only the desired tags are compared (their presence and values); extra tags are not drift.
std::vector<Drift> ClassifyRoleDrift(const RoleState& desired, const RoleState& observed);

// ServiceAccount objects; `observed` nullopt = deleted. Compares our annotations, our labels and
// automountServiceAccountToken (absent on the observed object means true, the Kubernetes default).
std::vector<Drift> ClassifyServiceAccountDrift(const nlohmann::json& desired,
                                               const std::optional<nlohmann::json>& observed);

// NetworkPolicy objects; `observed` nullopt = deleted. Compares specs order-insensitively and our labels.
std::vector<Drift> ClassifyNetworkPolicyDrift(const nlohmann::json& desired,
                                              const std::optional<nlohmann::json>& observed);

}  // namespace pipeguard::desired
