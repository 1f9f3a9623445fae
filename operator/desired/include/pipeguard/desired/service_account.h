// The profile's ServiceAccount as the operator wants it. Pure.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "pipeguard/base/status.h"
#include "pipeguard/profile/profile.h"

namespace pipeguard::desired {

inline constexpr std::string_view kRoleArnAnnotation = "eks.amazonaws.com/role-arn";
inline constexpr std::string_view kStsRegionalAnnotation = "eks.amazonaws.com/sts-regional-endpoints";
inline constexpr std::string_view kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr std::string_view kManagedByValue = "pipeguard";
inline constexpr std::string_view kProfileLabel = "pipeguard.io/profile";
inline constexpr std::string_view kProfileUidLabel = "pipeguard.io/profile-uid";

// The value of the pipeguard.io/profile label: the profile name when it fits a label value (63 characters), else its
// first 50 characters + "-" + 12 hex digits of SHA-256(name). GC selects on pipeguard.io/profile-uid, which is exact.
std::string ProfileLabelValue(std::string_view profile_name);

// labels {app.kubernetes.io/managed-by: pipeguard, pipeguard.io/profile: ..., pipeguard.io/profile-uid: uid}.
nlohmann::json OwnedLabels(const api::ParsedProfile& profile);

// The controller ownerReference to the profile (controller and blockOwnerDeletion true).
nlohmann::json ProfileOwnerReference(const api::ParsedProfile& profile);

// The desired ServiceAccount: name/namespace from the profile, OwnedLabels, the ownerReference,
// automountServiceAccountToken = spec.serviceAccount.automountToken, and, when `role_arn` is given (the role exists;
// annotate only then), annotations eks.amazonaws.com/role-arn and eks.amazonaws.com/sts-regional-endpoints "true".
// Error (kFailedPrecondition) when the profile has no UID (it does not come from the API server).
StatusOr<nlohmann::json> DesiredServiceAccount(const api::ParsedProfile& profile,
                                               const std::optional<std::string>& role_arn);

// What must change on `observed` (a ServiceAccount from the API server) to satisfy `desired`: nullopt when nothing
// must, else `observed` with our labels, annotations, ownerReference and automount set (everything else, e.g. other
// annotations, secrets, imagePullSecrets and metadata.resourceVersion, kept) for an in-place update.
std::optional<nlohmann::json> PlanServiceAccountUpdate(const nlohmann::json& desired, const nlohmann::json& observed);

}  // namespace pipeguard::desired
