// Typed Kubernetes API errors carried in a pipeguard::Status.
//
// pipeguard::StatusCode has no codes for Conflict, AlreadyExists or Gone, so every error from a KubeClient has a
// message that starts with a fixed reason word followed by " (HTTP <code>)": "Conflict (HTTP 409) on PUT
// /apis/...: <the API server's message>". ErrorReasonOf() reads that word back, so callers branch on the reason, not on
// message text. Transport failures use reason kUnavailable (no HTTP code); timeouts kTimeout.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "pipeguard/base/status.h"

namespace pipeguard::kube {

enum class ErrorReason {
  kNone,             // the Status is OK
  kNotFound,         // 404
  kAlreadyExists,    // 409 with reason AlreadyExists
  kConflict,         // 409 (optimistic concurrency: the resourceVersion or a precondition did not match)
  kGone,             // 410: resourceVersion too old (watch) or continue token expired (list); relist
  kUnauthorized,     // 401: credentials missing, expired or not accepted
  kForbidden,        // 403: RBAC denies the request
  kInvalid,          // 422: the object failed validation (the message lists the fields)
  kBadRequest,       // 400
  kTooManyRequests,  // 429: throttled; retry after a pause
  kTimeout,          // 504 or a client-side timeout
  kServerError,      // other 5xx
  kUnavailable,      // transport failure (connect, TLS, reset) or 503
  kInvalidResponse,  // the body was not what the API promises (bad JSON, too large)
  kOther,            // anything else
};

// The fixed word used in messages: "NotFound", "Conflict", ...
std::string_view ErrorReasonName(ErrorReason reason);

// The reason of a Status produced by this component; kNone for OK, kOther for Statuses from elsewhere.
ErrorReason ErrorReasonOf(const Status& status);

inline bool IsNotFound(const Status& s) { return ErrorReasonOf(s) == ErrorReason::kNotFound; }
inline bool IsAlreadyExists(const Status& s) { return ErrorReasonOf(s) == ErrorReason::kAlreadyExists; }
inline bool IsConflict(const Status& s) { return ErrorReasonOf(s) == ErrorReason::kConflict; }
inline bool IsGone(const Status& s) { return ErrorReasonOf(s) == ErrorReason::kGone; }
inline bool IsForbidden(const Status& s) { return ErrorReasonOf(s) == ErrorReason::kForbidden; }
inline bool IsUnauthorized(const Status& s) { return ErrorReasonOf(s) == ErrorReason::kUnauthorized; }
inline bool IsInvalid(const Status& s) { return ErrorReasonOf(s) == ErrorReason::kInvalid; }
// True for errors a retry with backoff may cure (throttling, timeouts, 5xx, transport).
bool IsRetryable(const Status& s);

// Builds the Status for a failed request. `context` names the request ("GET /api/v1/..."); `http_code` is 0 for
// transport errors. The message never includes request bodies or credentials.
Status MakeApiError(ErrorReason reason, int http_code, std::string_view context, std::string_view detail);

// Maps an HTTP error response to a Status. `body` is the raw response body: a metav1.Status object when the API
// server produced it (its `reason`, `code` and `message` are used), anything else otherwise (a short, sanitised
// excerpt is used).
Status StatusFromHttpResponse(int http_code, std::string_view body, std::string_view context);

// Maps a metav1.Status object (e.g. from a watch ERROR event) to a Status; `fallback_code` is used when the object
// has no `code`.
Status StatusFromApiStatus(const nlohmann::json& status_object, int fallback_code, std::string_view context);

}  // namespace pipeguard::kube
