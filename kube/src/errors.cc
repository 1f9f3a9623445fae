#include "pipeguard/kube/errors.h"

#include <array>
#include <utility>

namespace pipeguard::kube {
namespace {

constexpr std::array<std::pair<ErrorReason, std::string_view>, 15> kNames = {{
    {ErrorReason::kNone, "None"},
    {ErrorReason::kNotFound, "NotFound"},
    {ErrorReason::kAlreadyExists, "AlreadyExists"},
    {ErrorReason::kConflict, "Conflict"},
    {ErrorReason::kGone, "Gone"},
    {ErrorReason::kUnauthorized, "Unauthorized"},
    {ErrorReason::kForbidden, "Forbidden"},
    {ErrorReason::kInvalid, "Invalid"},
    {ErrorReason::kBadRequest, "BadRequest"},
    {ErrorReason::kTooManyRequests, "TooManyRequests"},
    {ErrorReason::kTimeout, "Timeout"},
    {ErrorReason::kServerError, "ServerError"},
    {ErrorReason::kUnavailable, "Unavailable"},
    {ErrorReason::kInvalidResponse, "InvalidResponse"},
    {ErrorReason::kOther, "Other"},
}};

StatusCode CodeFor(ErrorReason reason) {
  switch (reason) {
    case ErrorReason::kNone:
      return StatusCode::kOk;
    case ErrorReason::kNotFound:
      return StatusCode::kNotFound;
    case ErrorReason::kAlreadyExists:
    case ErrorReason::kConflict:
    case ErrorReason::kGone:
    case ErrorReason::kOther:
      return StatusCode::kFailedPrecondition;
    case ErrorReason::kUnauthorized:
    case ErrorReason::kForbidden:
      return StatusCode::kPermissionDenied;
    case ErrorReason::kInvalid:
    case ErrorReason::kBadRequest:
      return StatusCode::kInvalidArgument;
    case ErrorReason::kTimeout:
      return StatusCode::kDeadlineExceeded;
    case ErrorReason::kTooManyRequests:
    case ErrorReason::kServerError:
    case ErrorReason::kUnavailable:
    case ErrorReason::kInvalidResponse:
      return StatusCode::kUnavailable;
  }
  return StatusCode::kInternal;
}

ErrorReason ReasonFor(int http_code, std::string_view api_reason) {
  switch (http_code) {
    case 400:
      return ErrorReason::kBadRequest;
    case 401:
      return ErrorReason::kUnauthorized;
    case 403:
      return ErrorReason::kForbidden;
    case 404:
      return ErrorReason::kNotFound;
    case 409:
      return api_reason == "AlreadyExists" ? ErrorReason::kAlreadyExists : ErrorReason::kConflict;
    case 410:
      return ErrorReason::kGone;
    case 422:
      return ErrorReason::kInvalid;
    case 429:
      return ErrorReason::kTooManyRequests;
    case 503:
      return ErrorReason::kUnavailable;
    case 504:
      return ErrorReason::kTimeout;
    default:
      break;
  }
  if (http_code >= 500) return ErrorReason::kServerError;
  // metav1.Status reasons when the code is unusual (e.g. an ERROR watch event without a code).
  if (api_reason == "NotFound") return ErrorReason::kNotFound;
  if (api_reason == "AlreadyExists") return ErrorReason::kAlreadyExists;
  if (api_reason == "Conflict") return ErrorReason::kConflict;
  if (api_reason == "Expired" || api_reason == "Gone") return ErrorReason::kGone;
  if (api_reason == "Forbidden") return ErrorReason::kForbidden;
  if (api_reason == "Unauthorized") return ErrorReason::kUnauthorized;
  if (api_reason == "Invalid") return ErrorReason::kInvalid;
  if (api_reason == "Timeout") return ErrorReason::kTimeout;
  return ErrorReason::kOther;
}

// A short, printable excerpt of an unknown body (no control characters, at most 200 bytes).
std::string Excerpt(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 200)) out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  if (body.size() > 200) out += "...";
  return out;
}

}  // namespace

std::string_view ErrorReasonName(ErrorReason reason) {
  for (const auto& [r, name] : kNames) {
    if (r == reason) return name;
  }
  return "Other";
}

ErrorReason ErrorReasonOf(const Status& status) {
  if (status.ok()) return ErrorReason::kNone;
  const std::string& m = status.message();
  const size_t space = m.find(' ');
  if (space == std::string::npos) return ErrorReason::kOther;
  const std::string_view word(m.data(), space);
  const std::string_view rest = std::string_view(m).substr(space + 1);
  if (!rest.starts_with("(HTTP ") && !rest.starts_with("on ")) return ErrorReason::kOther;
  for (const auto& [r, name] : kNames) {
    if (name == word && r != ErrorReason::kNone) return CodeFor(r) == status.code() ? r : ErrorReason::kOther;
  }
  return ErrorReason::kOther;
}

bool IsRetryable(const Status& s) {
  switch (ErrorReasonOf(s)) {
    case ErrorReason::kTooManyRequests:
    case ErrorReason::kTimeout:
    case ErrorReason::kServerError:
    case ErrorReason::kUnavailable:
    case ErrorReason::kInvalidResponse:
      return true;
    default:
      return false;
  }
}

Status MakeApiError(ErrorReason reason, int http_code, std::string_view context, std::string_view detail) {
  std::string message(ErrorReasonName(reason));
  if (http_code > 0) message += " (HTTP " + std::to_string(http_code) + ")";
  message += " on ";
  message += context;
  if (!detail.empty()) {
    message += ": ";
    message += detail;
  }
  return Status(CodeFor(reason), std::move(message));
}

Status StatusFromApiStatus(const nlohmann::json& object, int fallback_code, std::string_view context) {
  int code = fallback_code;
  std::string api_reason, message;
  if (object.is_object()) {
    if (auto it = object.find("code"); it != object.end() && it->is_number_integer()) code = it->get<int>();
    if (auto it = object.find("reason"); it != object.end() && it->is_string()) api_reason = it->get<std::string>();
    if (auto it = object.find("message"); it != object.end() && it->is_string()) message = it->get<std::string>();
  }
  if (message.empty()) message = api_reason.empty() ? "no message from the API server" : api_reason;
  ErrorReason reason = ReasonFor(code, api_reason);
  return MakeApiError(reason, code, context, message);
}

Status StatusFromHttpResponse(int http_code, std::string_view body, std::string_view context) {
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && parsed.value("kind", "") == "Status") {
    // The HTTP status is authoritative; the body's code normally matches it.
    nlohmann::json copy = parsed;
    copy["code"] = http_code;
    return StatusFromApiStatus(copy, http_code, context);
  }
  return MakeApiError(ReasonFor(http_code, ""), http_code, context,
                      body.empty() ? "empty response body" : Excerpt(body));
}

}  // namespace pipeguard::kube
