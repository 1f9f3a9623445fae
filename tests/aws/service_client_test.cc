// Retries, backoff and error parsing of ServiceClient, with an injected clock and random source.
#include "pipeguard/aws/service_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes.h"
#include "test_data.h"

namespace pipeguard::aws {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ServiceClientTest : public ::testing::Test {
 protected:
  ServiceClient Make(RetryPolicy policy, CallObserver observer = nullptr) {
    ServiceConfig config = IamServiceConfig();
    config.retry = std::move(policy);
    return ServiceClient(config, http_, &creds_, clock_, random_, std::move(observer));
  }
  testing::ScriptedHttpClient http_;
  testing::FakeClock clock_;
  testing::FractionRandom random_{1, 1};  // always the top of the jitter range
  StaticCredentialsProvider creds_{Credentials{"AKIDEXAMPLE", "secret", "", std::nullopt, "static"}};
};

TEST(Backoff, FullJitterCapsGrowExponentiallyUpToMaxDelay) {
  RetryPolicy p;
  p.base_delay = milliseconds(100);
  p.max_delay = milliseconds(1000);
  testing::FractionRandom top(1, 1);
  std::vector<std::int64_t> delays;
  for (int retry = 1; retry <= 6; ++retry) delays.push_back(BackoffDelay(p, retry, top).count());
  EXPECT_THAT(delays, ElementsAre(100, 200, 400, 800, 1000, 1000));
  testing::FractionRandom bottom(0, 1);
  EXPECT_EQ(BackoffDelay(p, 5, bottom).count(), 0) << "full jitter: the delay may be zero";
  testing::FractionRandom half(1, 2);
  EXPECT_EQ(BackoffDelay(p, 3, half).count(), 200);
  EXPECT_EQ(BackoffDelay(p, 1000, top).count(), 1000) << "no overflow for large retry numbers";
}

TEST(Backoff, RetryableClassification) {
  RetryPolicy p;
  auto err = [](std::string code, int status) {
    AwsError e;
    e.code = std::move(code);
    e.http_status = status;
    return e;
  };
  EXPECT_TRUE(IsRetryable(err("Throttling", 400), p));
  EXPECT_TRUE(IsRetryable(err("ThrottlingException", 400), p));
  EXPECT_TRUE(IsRetryable(err("RequestLimitExceeded", 503), p));
  EXPECT_TRUE(IsRetryable(err("ConcurrentModification", 409), p));
  EXPECT_TRUE(IsRetryable(err("HTTP 502", 502), p));
  EXPECT_TRUE(IsRetryable(err("whatever", 429), p));
  EXPECT_TRUE(IsRetryable(err(std::string(errc::kConnectionError), 0), p));
  EXPECT_FALSE(IsRetryable(err("NoSuchEntity", 404), p));
  EXPECT_FALSE(IsRetryable(err("MalformedPolicyDocument", 400), p));
  EXPECT_FALSE(IsRetryable(err("DeleteConflict", 409), p));
  EXPECT_FALSE(IsRetryable(err("AccessDenied", 403), p));
}

TEST_F(ServiceClientTest, RetriesThrottlingWithDeterministicBackoffThenSucceeds) {
  RetryPolicy p;
  p.base_delay = milliseconds(100);
  p.max_delay = milliseconds(20'000);
  std::vector<std::string> observed;
  auto client = Make(p, [&](const CallRecord& r) {
    observed.push_back(std::string(r.action) + " attempts=" + std::to_string(r.attempts) +
                       " status=" + std::to_string(r.http_status) + " error=" + std::string(r.error));
  });
  http_.Push(400, testing::ReadTestData("responses/error-throttling.xml"));
  http_.PushConnectionError();
  http_.Push(503, "<html>Service Unavailable</html>");
  http_.Push(200, "<GetRoleResponse/>");
  auto r = client.CallQuery("GetRole", "2010-05-08", {{"RoleName", "x"}});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(http_.sent.size(), 4u);
  EXPECT_THAT(clock_.sleeps, ElementsAre(milliseconds(100), milliseconds(200), milliseconds(400)));
  EXPECT_THAT(observed, ElementsAre("GetRole attempts=4 status=200 error="));
  // Each attempt is signed afresh at the time it is sent.
  EXPECT_EQ(*http_.sent[0].request.FindHeader("X-Amz-Date"), "20150830T123600Z");
  EXPECT_EQ(*http_.sent[3].request.FindHeader("X-Amz-Date"), "20150830T123600Z");  // 700 ms later, same second
  int authz = 0;
  for (const auto& [k, v] : http_.sent[3].request.headers) authz += k == "Authorization";
  EXPECT_EQ(authz, 1);
}

TEST_F(ServiceClientTest, GivesUpAfterMaxAttemptsWithTheLastError) {
  RetryPolicy p;
  p.max_attempts = 3;
  auto client = Make(p);
  http_.Push(400, testing::ReadTestData("responses/error-throttling.xml"));
  auto r = client.CallQuery("TagRole", "2010-05-08", {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().Is(errc::kThrottling));
  EXPECT_TRUE(r.error().retryable);
  EXPECT_EQ(r.error().status_code, StatusCode::kUnavailable);
  EXPECT_THAT(r.error().message, HasSubstr("gave up after 3 attempts"));
  EXPECT_EQ(http_.sent.size(), 3u);
  EXPECT_EQ(clock_.sleeps.size(), 2u);
}

TEST_F(ServiceClientTest, StopsAtTheDeadline) {
  RetryPolicy p;
  p.max_attempts = 100;
  p.base_delay = milliseconds(1000);
  p.max_delay = milliseconds(4000);
  p.deadline = milliseconds(6000);
  auto client = Make(p);
  http_.PushConnectionError();
  auto r = client.CallQuery("GetRole", "2010-05-08", {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().Is(errc::kConnectionError));
  EXPECT_EQ(r.error().status_code, StatusCode::kDeadlineExceeded);
  EXPECT_THAT(r.error().message, HasSubstr("deadline"));
  // Sleeps 1000 + 2000 (t=3000); the next 4000 would pass the 6000 ms deadline.
  EXPECT_THAT(clock_.sleeps, ElementsAre(milliseconds(1000), milliseconds(2000)));
  EXPECT_EQ(http_.sent.size(), 3u);
  // The per-attempt timeout never exceeds what is left of the deadline.
  EXPECT_EQ(http_.sent[0].timeout, milliseconds(6000));
  EXPECT_EQ(http_.sent[2].timeout, milliseconds(3000));
}

TEST_F(ServiceClientTest, DoesNotRetryClientErrors) {
  auto client = Make(RetryPolicy{});
  http_.Push(400,
             R"(<ErrorResponse><Error><Code>MalformedPolicyDocument</Code><Message>Syntax errors in policy.</Message>
    </Error><RequestId>r1</RequestId></ErrorResponse>)");
  auto r = client.CallQuery("PutRolePolicy", "2010-05-08", {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().Is(errc::kMalformedPolicyDocument));
  EXPECT_EQ(r.error().status_code, StatusCode::kInvalidArgument);
  EXPECT_EQ(http_.sent.size(), 1u);
  EXPECT_TRUE(clock_.sleeps.empty());
}

TEST_F(ServiceClientTest, UnsignedCallsCarryNoAuthorization) {
  ServiceClient client(StsServiceConfig("eu-west-1"), http_, nullptr, clock_, random_);
  http_.Push(200, "<X/>");
  ASSERT_TRUE(client.CallQuery("AssumeRoleWithWebIdentity", "2011-06-15", {}, /*sign=*/false).ok());
  EXPECT_EQ(http_.sent.back().request.FindHeader("Authorization"), nullptr);
  EXPECT_EQ(*http_.sent.back().request.FindHeader("Host"), "sts.eu-west-1.amazonaws.com");
  auto signed_call = client.CallQuery("GetCallerIdentity", "2011-06-15", {});
  ASSERT_FALSE(signed_call.ok());
  EXPECT_TRUE(signed_call.error().Is(errc::kNoCredentials));
}

TEST_F(ServiceClientTest, EndpointOverrideSetsHostWithPort) {
  ServiceConfig config = IamServiceConfig();
  config.endpoint = Endpoint::Parse("http://127.0.0.1:5000").value();
  ServiceClient client(config, http_, &creds_, clock_, random_);
  http_.Push(200, "<X/>");
  ASSERT_TRUE(client.CallQuery("GetRole", "2010-05-08", {}).ok());
  EXPECT_EQ(*http_.sent.back().request.FindHeader("Host"), "127.0.0.1:5000");
  EXPECT_EQ(http_.sent.back().endpoint.Origin(), "http://127.0.0.1:5000");
}

TEST(ParseAwsError, JsonProtocolErrors) {
  HttpResponse r;
  r.status = 400;
  r.body = R"({"__type":"com.amazonaws.ecr#ThrottlingException","message":"Rate exceeded"})";
  AwsError e = ParseAwsError(r, ServiceClient::ErrorFormat::kJson, "ECR GetAuthorizationToken");
  EXPECT_EQ(e.code, "ThrottlingException");
  EXPECT_EQ(e.message, "ECR GetAuthorizationToken: Rate exceeded");
  r.body = "not json";
  r.headers = {{"x-amzn-ErrorType", "AccessDeniedException:http://internal.amazon.com/coral/"}};
  r.status = 403;
  e = ParseAwsError(r, ServiceClient::ErrorFormat::kJson, "ECR");
  EXPECT_EQ(e.code, "AccessDeniedException");
  EXPECT_EQ(e.status_code, StatusCode::kPermissionDenied);
}

TEST(ParseAwsError, UnparseableBodiesFallBackToTheStatus) {
  HttpResponse r;
  r.status = 502;
  r.body = "<html>Bad Gateway";
  AwsError e = ParseAwsError(r, ServiceClient::ErrorFormat::kXml, "IAM GetRole");
  EXPECT_EQ(e.code, "HTTP 502");
  EXPECT_EQ(e.status_code, StatusCode::kUnavailable);
}

TEST(Endpoint, ParsesAndRejects) {
  auto e = Endpoint::Parse("https://iam.amazonaws.com");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->port, 443);
  EXPECT_EQ(e->HostHeader(), "iam.amazonaws.com");
  auto local = Endpoint::Parse("http://127.0.0.1:5000/");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->HostHeader(), "127.0.0.1:5000");
  auto v6 = Endpoint::Parse("http://[::1]:8080");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->HostHeader(), "[::1]:8080");
  for (const char* bad : {"iam.amazonaws.com", "ftp://x", "https://", "https://x:0", "https://x:99999",
                          "https://x/path", "https://user@x", "http://[::1"}) {
    auto r = Endpoint::Parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_THAT(r.error().message, HasSubstr("invalid AWS endpoint URL")) << bad;
  }
}

}  // namespace
}  // namespace pipeguard::aws
