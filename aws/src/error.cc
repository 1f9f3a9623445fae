#include "pipeguard/aws/error.h"

#include <array>

namespace pipeguard::aws {

std::string AwsError::ToString() const {
  std::string out = message;
  if (!code.empty()) {
    out += out.empty() ? "" : ": ";
    out += code;
  }
  if (http_status != 0) out += " (HTTP " + std::to_string(http_status) + ")";
  if (!request_id.empty()) out += " [request id " + request_id + "]";
  return out;
}

StatusCode ClassifyAwsErrorCode(std::string_view code, int http_status) {
  static constexpr std::array<std::string_view, 6> kNotFound = {
      "NoSuchEntity", "ResourceNotFoundException", "RepositoryNotFoundException", "NotFound", "NoSuchKey",
      "NoSuchBucket"};
  static constexpr std::array<std::string_view, 12> kUnavailable = {"Throttling",
                                                                    "ThrottlingException",
                                                                    "RequestLimitExceeded",
                                                                    "TooManyRequestsException",
                                                                    "RequestThrottled",
                                                                    "ServiceUnavailable",
                                                                    "ServiceFailure",
                                                                    "InternalFailure",
                                                                    "IDPCommunicationError",
                                                                    "PriorRequestNotComplete",
                                                                    "pipeguard.ConnectionError",
                                                                    "InternalError"};
  static constexpr std::array<std::string_view, 9> kPermission = {
      "AccessDenied",    "AccessDeniedException", "SignatureDoesNotMatch",       "InvalidClientTokenId",
      "ExpiredToken",    "ExpiredTokenException", "UnrecognizedClientException", "InvalidIdentityToken",
      "IDPRejectedClaim"};
  static constexpr std::array<std::string_view, 5> kPrecondition = {
      "DeleteConflict", "EntityAlreadyExists", "ConcurrentModification", "UnmodifiableEntity", "PolicyNotAttachable"};
  for (auto c : kNotFound)
    if (code == c) return StatusCode::kNotFound;
  for (auto c : kUnavailable)
    if (code == c) return StatusCode::kUnavailable;
  for (auto c : kPermission)
    if (code == c) return StatusCode::kPermissionDenied;
  for (auto c : kPrecondition)
    if (code == c) return StatusCode::kFailedPrecondition;
  if (code == "pipeguard.NoCredentials") return StatusCode::kPermissionDenied;
  if (code == "pipeguard.BadResponse") return StatusCode::kInternal;
  if (http_status >= 500 || http_status == 429) return StatusCode::kUnavailable;
  if (http_status == 401 || http_status == 403) return StatusCode::kPermissionDenied;
  if (http_status == 404) return StatusCode::kNotFound;
  if (http_status == 409) return StatusCode::kFailedPrecondition;
  return StatusCode::kInvalidArgument;  // validation errors, limits, malformed documents
}

AwsError LocalError(std::string_view code, StatusCode status_code, std::string message, bool retryable) {
  AwsError e;
  e.code = std::string(code);
  e.status_code = status_code;
  e.message = std::move(message);
  e.retryable = retryable;
  return e;
}

}  // namespace pipeguard::aws
