#include "pipeguard/desired/drift.h"

#include <algorithm>

#include "pipeguard/aws/policy_document.h"
#include "pipeguard/desired/network_policy.h"
#include "pipeguard/desired/service_account.h"

namespace pipeguard::desired {

using nlohmann::json;

std::string_view DriftKindLabel(DriftKind kind) {
  switch (kind) {
    case DriftKind::kRoleTrustPolicy:
      return "iam_trust_policy";
    case DriftKind::kRoleInlinePolicy:
      return "iam_inline_policy";
    case DriftKind::kRoleManagedPolicies:
      return "iam_managed_policies";
    case DriftKind::kRolePermissionsBoundary:
      return "iam_permissions_boundary";
    case DriftKind::kRoleTags:
      return "iam_tags";
    case DriftKind::kRoleMaxSessionDuration:
      return "iam_max_session_duration";
    case DriftKind::kServiceAccount:
      return "service_account";
    case DriftKind::kNetworkPolicy:
      return "network_policy";
  }
  return "unknown";
}

std::vector<Drift> ClassifyRoleDrift(const RoleState& desired, const RoleState& observed) {
  std::vector<Drift> out;
  if (!aws::PoliciesEquivalent(desired.trust_policy, observed.trust_policy)) {
    out.push_back({DriftKind::kRoleTrustPolicy, "trust policy changed"});
  }
  for (const auto& [name, document] : desired.inline_policies) {
    auto it = observed.inline_policies.find(name);
    if (it == observed.inline_policies.end()) {
      out.push_back({DriftKind::kRoleInlinePolicy, "inline policy " + name + " deleted"});
    } else if (!aws::PoliciesEquivalent(document, it->second)) {
      out.push_back({DriftKind::kRoleInlinePolicy, "inline policy " + name + " changed"});
    }
  }
  for (const auto& [name, document] : observed.inline_policies) {
    if (!desired.inline_policies.count(name)) {
      out.push_back({DriftKind::kRoleInlinePolicy, "inline policy " + name + " added"});
    }
  }
  for (const auto& arn : observed.managed_policy_arns) {
    if (std::find(desired.managed_policy_arns.begin(), desired.managed_policy_arns.end(), arn) ==
        desired.managed_policy_arns.end()) {
      out.push_back({DriftKind::kRoleManagedPolicies, "managed policy " + arn + " attached"});
    }
  }
  for (const auto& arn : desired.managed_policy_arns) {
    if (std::find(observed.managed_policy_arns.begin(), observed.managed_policy_arns.end(), arn) ==
        observed.managed_policy_arns.end()) {
      out.push_back({DriftKind::kRoleManagedPolicies, "managed policy " + arn + " detached"});
    }
  }
  if (desired.permissions_boundary_arn != observed.permissions_boundary_arn) {
    out.push_back({DriftKind::kRolePermissionsBoundary,
                   observed.permissions_boundary_arn.empty()
                       ? std::string("permissions boundary removed")
                       : "permissions boundary replaced by " + observed.permissions_boundary_arn});
  }
  for (const auto& tag : desired.tags) {
    auto it =
        std::find_if(observed.tags.begin(), observed.tags.end(), [&](const aws::Tag& t) { return t.key == tag.key; });
    if (it == observed.tags.end()) {
      out.push_back({DriftKind::kRoleTags, "tag " + tag.key + " removed"});
    } else if (it->value != tag.value) {
      out.push_back({DriftKind::kRoleTags, "tag " + tag.key + " changed"});
    }
  }
  if (desired.max_session_duration && desired.max_session_duration != observed.max_session_duration) {
    out.push_back({DriftKind::kRoleMaxSessionDuration, "maximum session duration changed"});
  }
  return out;
}

namespace {

const json& MetadataMap(const json& object, const char* section) {
  static const json kEmpty = json::object();
  if (!object.contains("metadata") || !object["metadata"].is_object()) return kEmpty;
  const json& meta = object["metadata"];
  auto it = meta.find(section);
  return it != meta.end() && it->is_object() ? *it : kEmpty;
}

std::string ObjectId(const json& object) {
  std::string id = object.value("kind", "object");
  const json meta = object.value("metadata", json::object());
  id.append(" ").append(meta.value("namespace", "")).append("/").append(meta.value("name", ""));
  return id;
}

// Our labels (those in `desired`) missing or changed on `observed`.
void LabelDrift(const json& desired, const json& observed, DriftKind kind, std::vector<Drift>& out) {
  const json& want = MetadataMap(desired, "labels");
  const json& have = MetadataMap(observed, "labels");
  for (const auto& [key, value] : want.items()) {
    if (!have.contains(key) || have[key] != value) {
      out.push_back({kind, ObjectId(desired) + ": label " + key + (have.contains(key) ? " changed" : " removed")});
    }
  }
}

}  // namespace

std::vector<Drift> ClassifyServiceAccountDrift(const json& desired, const std::optional<json>& observed) {
  std::vector<Drift> out;
  if (!observed) {
    out.push_back({DriftKind::kServiceAccount, ObjectId(desired) + " deleted"});
    return out;
  }
  const json& want = MetadataMap(desired, "annotations");
  const json& have = MetadataMap(*observed, "annotations");
  for (const std::string& key : {std::string(kRoleArnAnnotation), std::string(kStsRegionalAnnotation)}) {
    const bool wanted = want.contains(key);
    const bool present = have.contains(key);
    if (wanted && !present) {
      out.push_back({DriftKind::kServiceAccount, ObjectId(desired) + ": annotation " + key + " removed"});
    } else if (!wanted && present) {
      out.push_back({DriftKind::kServiceAccount, ObjectId(desired) + ": annotation " + key + " added"});
    } else if (wanted && want[key] != have[key]) {
      out.push_back({DriftKind::kServiceAccount, ObjectId(desired) + ": annotation " + key + " changed"});
    }
  }
  const bool want_automount = desired.value("automountServiceAccountToken", true);
  const bool have_automount = observed->value("automountServiceAccountToken", true);  // Kubernetes default: true
  if (want_automount != have_automount) {
    out.push_back({DriftKind::kServiceAccount, ObjectId(desired) + ": automountServiceAccountToken changed"});
  }
  LabelDrift(desired, *observed, DriftKind::kServiceAccount, out);
  return out;
}

std::vector<Drift> ClassifyNetworkPolicyDrift(const json& desired, const std::optional<json>& observed) {
  std::vector<Drift> out;
  if (!observed) {
    out.push_back({DriftKind::kNetworkPolicy, ObjectId(desired) + " deleted"});
    return out;
  }
  if (!NetworkPolicySpecEquivalent(desired.value("spec", json::object()), observed->value("spec", json::object()))) {
    out.push_back({DriftKind::kNetworkPolicy, ObjectId(desired) + ": spec changed"});
  }
  LabelDrift(desired, *observed, DriftKind::kNetworkPolicy, out);
  return out;
}

}  // namespace pipeguard::desired
