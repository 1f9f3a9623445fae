#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes.h"
#include "pipeguard/aws/ecr.h"
#include "pipeguard/aws/sigv4.h"
#include "test_data.h"

namespace pipeguard::aws {
namespace {

using ::testing::HasSubstr;

class EcrClientTest : public ::testing::Test {
 protected:
  testing::ScriptedHttpClient http_;
  testing::FakeClock clock_;
  testing::FractionRandom random_;
  StaticCredentialsProvider creds_{Credentials{"AKIDEXAMPLE", "secret", "session", std::nullopt, "static"}};
  ServiceClient service_{EcrServiceConfig("eu-west-1"), http_, &creds_, clock_, random_};
  EcrClient ecr_{service_};
};

TEST_F(EcrClientTest, GetAuthorizationTokenSendsJson11AndDecodesTheToken) {
  http_.Push(200, testing::ReadTestData("responses/ecr-get-authorization-token.json"));
  auto auth = ecr_.GetAuthorizationToken();
  ASSERT_TRUE(auth.ok()) << auth.error().ToString();
  EXPECT_EQ(auth->username, "AWS");
  EXPECT_EQ(auth->password, "pipeguard-example-password");
  EXPECT_EQ(auth->proxy_endpoint, "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com");
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(auth->expires_at.time_since_epoch()).count(),
            1785412800123);

  const HttpRequest& sent = http_.sent[0].request;
  EXPECT_EQ(http_.sent[0].endpoint.host, "api.ecr.eu-west-1.amazonaws.com");
  EXPECT_EQ(*sent.FindHeader("X-Amz-Target"), "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken");
  EXPECT_EQ(*sent.FindHeader("Content-Type"), "application/x-amz-json-1.1");
  EXPECT_EQ(sent.body, "{}");
  EXPECT_EQ(*sent.FindHeader("X-Amz-Security-Token"), "session");
  EXPECT_THAT(*sent.FindHeader("Authorization"),
              HasSubstr("/eu-west-1/ecr/aws4_request, SignedHeaders=content-type;host;x-amz-date;"
                        "x-amz-security-token;x-amz-target, Signature="));
}

TEST_F(EcrClientTest, MalformedResponsesAreErrors) {
  for (const char* body :
       {"[]", R"({"authorizationData":[]})", R"({"authorizationData":[{"authorizationToken":"!!"}]})",
        R"({"authorizationData":[{"authorizationToken":"QVdT","expiresAt":1}]})",
        R"({"authorizationData":[{"authorizationToken":"QVdTOng=","expiresAt":"soon"}]})"}) {
    http_.Push(200, body);
    auto auth = ecr_.GetAuthorizationToken();
    ASSERT_FALSE(auth.ok()) << body;
    EXPECT_TRUE(auth.error().Is(errc::kBadResponse)) << body;
  }
}

TEST_F(EcrClientTest, ServiceErrorsUseTheJsonType) {
  http_.Push(400, R"({"__type":"AccessDeniedException","message":"User is not authorized"})");
  auto auth = ecr_.GetAuthorizationToken();
  ASSERT_FALSE(auth.ok());
  EXPECT_TRUE(auth.error().Is("AccessDeniedException"));
  EXPECT_EQ(auth.error().status_code, StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace pipeguard::aws
