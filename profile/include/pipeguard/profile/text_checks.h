// Character-level checks of the profile grammar: Kubernetes names, IAM policy text, ARNs. Pure.
#pragma once

#include <string>
#include <string_view>

namespace pipeguard::api {

// DNS-1123 label: 1..63 of [a-z0-9-], starting and ending alphanumeric (namespaces).
bool IsDnsLabel(std::string_view s);
// DNS-1123 subdomain: 1..253 of [a-z0-9.-], labels as above (object names).
bool IsDnsSubdomain(std::string_view s);
// DNS-1035 label: a DNS-1123 label starting with a letter (Service names).
bool IsDns1035Label(std::string_view s);
// Valid UTF-8 whose code points are all in U+0020..U+00FF: what IAM accepts in policy documents (TAB/LF/CR are
// allowed by IAM too, but never meaningful in the fields we check).
bool IsPolicyText(std::string_view s);

// `s` in double quotes, cut at 200 characters, for messages.
std::string Quoted(std::string_view s);

// An ARN split into its parts: arn:<partition>:<service>:<region>:<account>:<resource>.
struct Arn {
  std::string partition, service, region, account, resource;
};
// Parses an ARN with partition aws[a-z-]*, the given service, a region of [a-z0-9-]+ (may be empty only when
// `region_required` is false), a 12-digit account (same) and a non-empty resource. False when it is not one.
bool ParseArn(std::string_view text, std::string_view service, Arn& out, bool region_and_account_required = true);

}  // namespace pipeguard::api
