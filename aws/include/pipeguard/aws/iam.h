// IAM role management through the IAM Query API (Version 2010-05-08).
//
// Every call returns an AwsResult whose error carries the AWS error code (errc::kNoSuchEntity,
// errc::kEntityAlreadyExists, errc::kDeleteConflict, errc::kLimitExceeded, errc::kMalformedPolicyDocument, ...), so
// the caller branches on the code, not on messages. Policy documents are passed and returned as JSON text; the
// URL-encoding IAM applies to documents in responses is undone here. Inputs are checked against IAM's limits
// (iam_limits.h) before any request is sent (errc::kInvalidRequest). List calls follow Marker/IsTruncated to the end
// (at most 100 pages). Thread-safe when the ServiceClient is.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/aws/error.h"
#include "pipeguard/aws/service_client.h"

namespace pipeguard::aws {

struct Tag {
  std::string key;
  std::string value;
  bool operator==(const Tag&) const = default;
};

struct Role {
  std::string name;
  std::string id;
  std::string arn;
  std::string path;
  std::string create_date;  // ISO 8601 as IAM returns it
  std::string description;
  std::optional<int> max_session_duration;
  std::string assume_role_policy_document;  // decoded JSON text
  std::string permissions_boundary_arn;     // empty when the role has none
  std::vector<Tag> tags;                    // as returned by GetRole (IAM returns them there too)
};

struct CreateRoleRequest {
  std::string role_name;
  std::string path = "/";
  std::string assume_role_policy_document;  // JSON text
  std::string description;
  std::optional<int> max_session_duration;  // seconds, 3600..43200
  std::string permissions_boundary_arn;     // empty: none
  std::vector<Tag> tags;
};

struct AttachedPolicy {
  std::string name;
  std::string arn;
};

class IamClient {
 public:
  // `client` (configured for IAM, see IamServiceConfig) must outlive this object.
  explicit IamClient(ServiceClient& client) : client_(client) {}

  AwsResult<Role> CreateRole(const CreateRoleRequest& request);
  AwsResult<Role> GetRole(std::string_view role_name);
  AwsResult<void> UpdateAssumeRolePolicy(std::string_view role_name, std::string_view policy_document);
  // UpdateRole with MaxSessionDuration only (the description is left as it is). `seconds` must be in 3600..43200
  // (InvalidInput otherwise, without a call).
  AwsResult<void> UpdateRoleMaxSessionDuration(std::string_view role_name, int seconds);
  AwsResult<void> PutRolePermissionsBoundary(std::string_view role_name, std::string_view boundary_arn);
  AwsResult<void> DeleteRolePermissionsBoundary(std::string_view role_name);
  AwsResult<void> PutRolePolicy(std::string_view role_name, std::string_view policy_name,
                                std::string_view policy_document);
  // The decoded policy document.
  AwsResult<std::string> GetRolePolicy(std::string_view role_name, std::string_view policy_name);
  AwsResult<std::vector<std::string>> ListRolePolicies(std::string_view role_name);
  AwsResult<void> DeleteRolePolicy(std::string_view role_name, std::string_view policy_name);
  AwsResult<void> AttachRolePolicy(std::string_view role_name, std::string_view policy_arn);
  AwsResult<std::vector<AttachedPolicy>> ListAttachedRolePolicies(std::string_view role_name);
  AwsResult<void> DetachRolePolicy(std::string_view role_name, std::string_view policy_arn);
  AwsResult<void> TagRole(std::string_view role_name, const std::vector<Tag>& tags);
  AwsResult<void> UntagRole(std::string_view role_name, const std::vector<std::string>& tag_keys);
  AwsResult<std::vector<Tag>> ListRoleTags(std::string_view role_name);
  // Fails with errc::kDeleteConflict while inline or managed policies (or instance profiles) remain.
  AwsResult<void> DeleteRole(std::string_view role_name);
  // Roles under a path prefix, e.g. "/pipeguard/" (for garbage-collection sweeps). Tags are not included.
  AwsResult<std::vector<Role>> ListRoles(std::string_view path_prefix);

 private:
  ServiceClient& client_;
};

}  // namespace pipeguard::aws
