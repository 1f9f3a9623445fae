// One AWS service endpoint: signs each attempt with SigV4, sends it through an AwsHttpClient, parses AWS error
// bodies (Query/XML and JSON 1.1) into AwsError, and retries what is retryable (retry.h).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "pipeguard/aws/clock.h"
#include "pipeguard/aws/credentials.h"
#include "pipeguard/aws/error.h"
#include "pipeguard/aws/http.h"
#include "pipeguard/aws/retry.h"

namespace pipeguard::aws {

struct ServiceConfig {
  Endpoint endpoint;
  std::string region;           // signing region
  std::string signing_service;  // "iam", "sts", "ecr"
  std::string display_name;     // for messages: "IAM", "STS", "ECR"
  RetryPolicy retry;
};

// IAM is global: https://iam.amazonaws.com, signed for us-east-1 (commercial partition only).
ServiceConfig IamServiceConfig();
// Regional STS: https://sts.<region>.amazonaws.com.
ServiceConfig StsServiceConfig(std::string_view region);
// ECR API: https://api.ecr.<region>.amazonaws.com.
ServiceConfig EcrServiceConfig(std::string_view region);

// What one Call did, for metrics (AWS API calls by action and result) and logs. No secrets.
struct CallRecord {
  std::string_view service;  // display name
  std::string_view action;
  int attempts = 0;
  int http_status = 0;     // of the last attempt, 0 when none answered
  std::string_view error;  // AWS error code of the final result, empty on success
};
using CallObserver = std::function<void(const CallRecord&)>;

// Thread-safe when its collaborators are. `http`, `clock` and `random` must outlive the client; `credentials`
// may be null for a client that only makes unsigned calls (STS AssumeRoleWithWebIdentity).
class ServiceClient {
 public:
  ServiceClient(ServiceConfig config, AwsHttpClient& http, CredentialsProvider* credentials, const Clock& clock,
                RandomSource& random, CallObserver observer = nullptr);

  enum class ErrorFormat { kXml, kJson };

  // Sends `request` (Host is set from the endpoint), signed unless `sign` is false, retrying per the policy.
  // Returns a 2xx response, or the AWS error (code, message, request id) of the last attempt, with the number of
  // attempts in the message when retries gave up.
  AwsResult<HttpResponse> Call(std::string_view action, HttpRequest request, ErrorFormat format, bool sign = true);

  // The AWS Query protocol: POST / with a form body "Action=<action>&Version=<version>&<params>".
  AwsResult<HttpResponse> CallQuery(std::string_view action, std::string_view version, const QueryParams& params,
                                    bool sign = true);
  // The AWS JSON 1.1 protocol: POST / with X-Amz-Target "<target_prefix>.<action>" and a JSON body.
  AwsResult<HttpResponse> CallJson(std::string_view target_prefix, std::string_view action, std::string body);

  const ServiceConfig& config() const { return config_; }

 private:
  ServiceConfig config_;
  AwsHttpClient& http_;
  CredentialsProvider* credentials_;
  const Clock& clock_;
  RandomSource& random_;
  CallObserver observer_;
};

// Parses an AWS error response body into an AwsError (code, message, request id; HTTP status from `response`).
// Understands <ErrorResponse><Error><Code>..., <Response><Errors><Error>... and JSON {"__type": ..., "message": ...}
// (also the x-amzn-ErrorType header). Unparseable bodies give code "HTTP <status>".
AwsError ParseAwsError(const HttpResponse& response, ServiceClient::ErrorFormat format, std::string_view context);

}  // namespace pipeguard::aws
