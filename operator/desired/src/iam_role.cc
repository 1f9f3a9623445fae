#include "pipeguard/desired/iam_role.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "pipeguard/aws/iam_limits.h"
#include "pipeguard/aws/policy_document.h"
#include "pipeguard/guardrails/iam_policy.h"
#include "pipeguard/profile/text_checks.h"
#include "short_hash.h"

namespace pipeguard::desired {

using nlohmann::json;

namespace {

constexpr size_t kRoleNameMax = 64;
constexpr size_t kHashLength = 12;
}  // namespace

std::string RoleName(std::string_view cluster, std::string_view namespace_, std::string_view profile_name) {
  std::string full = "pg.";
  full.append(cluster).append(".").append(namespace_).append(".").append(profile_name);
  for (auto& c : full) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (full.size() <= kRoleNameMax) return full;
  std::string out = full.substr(0, kRoleNameMax - kHashLength - 1);
  out.append("_").append(internal::ShortHash(full));
  return out;
}

std::string RolePath(const guardrails::OperatorConfig& config) {
  std::string path = config.role_path_prefix;
  path.append(config.cluster_name).append("/");
  return path;
}

std::string RoleArn(const guardrails::OperatorConfig& config, std::string_view role_path, std::string_view role_name) {
  std::string arn = "arn:";
  arn.append(config.aws_partition).append(":iam::").append(config.aws_account_id).append(":role");
  arn.append(role_path).append(role_name);
  return arn;
}

std::string ProfileRoleArn(const guardrails::OperatorConfig& config, const api::ParsedProfile& profile) {
  return RoleArn(config, RolePath(config), RoleName(config.cluster_name, profile.namespace_, profile.name));
}

std::vector<aws::Tag> OwnershipTags(const guardrails::OperatorConfig& config, const api::ParsedProfile& profile) {
  std::vector<aws::Tag> tags = {
      {std::string(kTagCluster), config.cluster_name},  {std::string(kTagManagedBy), std::string(kTagManagedByValue)},
      {std::string(kTagNamespace), profile.namespace_}, {std::string(kTagProfile), profile.name},
      {std::string(kTagProfileUid), profile.uid},
  };
  std::sort(tags.begin(), tags.end(), [](const aws::Tag& a, const aws::Tag& b) { return a.key < b.key; });
  return tags;
}

RoleOwnership ClassifyRoleOwnership(const std::vector<aws::Tag>& observed_tags,
                                    const guardrails::OperatorConfig& config, const api::ParsedProfile& profile) {
  // IAM tag keys are case-insensitive for uniqueness but returned as written; compare keys exactly (we write them).
  std::map<std::string, std::string, std::less<>> tags;
  for (const auto& t : observed_tags) tags[t.key] = t.value;
  auto value = [&](std::string_view key) -> const std::string* {
    auto it = tags.find(key);
    return it == tags.end() ? nullptr : &it->second;
  };
  const std::string* managed = value(kTagManagedBy);
  if (!managed || *managed != kTagManagedByValue) return RoleOwnership::kForeign;
  const std::string* cluster = value(kTagCluster);
  const std::string* ns = value(kTagNamespace);
  const std::string* name = value(kTagProfile);
  if (!cluster || !ns || !name || *cluster != config.cluster_name || *ns != profile.namespace_ ||
      *name != profile.name) {
    return RoleOwnership::kOtherProfile;
  }
  const std::string* uid = value(kTagProfileUid);
  if (!uid || profile.uid.empty() || *uid != profile.uid) return RoleOwnership::kOursEarlierUid;
  return RoleOwnership::kOurs;
}

std::string TrustPolicy(const guardrails::OperatorConfig& config, std::string_view namespace_,
                        std::string_view service_account) {
  const std::string provider = config.OidcProviderHostPath();
  std::string subject = "system:serviceaccount:";
  subject.append(namespace_).append(":").append(service_account);
  std::string federated = "arn:";
  federated.append(config.aws_partition).append(":iam::").append(config.aws_account_id).append(":oidc-provider/");
  federated.append(provider);
  const json document = {
      {"Version", "2012-10-17"},
      {"Statement",
       json::array(
           {{{"Sid", "PipeguardIrsa"},
             {"Effect", "Allow"},
             {"Principal", {{"Federated", federated}}},
             {"Action", "sts:AssumeRoleWithWebIdentity"},
             {"Condition",
              {{"StringEquals", {{provider + ":sub", subject}, {provider + ":aud", "sts.amazonaws.com"}}}}}}})}};
  auto canonical = aws::CanonicalPolicyString(document.dump());
  // The document is built above from a fixed shape; canonicalisation cannot fail on it.
  return canonical.ok() ? canonical.value() : document.dump();
}

aws::CreateRoleRequest DesiredCreateRole(const guardrails::OperatorConfig& config, const api::ParsedProfile& profile) {
  aws::CreateRoleRequest request;
  request.role_name = RoleName(config.cluster_name, profile.namespace_, profile.name);
  request.path = RolePath(config);
  request.assume_role_policy_document = TrustPolicy(config, profile.namespace_, profile.service_account);
  std::string description = "pipeguard: PipelineSecurityProfile ";
  description.append(profile.namespace_)
      .append("/")
      .append(profile.name)
      .append(" in cluster ")
      .append(config.cluster_name);
  request.description = description.substr(0, 1000);
  request.max_session_duration = profile.aws ? profile.aws->max_session_duration_seconds : 3600;
  request.permissions_boundary_arn = config.permissions_boundary_arn;
  request.tags = OwnershipTags(config, profile);
  return request;
}

std::vector<api::GuardrailViolation> CheckIamLimits(const api::ParsedProfile& profile,
                                                    const guardrails::OperatorConfig& config,
                                                    const aws::IamLimits& limits) {
  std::vector<api::GuardrailViolation> out;
  if (!profile.aws) return out;
  const aws::CreateRoleRequest request = DesiredCreateRole(config, profile);
  if (auto s = aws::ValidateRoleName(request.role_name, limits); !s.ok()) {
    out.push_back(
        {"/metadata/name", "the IAM role name " + api::Quoted(request.role_name) + " is invalid: " + s.message()});
  }
  if (auto s = aws::ValidateRolePath(request.path, limits); !s.ok()) {
    out.push_back({"", "the IAM role path " + api::Quoted(request.path) +
                           " is invalid (operator rolePathPrefix or "
                           "clusterName): " +
                           s.message()});
  }
  if (auto s = aws::ValidateTrustPolicy(request.assume_role_policy_document, limits); !s.ok()) {
    out.push_back({"/spec/serviceAccount/name", "the trust policy does not fit IAM's limits: " + s.message()});
  }
  if (auto s = aws::ValidateTags(request.tags, limits); !s.ok()) {
    out.push_back({"/metadata", "the ownership tags do not fit IAM's limits: " + s.message()});
  }
  std::map<std::string, std::string> inline_policies = {
      {std::string(kInlinePolicyName), guardrails::CanonicalInlinePolicy(profile, config.aws_partition)}};
  if (auto s = aws::ValidateInlinePolicies(inline_policies, limits); !s.ok()) {
    out.push_back({"/spec/aws", "the compiled IAM policy does not fit IAM's limits: " + s.message() +
                                    "; use fewer prefixes, topics or statements, or split the pipeline"});
  }
  if (out.empty()) {
    if (auto s = aws::ValidateCreateRole(request, limits); !s.ok()) {
      out.push_back({"/spec/aws", "the IAM role would be rejected: " + s.message()});
    }
  }
  return out;
}

}  // namespace pipeguard::desired
