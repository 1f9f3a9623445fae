// Errors from AWS calls as values (DESIGN.md guideline 7).
//
// An AwsError keeps what the operator needs to branch on: the AWS error code ("NoSuchEntity", "DeleteConflict",
// "Throttling", ...), the HTTP status, a coarse pipeguard::StatusCode, and a message that says which action on which
// endpoint failed. Messages never contain secrets: credentials, session tokens and web identity tokens are never put
// into an error (AWS does not echo them either). AwsResult<T> holds a T or an AwsError.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "pipeguard/base/status.h"

namespace pipeguard::aws {

// Well-known AWS error codes the callers branch on (compare with AwsError::Is).
namespace errc {
inline constexpr std::string_view kNoSuchEntity = "NoSuchEntity";
inline constexpr std::string_view kEntityAlreadyExists = "EntityAlreadyExists";
inline constexpr std::string_view kLimitExceeded = "LimitExceeded";
inline constexpr std::string_view kMalformedPolicyDocument = "MalformedPolicyDocument";
inline constexpr std::string_view kDeleteConflict = "DeleteConflict";
inline constexpr std::string_view kConcurrentModification = "ConcurrentModification";
inline constexpr std::string_view kThrottling = "Throttling";
inline constexpr std::string_view kThrottlingException = "ThrottlingException";
inline constexpr std::string_view kRequestLimitExceeded = "RequestLimitExceeded";
inline constexpr std::string_view kServiceFailure = "ServiceFailure";
inline constexpr std::string_view kInvalidInput = "InvalidInput";
inline constexpr std::string_view kUnmodifiableEntity = "UnmodifiableEntity";
inline constexpr std::string_view kAccessDenied = "AccessDenied";
inline constexpr std::string_view kSignatureDoesNotMatch = "SignatureDoesNotMatch";
inline constexpr std::string_view kInvalidClientTokenId = "InvalidClientTokenId";
inline constexpr std::string_view kExpiredToken = "ExpiredToken";
inline constexpr std::string_view kInvalidIdentityToken = "InvalidIdentityToken";
// Not from AWS: set by this library.
inline constexpr std::string_view kConnectionError = "pipeguard.ConnectionError";  // no HTTP response at all
inline constexpr std::string_view kBadResponse = "pipeguard.BadResponse";          // a response we cannot parse
inline constexpr std::string_view kInvalidRequest = "pipeguard.InvalidRequest";    // rejected before sending
inline constexpr std::string_view kNoCredentials = "pipeguard.NoCredentials";      // no provider had credentials
}  // namespace errc

struct AwsError {
  StatusCode status_code = StatusCode::kInternal;  // coarse class, see ClassifyAwsErrorCode
  std::string code;                                // AWS error code, or one of the pipeguard.* codes above
  int http_status = 0;                             // 0 when there was no HTTP response
  std::string message;                             // what failed, where; never a secret
  std::string request_id;                          // AWS request ID when the response had one
  bool retryable = false;                          // throttling, 5xx, connection errors (see retry.h)

  bool Is(std::string_view aws_code) const { return code == aws_code; }
  // "IAM GetRole: NoSuchEntity (HTTP 404): The role with name x cannot be found. [request id ...]"
  std::string ToString() const;
  pipeguard::Status ToStatus() const { return {status_code, ToString()}; }
};

// Maps an AWS error code and HTTP status to a pipeguard::StatusCode (NoSuchEntity -> kNotFound, throttling and
// 5xx -> kUnavailable, auth failures -> kPermissionDenied, conflicts -> kFailedPrecondition, validation and limits ->
// kInvalidArgument).
StatusCode ClassifyAwsErrorCode(std::string_view code, int http_status);

// Builds an AwsError for a failure detected by this library (not returned by AWS).
AwsError LocalError(std::string_view code, StatusCode status_code, std::string message, bool retryable = false);

// Holds a T or an AwsError. Accessing value() on an error, or error() on a value, is a programming bug (asserts in
// debug builds).
template <typename T>
class [[nodiscard]] AwsResult : public ValueOrError<T, AwsError> {
 public:
  AwsResult(T value) : ValueOrError<T, AwsError>(std::move(value)) {}         // NOLINT: implicit by design
  AwsResult(AwsError error) : ValueOrError<T, AwsError>(std::move(error)) {}  // NOLINT
  const AwsError& error() const {
    assert(!this->ok());
    return this->stored_error();
  }
  pipeguard::Status status() const { return this->ok() ? pipeguard::Status::Ok() : error().ToStatus(); }
};

// Success or an AwsError, for calls that return nothing.
template <>
class [[nodiscard]] AwsResult<void> {
 public:
  AwsResult() = default;
  AwsResult(AwsError error) : error_(std::move(error)) {}  // NOLINT
  bool ok() const { return !error_.has_value(); }
  const AwsError& error() const {
    assert(!ok());
    return *error_;
  }
  pipeguard::Status status() const { return ok() ? pipeguard::Status::Ok() : error_->ToStatus(); }

 private:
  std::optional<AwsError> error_;
};

}  // namespace pipeguard::aws
