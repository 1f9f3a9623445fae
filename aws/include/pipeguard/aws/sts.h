// STS: AssumeRoleWithWebIdentity (IRSA, unsigned) and GetCallerIdentity (signed), Query API Version 2011-06-15.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "pipeguard/aws/credentials.h"
#include "pipeguard/aws/error.h"
#include "pipeguard/aws/service_client.h"

namespace pipeguard::aws {

struct AssumedRole {
  Credentials credentials;  // with expiration; provider "web-identity"
  std::string assumed_role_arn;
  std::string assumed_role_id;
  std::string subject;  // SubjectFromWebIdentityToken, e.g. system:serviceaccount:ns:sa
};

struct CallerIdentity {
  std::string account;
  std::string arn;
  std::string user_id;
};

class StsClient {
 public:
  // `client` (configured for STS) must outlive this object. AssumeRoleWithWebIdentity never uses the client's
  // credentials, so the web identity provider may use a client without any.
  explicit StsClient(ServiceClient& client) : client_(client) {}

  // `web_identity_token` is a secret: it is sent in the body and never logged or put in an error.
  AwsResult<AssumedRole> AssumeRoleWithWebIdentity(std::string_view role_arn, std::string_view session_name,
                                                   std::string_view web_identity_token,
                                                   std::optional<int> duration_seconds = std::nullopt);
  AwsResult<CallerIdentity> GetCallerIdentity();

 private:
  ServiceClient& client_;
};

// Parses an ISO 8601 UTC timestamp as STS returns it ("2015-08-30T12:36:00Z", optional fractional seconds).
std::optional<std::chrono::system_clock::time_point> ParseIso8601(std::string_view text);

}  // namespace pipeguard::aws
