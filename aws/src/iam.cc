#include "pipeguard/aws/iam.h"

#include <charconv>

#include "pipeguard/aws/iam_limits.h"
#include "pipeguard/aws/xml.h"

namespace pipeguard::aws {
namespace {

constexpr std::string_view kIamVersion = "2010-05-08";
constexpr int kMaxPages = 100;

AwsError Invalid(std::string_view action, const Status& status) {
  return LocalError(errc::kInvalidRequest, status.code(), "IAM " + std::string(action) + ": " + status.message());
}

AwsError BadResponse(std::string_view action, std::string why) {
  return LocalError(errc::kBadResponse, StatusCode::kInternal,
                    "IAM " + std::string(action) + ": unexpected response: " + std::move(why));
}

// Sends the call and returns the <ActionResult> element (or the response root when there is none).
AwsResult<XmlElement> QueryResult(ServiceClient& client, std::string_view action, const QueryParams& params) {
  auto response = client.CallQuery(action, kIamVersion, params);
  if (!response.ok()) return response.error();
  auto doc = ParseXml(response->body);
  if (!doc.ok()) return BadResponse(action, doc.error().message);
  if (doc->name != std::string(action) + "Response") {
    return BadResponse(action, "root element <" + doc->name + ">, expected <" + std::string(action) + "Response>");
  }
  if (const XmlElement* result = doc->Child(std::string(action) + "Result")) return *result;
  return std::move(doc).value();
}

AwsResult<void> QueryNoResult(ServiceClient& client, std::string_view action, const QueryParams& params) {
  auto result = QueryResult(client, action, params);
  if (!result.ok()) return result.error();
  return {};
}

std::vector<Tag> ParseTags(const XmlElement* tags) {
  std::vector<Tag> out;
  if (tags == nullptr) return out;
  for (const XmlElement* m : tags->Children("member")) out.push_back({m->ChildText("Key"), m->ChildText("Value")});
  return out;
}

Role ParseRole(const XmlElement& e) {
  Role r;
  r.name = e.ChildText("RoleName");
  r.id = e.ChildText("RoleId");
  r.arn = e.ChildText("Arn");
  r.path = e.ChildText("Path");
  r.create_date = e.ChildText("CreateDate");
  r.description = e.ChildText("Description");
  std::string msd = e.ChildText("MaxSessionDuration");
  int v = 0;
  if (!msd.empty() && std::from_chars(msd.data(), msd.data() + msd.size(), v).ec == std::errc()) {
    r.max_session_duration = v;
  }
  // RFC 3986 percent-encoding: '+' is a literal plus, not a space.
  r.assume_role_policy_document = UriDecode(e.ChildText("AssumeRolePolicyDocument"));
  if (const XmlElement* b = e.Child("PermissionsBoundary"))
    r.permissions_boundary_arn = b->ChildText("PermissionsBoundaryArn");
  r.tags = ParseTags(e.Child("Tags"));
  return r;
}

void AddTags(QueryParams& params, const std::vector<Tag>& tags) {
  for (std::size_t i = 0; i < tags.size(); ++i) {
    std::string prefix = "Tags.member." + std::to_string(i + 1);
    params.emplace_back(prefix + ".Key", tags[i].key);
    params.emplace_back(prefix + ".Value", tags[i].value);
  }
}

// Runs a paginated list call, handing each page's result element to `page`.
template <typename PageFn>
AwsResult<void> Paginate(ServiceClient& client, std::string_view action, QueryParams params, PageFn page) {
  std::string marker;
  for (int i = 0; i < kMaxPages; ++i) {
    QueryParams p = params;
    if (!marker.empty()) p.emplace_back("Marker", marker);
    auto result = QueryResult(client, action, p);
    if (!result.ok()) return result.error();
    page(*result);
    if (result->ChildText("IsTruncated") != "true") return {};
    marker = result->ChildText("Marker");
    if (marker.empty()) return BadResponse(action, "IsTruncated is true but there is no Marker");
  }
  return BadResponse(action, "more than " + std::to_string(kMaxPages) + " pages");
}

Status CheckRoleName(std::string_view role_name) { return ValidateRoleName(role_name); }

}  // namespace

AwsResult<Role> IamClient::CreateRole(const CreateRoleRequest& request) {
  if (Status s = ValidateCreateRole(request); !s.ok()) return Invalid("CreateRole", s);
  QueryParams p;
  p.emplace_back("RoleName", request.role_name);
  p.emplace_back("Path", request.path.empty() ? "/" : request.path);
  p.emplace_back("AssumeRolePolicyDocument", request.assume_role_policy_document);
  if (!request.description.empty()) p.emplace_back("Description", request.description);
  if (request.max_session_duration) p.emplace_back("MaxSessionDuration", std::to_string(*request.max_session_duration));
  if (!request.permissions_boundary_arn.empty())
    p.emplace_back("PermissionsBoundary", request.permissions_boundary_arn);
  AddTags(p, request.tags);
  auto result = QueryResult(client_, "CreateRole", p);
  if (!result.ok()) return result.error();
  const XmlElement* role = result->Child("Role");
  if (role == nullptr) return BadResponse("CreateRole", "no <Role>");
  return ParseRole(*role);
}

AwsResult<Role> IamClient::GetRole(std::string_view role_name) {
  if (Status s = CheckRoleName(role_name); !s.ok()) return Invalid("GetRole", s);
  auto result = QueryResult(client_, "GetRole", {{"RoleName", std::string(role_name)}});
  if (!result.ok()) return result.error();
  const XmlElement* role = result->Child("Role");
  if (role == nullptr) return BadResponse("GetRole", "no <Role>");
  return ParseRole(*role);
}

AwsResult<void> IamClient::UpdateAssumeRolePolicy(std::string_view role_name, std::string_view policy_document) {
  if (Status s = CheckRoleName(role_name); !s.ok()) return Invalid("UpdateAssumeRolePolicy", s);
  if (Status s = ValidateTrustPolicy(policy_document); !s.ok()) return Invalid("UpdateAssumeRolePolicy", s);
  return QueryNoResult(client_, "UpdateAssumeRolePolicy",
                       {{"RoleName", std::string(role_name)}, {"PolicyDocument", std::string(policy_document)}});
}

AwsResult<void> IamClient::UpdateRoleMaxSessionDuration(std::string_view role_name, int seconds) {
  if (Status s = CheckRoleName(role_name); !s.ok()) return Invalid("UpdateRole", s);
  if (seconds < 3600 || seconds > 43200) {
    return Invalid("UpdateRole", Status::InvalidArgument("MaxSessionDuration " + std::to_string(seconds) +
                                                         " is outside 3600..43200 seconds"));
  }
  return QueryNoResult(client_, "UpdateRole",
                       {{"RoleName", std::string(role_name)}, {"MaxSessionDuration", std::to_string(seconds)}});
}

AwsResult<void> IamClient::PutRolePermissionsBoundary(std::string_view role_name, std::string_view boundary_arn) {
  if (Status s = CheckRoleName(role_name); !s.ok()) return Invalid("PutRolePermissionsBoundary", s);
  return QueryNoResult(client_, "PutRolePermissionsBoundary",
                       {{"RoleName", std::string(role_name)}, {"PermissionsBoundary", std::string(boundary_arn)}});
}

AwsResult<void> IamClient::DeleteRolePermissionsBoundary(std::string_view role_name) {
  if (Status s = CheckRoleName(role_name); !s.ok()) return Invalid("DeleteRolePermissionsBoundary", s);
  return QueryNoResult(client_, "DeleteRolePermissionsBoundary", {{"RoleName", std::string(role_name)}});
}

AwsResult<void> IamClient::PutRolePolicy(std::string_view role_name, std::string_view policy_name,
                                         std::string_view policy_document) {
  if (Status s = CheckRoleName(role_name); !s.ok()) return Invalid("PutRolePolicy", s);
  if (Status s = ValidateInlinePolicies({{std::string(policy_name), std::string(policy_document)}}); !s.ok()) {
    return Invalid("PutRolePolicy", s);
  }
  return QueryNoResult(client_, "PutRolePolicy",
                       {{"RoleName", std::string(role_name)},
                        {"PolicyName", std::string(policy_name)},
                        {"PolicyDocument", std::string(policy_document)}});
}

AwsResult<std::string> IamClient::GetRolePolicy(std::string_view role_name, std::string_view policy_name) {
  if (Status s = CheckRoleName(role_name); !s.ok()) return Invalid("GetRolePolicy", s);
  if (Status s = ValidatePolicyName(policy_name); !s.ok()) return Invalid("GetRolePolicy", s);
  auto result = QueryResult(client_, "GetRolePolicy",
                            {{"RoleName", std::string(role_name)}, {"PolicyName", std::string(policy_name)}});
  if (!result.ok()) return result.error();
  const XmlElement* doc = result->Child("PolicyDocument");
  if (doc == nullptr) return BadResponse("GetRolePolicy", "no <PolicyDocument>");
  return UriDecode(doc->text);
}

AwsResult<std::vector<std::string>> IamClient::ListRolePolicies(std::string_view role_name) {
  if (Status s = CheckRoleName(role_name); !s.ok()) return Invalid("ListRolePolicies", s);
  std::vector<std::string> names;
  auto r = Paginate(client_, "ListRolePolicies", {{"RoleName", std::string(role_name)}}, [&](const XmlElement& page) {
    if (const XmlElement* list = page.Child("PolicyNames")) {
      for (const XmlElement* m : list->Children("member")) names.push_back(m->text);
    }
  });
  if (!r.ok()) return r.error();
  return names;
}

AwsResult<void> IamClient::DeleteRolePolicy(std::string_view role_name, std::string_view policy_name) {
  if (Status s = CheckRoleName(role_name); !s.ok()) return Invalid("DeleteRolePolicy", s);
  return QueryNoResult(client_, "DeleteRolePolicy",
                       {{"RoleName", std::string(role_name)}, {"PolicyName", std::string(policy_name)}});
}

AwsResult<void> IamClient::AttachRolePolicy(std::string_view role_name, std::string_view policy_arn) {
  if (Status s = CheckRoleName(role_name); !s.ok()) return Invalid("AttachRolePolicy", s);
  return QueryNoResult(client_, "AttachRolePolicy",
                       {{"RoleName", std::string(role_name)}, {"PolicyArn", std::string(policy_arn)}});
}

AwsResult<std::vector<AttachedPolicy>> IamClient::ListAttachedRolePolicies(std::string_view role_name) {
  if (Status s = CheckRoleName(role_name); !s.ok()) return Invalid("ListAttachedRolePolicies", s);
  std::vector<AttachedPolicy> out;
  auto r = Paginate(client_, "ListAttachedRolePolicies", {{"RoleName", std::string(role_name)}},
                    [&](const XmlElement& page) {
                      if (const XmlElement* list = page.Child("AttachedPolicies")) {
                        for (const XmlElement* m : list->Children("member")) {
                          out.push_back({m->ChildText("PolicyName"), m->ChildText("PolicyArn")});
                        }
                      }
                    });
  if (!r.ok()) return r.error();
  return out;
}

AwsResult<void> IamClient::DetachRolePolicy(std::string_view role_name, std::string_view policy_arn) {
  if (Status s = CheckRoleName(role_name); !s.ok()) return Invalid("DetachRolePolicy", s);
  return QueryNoResult(client_, "DetachRolePolicy",
                       {{"RoleName", std::string(role_name)}, {"PolicyArn", std::string(policy_arn)}});
}

AwsResult<void> IamClient::TagRole(std::string_view role_name, const std::vector<Tag>& tags) {
  if (Status s = CheckRoleName(role_name); !s.ok()) return Invalid("TagRole", s);
  if (Status s = ValidateTags(tags); !s.ok()) return Invalid("TagRole", s);
  QueryParams p{{"RoleName", std::string(role_name)}};
  AddTags(p, tags);
  return QueryNoResult(client_, "TagRole", p);
}

AwsResult<void> IamClient::UntagRole(std::string_view role_name, const std::vector<std::string>& tag_keys) {
  if (Status s = CheckRoleName(role_name); !s.ok()) return Invalid("UntagRole", s);
  QueryParams p{{"RoleName", std::string(role_name)}};
  for (std::size_t i = 0; i < tag_keys.size(); ++i)
    p.emplace_back("TagKeys.member." + std::to_string(i + 1), tag_keys[i]);
  return QueryNoResult(client_, "UntagRole", p);
}

AwsResult<std::vector<Tag>> IamClient::ListRoleTags(std::string_view role_name) {
  if (Status s = CheckRoleName(role_name); !s.ok()) return Invalid("ListRoleTags", s);
  std::vector<Tag> out;
  auto r = Paginate(client_, "ListRoleTags", {{"RoleName", std::string(role_name)}}, [&](const XmlElement& page) {
    auto tags = ParseTags(page.Child("Tags"));
    out.insert(out.end(), tags.begin(), tags.end());
  });
  if (!r.ok()) return r.error();
  return out;
}

AwsResult<void> IamClient::DeleteRole(std::string_view role_name) {
  if (Status s = CheckRoleName(role_name); !s.ok()) return Invalid("DeleteRole", s);
  return QueryNoResult(client_, "DeleteRole", {{"RoleName", std::string(role_name)}});
}

AwsResult<std::vector<Role>> IamClient::ListRoles(std::string_view path_prefix) {
  QueryParams p;
  if (!path_prefix.empty()) p.emplace_back("PathPrefix", std::string(path_prefix));
  std::vector<Role> out;
  auto r = Paginate(client_, "ListRoles", p, [&](const XmlElement& page) {
    if (const XmlElement* list = page.Child("Roles")) {
      for (const XmlElement* m : list->Children("member")) out.push_back(ParseRole(*m));
    }
  });
  if (!r.ok()) return r.error();
  return out;
}

}  // namespace pipeguard::aws
