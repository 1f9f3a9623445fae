// ECR GetAuthorizationToken (AWS JSON 1.1, X-Amz-Target AmazonEC2ContainerRegistry_V20150921.*), for registry auth.
#pragma once

#include <chrono>
#include <string>

#include "pipeguard/aws/error.h"
#include "pipeguard/aws/service_client.h"

namespace pipeguard::aws {

// A registry credential. `token` and `password` are secrets: send `token` as "Authorization: Basic <token>" to the
// registry; never log either.
struct EcrAuthorization {
  std::string token;     // base64("AWS:<password>"), as returned
  std::string username;  // decoded, normally "AWS"
  std::string password;  // decoded
  std::chrono::system_clock::time_point expires_at;
  std::string proxy_endpoint;  // https://<account>.dkr.ecr.<region>.amazonaws.com
};

class EcrClient {
 public:
  // `client` (configured for ECR, see EcrServiceConfig) must outlive this object.
  explicit EcrClient(ServiceClient& client) : client_(client) {}
  // The first authorization data entry (the token is valid for every registry the principal can reach).
  AwsResult<EcrAuthorization> GetAuthorizationToken();

 private:
  ServiceClient& client_;
};

}  // namespace pipeguard::aws
