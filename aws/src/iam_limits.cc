#include "pipeguard/aws/iam_limits.h"

#include <nlohmann/json.hpp>
#include <set>

namespace pipeguard::aws {
namespace {

// Number of Unicode code points in valid UTF-8 (continuation bytes are not counted).
std::size_t CodePoints(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

bool IsNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '+' ||
         c == '=' || c == ',' || c == '.' || c == '@' || c == '-';
}

Status CheckName(std::string_view what, std::string_view name, std::size_t max) {
  if (name.empty() || name.size() > max) {
    return Status::InvalidArgument(std::string(what) + " '" + std::string(name) + "' must be 1 to " +
                                   std::to_string(max) + " characters long (it has " + std::to_string(name.size()) +
                                   ")");
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i])) {
      return Status::InvalidArgument(std::string(what) + " '" + std::string(name) + "' has a character IAM does not " +
                                     "allow at position " + std::to_string(i + 1) +
                                     "; use only letters, digits and _+=,.@-");
    }
  }
  return Status::Ok();
}

// Only TAB, LF, CR and U+0020..U+00FF (checked on the UTF-8 text).
Status CheckPolicyCharacters(std::string_view what, std::string_view doc) {
  for (std::size_t i = 0; i < doc.size(); ++i) {
    auto c = static_cast<unsigned char>(doc[i]);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      return Status::InvalidArgument(std::string(what) + ": control character at byte " + std::to_string(i + 1) +
                                     "; IAM allows only tab, line feed, carriage return and U+0020..U+00FF");
    }
    if (c >= 0x80) {  // in UTF-8, U+0080..U+00FF are 0xC2 or 0xC3 followed by one continuation byte
      if ((c == 0xC2 || c == 0xC3) && i + 1 < doc.size() && (static_cast<unsigned char>(doc[i + 1]) & 0xC0) == 0x80) {
        ++i;
        continue;
      }
      return Status::InvalidArgument(std::string(what) + ": character beyond U+00FF at byte " + std::to_string(i + 1) +
                                     "; IAM policy documents allow only U+0020..U+00FF");
    }
  }
  return Status::Ok();
}

Status CheckPolicy(std::string_view what, std::string_view doc, std::size_t* size) {
  if (Status s = CheckPolicyCharacters(what, doc); !s.ok()) return s;
  auto n = PolicySize(doc);
  if (!n.ok()) return Status::InvalidArgument(std::string(what) + ": " + n.status().message());
  *size = *n;
  return Status::Ok();
}

bool IsTagChar(char c) {
  auto u = static_cast<unsigned char>(c);
  // Non-ASCII bytes belong to Unicode letters, numbers or separators, which IAM allows; no Unicode classification
  // is done here, IAM has the last word on those.
  return u >= 0x80 || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ' ' ||
         c == '_' || c == '.' || c == ':' || c == '/' || c == '=' || c == '+' || c == '-' || c == '@';
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

Status ValidateRoleName(std::string_view name, const IamLimits& limits) {
  return CheckName("role name", name, limits.role_name_max);
}

Status ValidatePolicyName(std::string_view name, const IamLimits& limits) {
  return CheckName("policy name", name, limits.policy_name_max);
}

Status ValidateRolePath(std::string_view path, const IamLimits& limits) {
  if (path.empty() || path.size() > limits.role_path_max || path.front() != '/' || path.back() != '/') {
    return Status::InvalidArgument("role path '" + std::string(path) + "' must start and end with '/' and be 1 to " +
                                   std::to_string(limits.role_path_max) + " characters long, e.g. /pipeguard/");
  }
  for (char c : path) {
    if (c < '!' || c > '~') {
      return Status::InvalidArgument("role path '" + std::string(path) +
                                     "' may only contain printable ASCII characters without spaces");
    }
  }
  return Status::Ok();
}

StatusOr<std::size_t> PolicySize(std::string_view document) {
  auto doc = nlohmann::json::parse(document, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::InvalidArgument("the policy document is not valid JSON");
  return CodePoints(doc.dump());
}

Status ValidateTrustPolicy(std::string_view document, const IamLimits& limits) {
  std::size_t size = 0;
  if (Status s = CheckPolicy("trust policy", document, &size); !s.ok()) return s;
  if (size > limits.trust_policy_max) {
    return Status::InvalidArgument("trust policy is " + std::to_string(size) + " characters without whitespace; IAM " +
                                   "allows " + std::to_string(limits.trust_policy_max) +
                                   " (AssumeRolePolicySizeQuota): trust fewer service accounts per role or raise "
                                   "the quota");
  }
  return Status::Ok();
}

Status ValidateInlinePolicies(const std::map<std::string, std::string>& documents_by_name, const IamLimits& limits) {
  std::size_t total = 0;
  for (const auto& [name, doc] : documents_by_name) {
    if (Status s = ValidatePolicyName(name, limits); !s.ok()) return s;
    std::size_t size = 0;
    if (Status s = CheckPolicy("inline policy '" + name + "'", doc, &size); !s.ok()) return s;
    total += size;
  }
  if (total > limits.inline_policies_max) {
    return Status::InvalidArgument("the role's inline policies total " + std::to_string(total) +
                                   " characters without whitespace; IAM allows " +
                                   std::to_string(limits.inline_policies_max) +
                                   " per role: grant fewer resources, use wildcards or split the pipeline");
  }
  return Status::Ok();
}

Status ValidateTags(const std::vector<Tag>& tags, const IamLimits& limits) {
  if (tags.size() > limits.tags_max) {
    return Status::InvalidArgument(std::to_string(tags.size()) + " tags; IAM allows at most " +
                                   std::to_string(limits.tags_max) + " per role");
  }
  std::set<std::string> seen;
  for (const Tag& t : tags) {
    std::size_t key_len = CodePoints(t.key), value_len = CodePoints(t.value);
    if (key_len == 0 || key_len > limits.tag_key_max) {
      return Status::InvalidArgument("tag key '" + t.key + "' must be 1 to " + std::to_string(limits.tag_key_max) +
                                     " characters long");
    }
    if (value_len > limits.tag_value_max) {
      return Status::InvalidArgument("value of tag '" + t.key + "' is longer than " +
                                     std::to_string(limits.tag_value_max) + " characters");
    }
    for (const std::string* s : {&t.key, &t.value}) {
      for (char c : *s) {
        if (!IsTagChar(c)) {
          return Status::InvalidArgument("tag '" + t.key + "' has a character IAM does not allow ('" +
                                         std::string(1, c) + "'); use letters, digits, spaces and _.:/=+-@");
        }
      }
    }
    if (Lower(t.key).starts_with("aws:")) {
      return Status::InvalidArgument("tag key '" + t.key + "' uses the reserved prefix aws:");
    }
    if (!seen.insert(Lower(t.key)).second) {
      return Status::InvalidArgument("tag key '" + t.key + "' appears twice (IAM tag keys are case-insensitive)");
    }
  }
  return Status::Ok();
}

Status ValidateCreateRole(const CreateRoleRequest& request, const IamLimits& limits) {
  if (Status s = ValidateRoleName(request.role_name, limits); !s.ok()) return s;
  if (Status s = ValidateRolePath(request.path.empty() ? "/" : request.path, limits); !s.ok()) return s;
  if (Status s = ValidateTrustPolicy(request.assume_role_policy_document, limits); !s.ok()) return s;
  if (CodePoints(request.description) > limits.description_max) {
    return Status::InvalidArgument("role description is longer than " + std::to_string(limits.description_max) +
                                   " characters");
  }
  if (request.max_session_duration && (*request.max_session_duration < limits.min_session_duration ||
                                       *request.max_session_duration > limits.max_session_duration)) {
    return Status::InvalidArgument("MaxSessionDuration " + std::to_string(*request.max_session_duration) +
                                   " is outside " + std::to_string(limits.min_session_duration) + ".." +
                                   std::to_string(limits.max_session_duration) + " seconds");
  }
  if (!request.permissions_boundary_arn.empty() && !request.permissions_boundary_arn.starts_with("arn:")) {
    return Status::InvalidArgument("permissions boundary '" + request.permissions_boundary_arn +
                                   "' is not an ARN (expected arn:aws:iam::<account>:policy/<name>)");
  }
  return ValidateTags(request.tags, limits);
}

}  // namespace pipeguard::aws
