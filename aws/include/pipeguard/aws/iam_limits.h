// IAM's documented limits, checked before any call so a profile that cannot work is rejected with a clear message
// instead of a LimitExceeded from AWS (docs: IAM and AWS STS quotas; operator-iam.md section 10).
//
// Policy sizes are counted the way IAM does, without insignificant whitespace: the number of characters of the
// compact JSON serialisation (whitespace inside string values counts, which errs on the safe side).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/aws/iam.h"
#include "pipeguard/base/status.h"

namespace pipeguard::aws {

struct IamLimits {
  std::size_t role_name_max = 64;
  std::size_t role_path_max = 512;
  std::size_t policy_name_max = 128;
  std::size_t trust_policy_max = 2048;      // AssumeRolePolicySizeQuota (adjustable; read GetAccountSummary)
  std::size_t inline_policies_max = 10240;  // RolePolicySizeQuota, all inline policies of a role together
  std::size_t tags_max = 50;
  std::size_t tag_key_max = 128;
  std::size_t tag_value_max = 256;
  std::size_t description_max = 1000;
  int min_session_duration = 3600;
  int max_session_duration = 43200;
};

// 1..64 characters of [A-Za-z0-9_+=,.@-].
Status ValidateRoleName(std::string_view name, const IamLimits& limits = {});
// "/" or "/a/b/": starts and ends with '/', 1..512 characters from '!' to '~'.
Status ValidateRolePath(std::string_view path, const IamLimits& limits = {});
// 1..128 characters of [A-Za-z0-9_+=,.@-].
Status ValidatePolicyName(std::string_view name, const IamLimits& limits = {});
// The size IAM counts for a policy document (see above); an error when it is not JSON.
StatusOr<std::size_t> PolicySize(std::string_view document);
// Valid JSON, only TAB, LF, CR and U+0020..U+00FF, and at most trust_policy_max characters.
Status ValidateTrustPolicy(std::string_view document, const IamLimits& limits = {});
// Each document valid as above and named validly; their sizes together at most inline_policies_max.
Status ValidateInlinePolicies(const std::map<std::string, std::string>& documents_by_name,
                              const IamLimits& limits = {});
// At most 50 tags; keys 1..128 and values 0..256 characters of letters, digits, spaces and _.:/=+-@; keys unique
// regardless of case; no key starting with "aws:" (reserved).
Status ValidateTags(const std::vector<Tag>& tags, const IamLimits& limits = {});
// Everything CreateRole sends: name, path, trust policy, description, session duration, tags, boundary ARN shape.
Status ValidateCreateRole(const CreateRoleRequest& request, const IamLimits& limits = {});

}  // namespace pipeguard::aws
