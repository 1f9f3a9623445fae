// IAM, STS and ECR clients against a real moto server on loopback, through the real cpp-httplib transport.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "fakes.h"
#include "moto_server.h"
#include "pipeguard/aws/ecr.h"
#include "pipeguard/aws/iam.h"
#include "pipeguard/aws/policy_document.h"
#include "pipeguard/aws/sts.h"
#include "pipeguard/aws/xml.h"

namespace pipeguard::aws {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

std::string TrustPolicy(const std::string& service_account) {
  return R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",)"
         R"("Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/oidc.example.com/id/ABC"},)"
         R"("Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{)"
         R"("oidc.example.com/id/ABC:sub":"system:serviceaccount:)" +
         service_account + R"(","oidc.example.com/id/ABC:aud":"sts.amazonaws.com"}}}]})";
}

class MotoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = std::make_unique<testing::MotoServer>(); }
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override { ASSERT_TRUE(server_->ok()) << server_->error(); }

  // A client for `config`'s service, pointed at moto, signing with `creds` (null: unsigned only).
  std::unique_ptr<ServiceClient> Client(ServiceConfig config, CredentialsProvider* creds) {
    config.endpoint = Endpoint::Parse(server_->endpoint()).value();
    config.retry.max_attempts = 2;
    return std::make_unique<ServiceClient>(config, *http_, creds, SystemClock(), random_);
  }

  // Switches moto's request authentication (signature and IAM policy checks) on after `after` more requests, or
  // off with "inf".
  void SetMotoAuth(const std::string& after) {
    HttpRequest r;
    r.path = "/moto-api/reset-auth";
    r.headers = {{"Host", Endpoint::Parse(server_->endpoint())->HostHeader()}};
    r.body = after;
    auto resp = http_->Send(Endpoint::Parse(server_->endpoint()).value(), r, std::chrono::seconds(10));
    ASSERT_TRUE(resp.ok()) << resp.error().ToString();
    ASSERT_EQ(resp->status, 200) << resp->body;
  }

  // Creates a customer-managed policy (moto does not load AWS managed policies by default) and returns its ARN.
  std::string CreateManagedPolicy(const std::string& name) {
    auto service = Client(IamServiceConfig(), &dummy_);
    auto r = service->CallQuery(
        "CreatePolicy", "2010-05-08",
        {{"PolicyName", name},
         {"PolicyDocument",
          R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]})"}});
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    if (!r.ok()) return "";
    auto doc = ParseXml(r->body);
    return doc.ok() ? doc->Find({"CreatePolicyResult", "Policy"})->ChildText("Arn") : "";
  }

  static std::unique_ptr<testing::MotoServer> server_;
  std::unique_ptr<AwsHttpClient> http_ = MakeHttplibAwsHttpClient();
  SystemRandom random_;
  StaticCredentialsProvider dummy_{Credentials{"AKIAPIPEGUARDTEST000", "dummy", "", std::nullopt, "static"}};
};

std::unique_ptr<testing::MotoServer> MotoTest::server_;

TEST_F(MotoTest, CreateRoleWithBoundaryAndTagsThenGetIt) {
  auto service = Client(IamServiceConfig(), &dummy_);
  IamClient iam(*service);
  const std::string boundary = CreateManagedPolicy("pipeguard-boundary");
  CreateRoleRequest req;
  req.role_name = "pg-data-spark-etl";
  req.path = "/pipeguard/prod/";
  req.assume_role_policy_document = TrustPolicy("data:spark-etl");
  req.description = "pipeguard role for data/spark-etl";
  req.max_session_duration = 7200;
  req.permissions_boundary_arn = boundary;
  req.tags = {{"pipeguard.io/owner", "data/spark-etl"}, {"pipeguard.io/managed-by", "pipeguard"}};
  auto created = iam.CreateRole(req);
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  EXPECT_EQ(created->arn, "arn:aws:iam::123456789012:role/pipeguard/prod/pg-data-spark-etl");

  auto role = iam.GetRole("pg-data-spark-etl");
  ASSERT_TRUE(role.ok()) << role.error().ToString();
  EXPECT_EQ(role->path, "/pipeguard/prod/");
  EXPECT_EQ(role->description, "pipeguard role for data/spark-etl");
  EXPECT_EQ(role->max_session_duration, 7200);
  EXPECT_EQ(role->permissions_boundary_arn, boundary);
  EXPECT_THAT(role->tags, UnorderedElementsAre(Tag{"pipeguard.io/owner", "data/spark-etl"},
                                               Tag{"pipeguard.io/managed-by", "pipeguard"}));
  EXPECT_TRUE(PoliciesEquivalent(role->assume_role_policy_document, req.assume_role_policy_document))
      << role->assume_role_policy_document;

  auto again = iam.CreateRole(req);
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.error().Is(errc::kEntityAlreadyExists)) << again.error().ToString();
  auto missing = iam.GetRole("pg-missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.error().Is(errc::kNoSuchEntity)) << missing.error().ToString();
  EXPECT_EQ(missing.error().status_code, StatusCode::kNotFound);
}

TEST_F(MotoTest, RolePolicyRoundTripIsCanonicallyEqual) {
  auto service = Client(IamServiceConfig(), &dummy_);
  IamClient iam(*service);
  ASSERT_TRUE(iam.CreateRole({"pg-policy", "/pipeguard/", TrustPolicy("a:b")}).ok());
  const std::string desired =
      "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Sid\": \"Read\", \"Effect\": \"Allow\", "
      "\"Action\": [\"s3:GetObject\"], \"Resource\": [\"arn:aws:s3:::raw/in/*\"],\n"
      "     \"Condition\": {\"StringLike\": {\"s3:prefix\": [\"a+b c/%\"]}}},\n"
      "    {\"Sid\": \"Tls\", \"Effect\": \"Deny\", \"Action\": \"s3:*\", \"Resource\": \"*\", "
      "\"Condition\": {\"Bool\": {\"aws:SecureTransport\": \"false\"}}}\n  ]\n}";
  auto put = iam.PutRolePolicy("pg-policy", "pipeguard", desired);
  ASSERT_TRUE(put.ok()) << put.error().ToString();
  auto got = iam.GetRolePolicy("pg-policy", "pipeguard");
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(*got, desired) << "the URL-encoded document decodes to exactly what was sent";
  EXPECT_TRUE(PoliciesEquivalent(*got, desired));
  auto names = iam.ListRolePolicies("pg-policy");
  ASSERT_TRUE(names.ok());
  EXPECT_THAT(*names, UnorderedElementsAre("pipeguard"));

  auto malformed = iam.PutRolePolicy(
      "pg-policy", "bad", R"({"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"s3:GetObject"}]})");
  ASSERT_FALSE(malformed.ok());
  EXPECT_TRUE(malformed.error().Is(errc::kMalformedPolicyDocument)) << malformed.error().ToString();
}

TEST_F(MotoTest, UpdateTrustPolicyAndBoundary) {
  auto service = Client(IamServiceConfig(), &dummy_);
  IamClient iam(*service);
  ASSERT_TRUE(iam.CreateRole({"pg-trust", "/pipeguard/", TrustPolicy("ns:old")}).ok());
  ASSERT_TRUE(iam.UpdateAssumeRolePolicy("pg-trust", TrustPolicy("ns:new")).ok());
  auto role = iam.GetRole("pg-trust");
  ASSERT_TRUE(role.ok());
  EXPECT_TRUE(PoliciesEquivalent(role->assume_role_policy_document, TrustPolicy("ns:new")));
  EXPECT_FALSE(PoliciesEquivalent(role->assume_role_policy_document, TrustPolicy("ns:old")));
  EXPECT_EQ(role->permissions_boundary_arn, "");

  const std::string boundary = CreateManagedPolicy("pipeguard-boundary-2");
  ASSERT_TRUE(iam.PutRolePermissionsBoundary("pg-trust", boundary).ok());
  EXPECT_EQ(iam.GetRole("pg-trust")->permissions_boundary_arn, boundary);
  ASSERT_TRUE(iam.DeleteRolePermissionsBoundary("pg-trust").ok());
  EXPECT_EQ(iam.GetRole("pg-trust")->permissions_boundary_arn, "");
}

TEST_F(MotoTest, UpdateRoleMaxSessionDuration) {
  auto service = Client(IamServiceConfig(), &dummy_);
  IamClient iam(*service);
  ASSERT_TRUE(iam.CreateRole({"pg-session", "/pipeguard/", TrustPolicy("ns:a")}).ok());
  EXPECT_EQ(iam.GetRole("pg-session")->max_session_duration, 3600);
  ASSERT_TRUE(iam.UpdateRoleMaxSessionDuration("pg-session", 43200).ok());
  EXPECT_EQ(iam.GetRole("pg-session")->max_session_duration, 43200);
  auto missing = iam.UpdateRoleMaxSessionDuration("pg-nobody", 3600);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.error().Is(errc::kNoSuchEntity)) << missing.error().ToString();
}

TEST_F(MotoTest, TagAndUntag) {
  auto service = Client(IamServiceConfig(), &dummy_);
  IamClient iam(*service);
  ASSERT_TRUE(iam.CreateRole({"pg-tags", "/", TrustPolicy("a:b")}).ok());
  ASSERT_TRUE(iam.TagRole("pg-tags", {{"pipeguard.io/owner", "a/b"}, {"team", "data eng"}}).ok());
  auto tags = iam.ListRoleTags("pg-tags");
  ASSERT_TRUE(tags.ok()) << tags.error().ToString();
  EXPECT_THAT(*tags, UnorderedElementsAre(Tag{"pipeguard.io/owner", "a/b"}, Tag{"team", "data eng"}));
  ASSERT_TRUE(iam.UntagRole("pg-tags", {"team"}).ok());
  EXPECT_THAT(*iam.ListRoleTags("pg-tags"), UnorderedElementsAre(Tag{"pipeguard.io/owner", "a/b"}));
  auto missing = iam.TagRole("pg-none", {{"k", "v"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.error().Is(errc::kNoSuchEntity));
}

TEST_F(MotoTest, DeleteRoleNeedsPoliciesRemovedFirst) {
  auto service = Client(IamServiceConfig(), &dummy_);
  IamClient iam(*service);
  ASSERT_TRUE(iam.CreateRole({"pg-delete", "/pipeguard/", TrustPolicy("a:b")}).ok());
  const std::string doc = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket",)"
                          R"("Resource":"arn:aws:s3:::b"}]})";
  ASSERT_TRUE(iam.PutRolePolicy("pg-delete", "one", doc).ok());
  ASSERT_TRUE(iam.PutRolePolicy("pg-delete", "two", doc).ok());
  const std::string managed = CreateManagedPolicy("pipeguard-extra");
  auto attach = iam.AttachRolePolicy("pg-delete", managed);
  ASSERT_TRUE(attach.ok()) << attach.error().ToString();

  auto conflict = iam.DeleteRole("pg-delete");
  ASSERT_FALSE(conflict.ok());
  EXPECT_TRUE(conflict.error().Is(errc::kDeleteConflict)) << conflict.error().ToString();
  EXPECT_EQ(conflict.error().status_code, StatusCode::kFailedPrecondition);

  // The proper order: inline policies, then managed policies, then the role.
  auto inline_names = iam.ListRolePolicies("pg-delete");
  ASSERT_TRUE(inline_names.ok());
  EXPECT_THAT(*inline_names, UnorderedElementsAre("one", "two"));
  for (const auto& name : *inline_names) ASSERT_TRUE(iam.DeleteRolePolicy("pg-delete", name).ok());
  auto attached = iam.ListAttachedRolePolicies("pg-delete");
  ASSERT_TRUE(attached.ok()) << attached.error().ToString();
  ASSERT_EQ(attached->size(), 1u);
  EXPECT_EQ((*attached)[0].name, "pipeguard-extra");
  EXPECT_EQ((*attached)[0].arn, managed);
  for (const auto& p : *attached) ASSERT_TRUE(iam.DetachRolePolicy("pg-delete", p.arn).ok());
  auto deleted = iam.DeleteRole("pg-delete");
  ASSERT_TRUE(deleted.ok()) << deleted.error().ToString();
  EXPECT_TRUE(iam.GetRole("pg-delete").error().Is(errc::kNoSuchEntity));
  EXPECT_TRUE(iam.DeleteRole("pg-delete").error().Is(errc::kNoSuchEntity));
}

TEST_F(MotoTest, ListRolesByPathPrefix) {
  auto service = Client(IamServiceConfig(), &dummy_);
  IamClient iam(*service);
  ASSERT_TRUE(iam.CreateRole({"pg-gc-1", "/pipeguard/gc/", TrustPolicy("a:b")}).ok());
  ASSERT_TRUE(iam.CreateRole({"pg-gc-2", "/pipeguard/gc/", TrustPolicy("a:c")}).ok());
  ASSERT_TRUE(iam.CreateRole({"other", "/elsewhere/", TrustPolicy("a:d")}).ok());
  auto roles = iam.ListRoles("/pipeguard/gc/");
  ASSERT_TRUE(roles.ok()) << roles.error().ToString();
  std::vector<std::string> names;
  for (const auto& r : *roles) names.push_back(r.name);
  EXPECT_THAT(names, UnorderedElementsAre("pg-gc-1", "pg-gc-2"));
}

TEST_F(MotoTest, StsGetCallerIdentityAndWebIdentity) {
  auto sts_signed = Client(StsServiceConfig("us-east-1"), &dummy_);
  auto id = StsClient(*sts_signed).GetCallerIdentity();
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  EXPECT_EQ(id->account, "123456789012");

  // IRSA: a web identity provider reading a token file, making the unsigned AssumeRoleWithWebIdentity call.
  auto iam_service = Client(IamServiceConfig(), &dummy_);
  ASSERT_TRUE(IamClient(*iam_service).CreateRole({"pipeguard-operator", "/", TrustPolicy("pg:operator")}).ok());
  auto sts_unsigned = Client(StsServiceConfig("us-east-1"), nullptr);
  StsClient sts(*sts_unsigned);
  const auto token_file = server_->dir() / "token";
  std::ofstream(token_file) << "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6cGc6b3BlcmF0b3IifQ.sig\n";
  WebIdentityConfig config;
  config.role_arn = "arn:aws:iam::123456789012:role/pipeguard-operator";
  config.token_file = token_file.string();
  config.session_name = "pipeguard-it";
  WebIdentityCredentialsProvider web(config, sts, SystemClock());
  auto creds = web.Get();
  ASSERT_TRUE(creds.ok()) << creds.error().ToString();
  EXPECT_FALSE(creds->session_token.empty());
  ASSERT_TRUE(creds->expiration.has_value());
  EXPECT_GT(*creds->expiration, std::chrono::system_clock::now());

  // The assumed credentials sign the next call (with X-Amz-Security-Token).
  auto sts_as_role = Client(StsServiceConfig("us-east-1"), &web);
  auto as_role = StsClient(*sts_as_role).GetCallerIdentity();
  ASSERT_TRUE(as_role.ok()) << as_role.error().ToString();
  EXPECT_THAT(as_role->arn, HasSubstr("assumed-role/pipeguard-operator/pipeguard-it"));
}

TEST_F(MotoTest, EcrGetAuthorizationToken) {
  auto service = Client(EcrServiceConfig("eu-west-1"), &dummy_);
  auto auth = EcrClient(*service).GetAuthorizationToken();
  ASSERT_TRUE(auth.ok()) << auth.error().ToString();
  EXPECT_EQ(auth->username, "AWS");
  EXPECT_FALSE(auth->password.empty());
  EXPECT_THAT(auth->proxy_endpoint, HasSubstr(".dkr.ecr.eu-west-1.amazonaws.com"));
  // moto answers a fixed expiresAt of 2015-01-01T00:00:00Z (real ECR: 12 hours ahead).
  EXPECT_EQ(std::chrono::system_clock::to_time_t(auth->expires_at), 1420070400);
}

// moto accepts any signature by default. With authentication switched on (/moto-api/reset-auth) it recomputes
// every signature with botocore and checks the key against its IAM: this is the independent check of the signer
// on real IAM (form POST), STS and ECR (JSON 1.1) requests.
TEST_F(MotoTest, SignaturesVerifiedByMotoWhenAuthenticationIsOn) {
  auto bootstrap = Client(IamServiceConfig(), &dummy_);
  auto user = bootstrap->CallQuery("CreateUser", "2010-05-08", {{"UserName", "pipeguard-signer"}});
  ASSERT_TRUE(user.ok()) << user.error().ToString();
  const char* allow_all = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})";
  ASSERT_TRUE(bootstrap
                  ->CallQuery("PutUserPolicy", "2010-05-08",
                              {{"UserName", "pipeguard-signer"}, {"PolicyName", "all"}, {"PolicyDocument", allow_all}})
                  .ok());
  auto key = bootstrap->CallQuery("CreateAccessKey", "2010-05-08", {{"UserName", "pipeguard-signer"}});
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  auto doc = ParseXml(key->body);
  ASSERT_TRUE(doc.ok());
  const XmlElement* access_key = doc->Find({"CreateAccessKeyResult", "AccessKey"});
  ASSERT_NE(access_key, nullptr);
  Credentials real{access_key->ChildText("AccessKeyId"), access_key->ChildText("SecretAccessKey"), "", std::nullopt,
                   "static"};
  Credentials wrong_secret = real;
  wrong_secret.secret_access_key += "x";

  SetMotoAuth("0");
  StaticCredentialsProvider real_provider(real), wrong_provider(wrong_secret);
  auto iam_real = Client(IamServiceConfig(), &real_provider);
  auto iam_wrong = Client(IamServiceConfig(), &wrong_provider);
  auto iam_unknown = Client(IamServiceConfig(), &dummy_);
  auto sts_real = Client(StsServiceConfig("us-east-1"), &real_provider);
  auto ecr_real = Client(EcrServiceConfig("eu-west-1"), &real_provider);

  auto listed = IamClient(*iam_real).ListRoles("/");
  auto created = IamClient(*iam_real).CreateRole({"pg-signed", "/pipeguard/", TrustPolicy("s:t")});
  auto id = StsClient(*sts_real).GetCallerIdentity();
  auto token = EcrClient(*ecr_real).GetAuthorizationToken();
  auto forged = IamClient(*iam_wrong).ListRoles("/");
  auto unknown = IamClient(*iam_unknown).ListRoles("/");
  SetMotoAuth("inf");

  EXPECT_TRUE(listed.ok()) << listed.error().ToString();
  EXPECT_TRUE(created.ok()) << created.error().ToString();
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  EXPECT_THAT(id->arn, HasSubstr("user/pipeguard-signer"));
  EXPECT_TRUE(token.ok()) << token.error().ToString();
  ASSERT_FALSE(forged.ok());
  EXPECT_TRUE(forged.error().Is(errc::kSignatureDoesNotMatch)) << forged.error().ToString();
  ASSERT_FALSE(unknown.ok());
  EXPECT_TRUE(unknown.error().Is(errc::kInvalidClientTokenId)) << unknown.error().ToString();
}

TEST_F(MotoTest, ConnectionErrorsAreRetriedWithBackoffThenReported) {
  // A port on which nothing listens: the real transport fails at once; the fake clock records the backoff.
  testing::FakeClock clock;
  testing::FractionRandom random(1, 1);
  ServiceConfig config = IamServiceConfig();
  config.endpoint = Endpoint::Parse("http://127.0.0.1:1").value();
  config.retry.max_attempts = 3;
  config.retry.base_delay = std::chrono::milliseconds(50);
  ServiceClient client(config, *http_, &dummy_, clock, random);
  auto r = IamClient(client).GetRole("pg-a");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().Is(errc::kConnectionError)) << r.error().ToString();
  EXPECT_THAT(r.error().message, HasSubstr("gave up after 3 attempts"));
  EXPECT_THAT(clock.sleeps, ::testing::ElementsAre(std::chrono::milliseconds(50), std::chrono::milliseconds(100)));
}

}  // namespace
}  // namespace pipeguard::aws
