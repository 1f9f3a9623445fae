// metav1.Status bodies and HTTP codes map to typed errors; ErrorReasonOf reads them back.
#include "pipeguard/kube/errors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pipeguard::kube {
namespace {
using ::testing::HasSubstr;

std::string ApiStatus(int code, const std::string& reason, const std::string& message) {
  return nlohmann::json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
                        {"reason", reason}, {"code", code},       {"message", message}}
      .dump();
}

TEST(ErrorsTest, MapsApiStatusBodies) {
  struct Case {
    int code;
    const char* reason;
    ErrorReason expected;
    StatusCode status_code;
  };
  const Case cases[] = {
      {404, "NotFound", ErrorReason::kNotFound, StatusCode::kNotFound},
      {409, "AlreadyExists", ErrorReason::kAlreadyExists, StatusCode::kFailedPrecondition},
      {409, "Conflict", ErrorReason::kConflict, StatusCode::kFailedPrecondition},
      {410, "Expired", ErrorReason::kGone, StatusCode::kFailedPrecondition},
      {401, "Unauthorized", ErrorReason::kUnauthorized, StatusCode::kPermissionDenied},
      {403, "Forbidden", ErrorReason::kForbidden, StatusCode::kPermissionDenied},
      {422, "Invalid", ErrorReason::kInvalid, StatusCode::kInvalidArgument},
      {400, "BadRequest", ErrorReason::kBadRequest, StatusCode::kInvalidArgument},
      {429, "TooManyRequests", ErrorReason::kTooManyRequests, StatusCode::kUnavailable},
      {500, "InternalError", ErrorReason::kServerError, StatusCode::kUnavailable},
      {503, "ServiceUnavailable", ErrorReason::kUnavailable, StatusCode::kUnavailable},
      {504, "Timeout", ErrorReason::kTimeout, StatusCode::kDeadlineExceeded},
  };
  for (const auto& c : cases) {
    Status s = StatusFromHttpResponse(c.code, ApiStatus(c.code, c.reason, "the message"), "GET /api/v1/x");
    EXPECT_EQ(ErrorReasonOf(s), c.expected) << c.code << " " << c.reason << ": " << s.message();
    EXPECT_EQ(s.code(), c.status_code) << c.code;
    EXPECT_THAT(s.message(), HasSubstr("the message"));
    EXPECT_THAT(s.message(), HasSubstr("GET /api/v1/x"));
    EXPECT_THAT(s.message(), HasSubstr("(HTTP " + std::to_string(c.code) + ")"));
  }
}

TEST(ErrorsTest, PredicatesAndRetryability) {
  Status conflict = StatusFromHttpResponse(409, ApiStatus(409, "Conflict", "modified"), "PUT /x");
  EXPECT_TRUE(IsConflict(conflict));
  EXPECT_FALSE(IsAlreadyExists(conflict));
  EXPECT_FALSE(IsRetryable(conflict));
  EXPECT_TRUE(IsRetryable(StatusFromHttpResponse(429, "", "GET /x")));
  EXPECT_TRUE(IsRetryable(MakeApiError(ErrorReason::kUnavailable, 0, "GET /x", "connection refused")));
  EXPECT_TRUE(IsGone(StatusFromApiStatus(nlohmann::json::parse(ApiStatus(410, "Expired", "too old")), 500, "WATCH")));
  EXPECT_EQ(ErrorReasonOf(Status::Ok()), ErrorReason::kNone);
}

TEST(ErrorsTest, ForeignStatusesAreNotMisread) {
  EXPECT_EQ(ErrorReasonOf(Status::NotFound("NotFound something")), ErrorReason::kOther);
  EXPECT_EQ(ErrorReasonOf(Status::InvalidArgument("Conflict (HTTP 409) on x")), ErrorReason::kOther);
}

TEST(ErrorsTest, NonStatusBodiesAreExcerptedAndSanitised) {
  std::string body = "<html>\n" + std::string(500, 'x');
  Status s = StatusFromHttpResponse(502, body, "GET /x");
  EXPECT_EQ(ErrorReasonOf(s), ErrorReason::kServerError);
  EXPECT_THAT(s.message(), ::testing::Not(HasSubstr("\n")));
  EXPECT_LT(s.message().size(), 300u);
  EXPECT_THAT(StatusFromHttpResponse(404, "", "GET /x").message(), HasSubstr("empty response body"));
}

TEST(ErrorsTest, WatchErrorEventWithoutCodeUsesTheReason) {
  Status s = StatusFromApiStatus({{"kind", "Status"}, {"reason", "Expired"}, {"message", "gone"}}, 0, "WATCH x");
  EXPECT_TRUE(IsGone(s));
}

}  // namespace
}  // namespace pipeguard::kube
