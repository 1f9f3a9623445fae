// The IAM role of a profile: its name, path, ARN, ownership tags and trust policy. Pure functions.
//
// Role names. IAM role names are unique per account regardless of case and path, at most 64 characters of
// [\w+=,.@-]. The name is
//     "pg." + cluster + "." + namespace + "." + profile
// which is injective: the cluster ([a-z0-9-], enforced by the config) and the namespace (a DNS label) contain no
// '.', so the first two dots separate the parts; everything is lowercase, so case-insensitive uniqueness is the same
// as uniqueness. When that is longer than 64 characters, it becomes its first 51 characters + "_" + the first 12 hex
// digits of SHA-256(full name): '_' never occurs in an untruncated name, so a truncated name can never equal an
// untruncated one, and two truncated names collide only if the 48-bit hashes do (and then the ownership tags, which
// name the namespace and profile, make the second profile refuse the role rather than share it).
//
// Ownership. A role is pipeguard's only if it carries pipeguard.io/managed-by=pipeguard; it belongs to a profile
// only if the cluster, namespace and profile tags also match. The operator never adopts a role without them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/aws/iam.h"
#include "pipeguard/aws/iam_limits.h"
#include "pipeguard/guardrails/config.h"
#include "pipeguard/profile/profile.h"

namespace pipeguard::desired {

inline constexpr std::string_view kTagManagedBy = "pipeguard.io/managed-by";
inline constexpr std::string_view kTagManagedByValue = "pipeguard";
inline constexpr std::string_view kTagCluster = "pipeguard.io/cluster";
inline constexpr std::string_view kTagNamespace = "pipeguard.io/namespace";
inline constexpr std::string_view kTagProfile = "pipeguard.io/profile";
inline constexpr std::string_view kTagProfileUid = "pipeguard.io/profile-uid";
// Set (to "true") on a role kept by deletionPolicy Retain after its profile was deleted.
inline constexpr std::string_view kTagOrphaned = "pipeguard.io/orphaned";

// The name of the inline policy holding the compiled grants.
inline constexpr std::string_view kInlinePolicyName = "pipeguard-profile";

// Deterministic role name (see above). `cluster` is the configured cluster name. Always a valid IAM role name when
// the inputs are a valid cluster name, namespace and Kubernetes object name.
std::string RoleName(std::string_view cluster, std::string_view namespace_, std::string_view profile_name);

// "<rolePathPrefix><cluster>/", e.g. "/pipeguard/prod-eu-1/".
std::string RolePath(const guardrails::OperatorConfig& config);

// "arn:<partition>:iam::<account>:role<path><name>".
std::string RoleArn(const guardrails::OperatorConfig& config, std::string_view role_path, std::string_view role_name);

// The profile's role ARN as the operator will create it (RoleArn of RolePath and RoleName).
std::string ProfileRoleArn(const guardrails::OperatorConfig& config, const api::ParsedProfile& profile);

// The ownership tags, sorted by key: managed-by, cluster, namespace, profile, profile-uid.
std::vector<aws::Tag> OwnershipTags(const guardrails::OperatorConfig& config, const api::ParsedProfile& profile);

enum class RoleOwnership {
  kOurs,            // our tags, this profile (same UID): manage it
  kOursEarlierUid,  // our tags for this cluster/namespace/profile but another UID: a role retained from an earlier
                    // profile of the same name; the caller may take it over (re-tag) and should emit an Event
  kOtherProfile,    // pipeguard's, but for another cluster, namespace or profile: refuse (name collision)
  kForeign,         // no pipeguard.io/managed-by=pipeguard tag: never adopt (Event AdoptionRefused)
};
RoleOwnership ClassifyRoleOwnership(const std::vector<aws::Tag>& observed_tags,
                                    const guardrails::OperatorConfig& config, const api::ParsedProfile& profile);

// The trust policy: only system:serviceaccount:<ns>:<sa> with audience sts.amazonaws.com may assume the role with
// a web identity from the cluster's OIDC provider. Canonical JSON text (aws::CanonicalPolicyString).
std::string TrustPolicy(const guardrails::OperatorConfig& config, std::string_view namespace_,
                        std::string_view service_account);

// Everything CreateRole needs for this profile (name, path, trust policy, boundary, session duration, tags,
// description). Precondition: profile.aws is set.
aws::CreateRoleRequest DesiredCreateRole(const guardrails::OperatorConfig& config, const api::ParsedProfile& profile);

// IAM's limits for everything the operator will send for this profile, exactly (with the operator's partition,
// account, issuer and names): role name and path, trust policy size, inline policy size, tags, session duration,
// boundary ARN. No-op (empty) for a profile without spec.aws.
std::vector<api::GuardrailViolation> CheckIamLimits(const api::ParsedProfile& profile,
                                                    const guardrails::OperatorConfig& config,
                                                    const aws::IamLimits& limits = {});

}  // namespace pipeguard::desired
