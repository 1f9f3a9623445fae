// IamApi: the narrow seam between the reconciler and IAM (DESIGN.md guideline 6). The production implementation
// forwards to aws::IamClient (which signs, retries and records calls through the ServiceClient's CallObserver);
// unit tests use an in-memory fake. Contract for implementations: thread-safe; errors carry the AWS error code
// (aws::errc) so callers branch on codes, never on messages; policy documents are decoded JSON text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/aws/iam.h"

namespace pipeguard::reconcilers {

class IamApi {
 public:
  virtual ~IamApi() = default;
  virtual aws::AwsResult<aws::Role> CreateRole(const aws::CreateRoleRequest& request) = 0;
  virtual aws::AwsResult<aws::Role> GetRole(std::string_view role_name) = 0;
  virtual aws::AwsResult<void> UpdateAssumeRolePolicy(std::string_view role_name, std::string_view document) = 0;
  virtual aws::AwsResult<void> UpdateRoleMaxSessionDuration(std::string_view role_name, int seconds) = 0;
  virtual aws::AwsResult<void> PutRolePermissionsBoundary(std::string_view role_name,
                                                          std::string_view boundary_arn) = 0;
  virtual aws::AwsResult<void> DeleteRolePermissionsBoundary(std::string_view role_name) = 0;
  virtual aws::AwsResult<void> PutRolePolicy(std::string_view role_name, std::string_view policy_name,
                                             std::string_view document) = 0;
  virtual aws::AwsResult<std::string> GetRolePolicy(std::string_view role_name, std::string_view policy_name) = 0;
  virtual aws::AwsResult<std::vector<std::string>> ListRolePolicies(std::string_view role_name) = 0;
  virtual aws::AwsResult<void> DeleteRolePolicy(std::string_view role_name, std::string_view policy_name) = 0;
  virtual aws::AwsResult<std::vector<aws::AttachedPolicy>> ListAttachedRolePolicies(std::string_view role_name) = 0;
  virtual aws::AwsResult<void> DetachRolePolicy(std::string_view role_name, std::string_view policy_arn) = 0;
  virtual aws::AwsResult<void> TagRole(std::string_view role_name, const std::vector<aws::Tag>& tags) = 0;
  virtual aws::AwsResult<void> UntagRole(std::string_view role_name, const std::vector<std::string>& keys) = 0;
  virtual aws::AwsResult<std::vector<aws::Tag>> ListRoleTags(std::string_view role_name) = 0;
  virtual aws::AwsResult<void> DeleteRole(std::string_view role_name) = 0;
};

// Forwards every call to an aws::IamClient, which must outlive this object.
class IamClientApi final : public IamApi {
 public:
  explicit IamClientApi(aws::IamClient& client) : client_(client) {}
  aws::AwsResult<aws::Role> CreateRole(const aws::CreateRoleRequest& r) override { return client_.CreateRole(r); }
  aws::AwsResult<aws::Role> GetRole(std::string_view n) override { return client_.GetRole(n); }
  aws::AwsResult<void> UpdateAssumeRolePolicy(std::string_view n, std::string_view d) override {
    return client_.UpdateAssumeRolePolicy(n, d);
  }
  aws::AwsResult<void> UpdateRoleMaxSessionDuration(std::string_view n, int seconds) override {
    return client_.UpdateRoleMaxSessionDuration(n, seconds);
  }
  aws::AwsResult<void> PutRolePermissionsBoundary(std::string_view n, std::string_view b) override {
    return client_.PutRolePermissionsBoundary(n, b);
  }
  aws::AwsResult<void> DeleteRolePermissionsBoundary(std::string_view n) override {
    return client_.DeleteRolePermissionsBoundary(n);
  }
  aws::AwsResult<void> PutRolePolicy(std::string_view n, std::string_view p, std::string_view d) override {
    return client_.PutRolePolicy(n, p, d);
  }
  aws::AwsResult<std::string> GetRolePolicy(std::string_view n, std::string_view p) override {
    return client_.GetRolePolicy(n, p);
  }
  aws::AwsResult<std::vector<std::string>> ListRolePolicies(std::string_view n) override {
    return client_.ListRolePolicies(n);
  }
  aws::AwsResult<void> DeleteRolePolicy(std::string_view n, std::string_view p) override {
    return client_.DeleteRolePolicy(n, p);
  }
  aws::AwsResult<std::vector<aws::AttachedPolicy>> ListAttachedRolePolicies(std::string_view n) override {
    return client_.ListAttachedRolePolicies(n);
  }
  aws::AwsResult<void> DetachRolePolicy(std::string_view n, std::string_view a) override {
    return client_.DetachRolePolicy(n, a);
  }
  aws::AwsResult<void> TagRole(std::string_view n, const std::vector<aws::Tag>& t) override {
    return client_.TagRole(n, t);
  }
  aws::AwsResult<void> UntagRole(std::string_view n, const std::vector<std::string>& k) override {
    return client_.UntagRole(n, k);
  }
  aws::AwsResult<std::vector<aws::Tag>> ListRoleTags(std::string_view n) override { return client_.ListRoleTags(n); }
  aws::AwsResult<void> DeleteRole(std::string_view n) override { return client_.DeleteRole(n); }

 private:
  aws::IamClient& client_;
};

}  // namespace pipeguard::reconcilers
