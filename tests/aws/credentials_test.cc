#include "pipeguard/aws/credentials.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "fakes.h"
#include "pipeguard/aws/sts.h"
#include "test_data.h"

namespace pipeguard::aws {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

EnvironmentLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(EnvironmentCredentials, ReadsKeysAndToken) {
  EnvironmentCredentialsProvider p(FakeEnv({{"AWS_ACCESS_KEY_ID", "AKIAEXAMPLE1234"},
                                            {"AWS_SECRET_ACCESS_KEY", "s3cr3t-value\n"},
                                            {"AWS_SESSION_TOKEN", "tok"}}));
  auto c = p.Get();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AKIAEXAMPLE1234");
  EXPECT_EQ(c->secret_access_key, "s3cr3t-value");
  EXPECT_EQ(c->session_token, "tok");
  EXPECT_EQ(c->Describe(), "environment credentials, access key ...1234 (temporary)");
  EXPECT_THAT(c->Describe(), Not(HasSubstr("s3cr3t")));
}

TEST(EnvironmentCredentials, MissingOrHalfConfigured) {
  auto none = EnvironmentCredentialsProvider(FakeEnv({})).Get();
  ASSERT_FALSE(none.ok());
  EXPECT_TRUE(none.error().Is(errc::kNoCredentials));
  auto half = EnvironmentCredentialsProvider(FakeEnv({{"AWS_SECRET_ACCESS_KEY", "s3cr3t"}})).Get();
  ASSERT_FALSE(half.ok());
  EXPECT_TRUE(half.error().Is(errc::kInvalidRequest));
  EXPECT_THAT(half.error().message, HasSubstr("AWS_ACCESS_KEY_ID is not set"));
  EXPECT_THAT(half.error().message, Not(HasSubstr("s3cr3t")));
}

class WebIdentityTest : public ::testing::Test {
 protected:
  WebIdentityTest()
      : dir_(std::filesystem::temp_directory_path() / ("pipeguard-aws-test-" + std::to_string(::getpid()))),
        service_(StsServiceConfig("us-east-1"), http_, nullptr, clock_, random_),
        sts_(service_) {
    std::filesystem::create_directories(dir_);
    WriteToken("token-one");
  }
  ~WebIdentityTest() override { std::filesystem::remove_all(dir_); }

  void WriteToken(const std::string& token) { std::ofstream(dir_ / "token") << token << "\n"; }
  WebIdentityConfig Config() {
    WebIdentityConfig c;
    c.role_arn = "arn:aws:iam::123456789012:role/pipeguard-operator";
    c.token_file = (dir_ / "token").string();
    c.session_name = "pipeguard-test";
    c.refresh_margin = std::chrono::minutes(5);
    return c;
  }

  std::filesystem::path dir_;
  testing::ScriptedHttpClient http_;
  testing::FakeClock clock_;  // 12:36:00; the canned credentials expire at 13:36:00
  testing::FractionRandom random_;
  ServiceClient service_;
  StsClient sts_;
};

TEST_F(WebIdentityTest, CachesUntilExpiryMinusMarginAndRereadsTheTokenFile) {
  http_.Push(200, testing::ReadTestData("responses/assume-role-with-web-identity.xml"));
  WebIdentityCredentialsProvider provider(Config(), sts_, clock_);
  auto first = provider.Get();
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  EXPECT_EQ(first->access_key_id, "ASIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(first->session_token, "FwoGZXIvYXdzEXAMPLESESSIONTOKEN");
  EXPECT_EQ(first->provider, "web-identity");
  ASSERT_EQ(http_.sent.size(), 1u);
  const HttpRequest& sent = http_.sent[0].request;
  EXPECT_EQ(sent.FindHeader("Authorization"), nullptr) << "AssumeRoleWithWebIdentity is unsigned";
  auto form = testing::ParseForm(sent.body);
  EXPECT_EQ(testing::FormValue(form, "Action"), "AssumeRoleWithWebIdentity");
  EXPECT_EQ(testing::FormValue(form, "Version"), "2011-06-15");
  EXPECT_EQ(testing::FormValue(form, "RoleArn"), "arn:aws:iam::123456789012:role/pipeguard-operator");
  EXPECT_EQ(testing::FormValue(form, "RoleSessionName"), "pipeguard-test");
  EXPECT_EQ(testing::FormValue(form, "WebIdentityToken"), "token-one");

  clock_.Advance(std::chrono::minutes(54));  // 13:30, still more than 5 minutes before 13:36
  ASSERT_TRUE(provider.Get().ok());
  EXPECT_EQ(http_.sent.size(), 1u) << "served from the cache";

  WriteToken("token-two");                  // kubelet rotated the projected token
  clock_.Advance(std::chrono::minutes(2));  // 13:32, inside the margin
  ASSERT_TRUE(provider.Get().ok());
  ASSERT_EQ(http_.sent.size(), 2u);
  EXPECT_EQ(testing::FormValue(testing::ParseForm(http_.sent[1].request.body), "WebIdentityToken"), "token-two");
}

TEST_F(WebIdentityTest, StsErrorsKeepTheirCodeAndNeverTheToken) {
  http_.Push(400, testing::ReadTestData("responses/sts-error-invalid-identity-token.xml"));
  WebIdentityCredentialsProvider provider(Config(), sts_, clock_);
  auto c = provider.Get();
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.error().Is(errc::kInvalidIdentityToken));
  EXPECT_EQ(c.error().status_code, StatusCode::kPermissionDenied);
  EXPECT_THAT(c.error().ToString(), HasSubstr("pipeguard-operator"));
  EXPECT_THAT(c.error().ToString(), Not(HasSubstr("token-one")));
}

TEST_F(WebIdentityTest, MissingTokenFileIsAClearError) {
  WebIdentityConfig config = Config();
  config.token_file = (dir_ / "absent").string();
  WebIdentityCredentialsProvider provider(config, sts_, clock_);
  auto c = provider.Get();
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.error().message, HasSubstr("AWS_WEB_IDENTITY_TOKEN_FILE"));
  EXPECT_TRUE(http_.sent.empty());
}

TEST_F(WebIdentityTest, ChainPrefersEnvironmentThenWebIdentity) {
  auto env = FakeEnv({{"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/pipeguard-operator"},
                      {"AWS_WEB_IDENTITY_TOKEN_FILE", (dir_ / "token").string()}});
  auto chain = MakeDefaultCredentialsChain(env, sts_, clock_);
  http_.Push(200, testing::ReadTestData("responses/assume-role-with-web-identity.xml"));
  auto c = chain->Get();
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->provider, "web-identity");

  auto env_keys = FakeEnv({{"AWS_ACCESS_KEY_ID", "AKIAENV"},
                           {"AWS_SECRET_ACCESS_KEY", "x"},
                           {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/r"},
                           {"AWS_WEB_IDENTITY_TOKEN_FILE", (dir_ / "token").string()}});
  auto c2 = MakeDefaultCredentialsChain(env_keys, sts_, clock_)->Get();
  ASSERT_TRUE(c2.ok());
  EXPECT_EQ(c2->provider, "environment");

  auto nothing = MakeDefaultCredentialsChain(FakeEnv({}), sts_, clock_)->Get();
  ASSERT_FALSE(nothing.ok());
  EXPECT_TRUE(nothing.error().Is(errc::kNoCredentials));
  EXPECT_THAT(nothing.error().message, HasSubstr("AWS_WEB_IDENTITY_TOKEN_FILE"));
}

TEST(StsParsing, Iso8601) {
  auto t = ParseIso8601("2015-08-30T13:36:00Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*t), 1440941760);
  EXPECT_TRUE(ParseIso8601("2015-08-30T13:36:00.123Z").has_value());
  EXPECT_TRUE(ParseIso8601("2015-08-30T13:36:00+00:00").has_value());
  EXPECT_FALSE(ParseIso8601("2015-08-30 13:36:00").has_value());
  EXPECT_FALSE(ParseIso8601("2015-13-30T13:36:00Z").has_value());
  EXPECT_FALSE(ParseIso8601("2015-08-30T13:36:00+02:00").has_value());
}

TEST(StsClientTest, GetCallerIdentityIsSigned) {
  testing::ScriptedHttpClient http;
  testing::FakeClock clock;
  testing::FractionRandom random;
  StaticCredentialsProvider creds(Credentials{"AKIDEXAMPLE", "secret", "", std::nullopt, "static"});
  ServiceClient service(StsServiceConfig("us-east-1"), http, &creds, clock, random);
  http.Push(200, testing::ReadTestData("responses/get-caller-identity.xml"));
  auto id = StsClient(service).GetCallerIdentity();
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  EXPECT_EQ(id->account, "123456789012");
  EXPECT_THAT(*http.sent[0].request.FindHeader("Authorization"), HasSubstr("/us-east-1/sts/aws4_request"));
}

}  // namespace
}  // namespace pipeguard::aws
