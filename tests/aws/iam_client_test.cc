// IamClient against scripted HTTP responses: request encoding, response parsing, errors as values.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fakes.h"
#include "pipeguard/aws/iam.h"
#include "pipeguard/aws/policy_document.h"
#include "test_data.h"

namespace pipeguard::aws {
namespace {

using testing::FormValue;
using ::testing::HasSubstr;
using testing::ParseForm;
using testing::ReadTestData;

class IamClientTest : public ::testing::Test {
 protected:
  IamClientTest()
      : creds_(Credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", std::nullopt, "static"}),
        service_(IamServiceConfig(), http_, &creds_, clock_, random_),
        iam_(service_) {}

  QueryParams LastForm() const { return ParseForm(http_.sent.back().request.body); }

  testing::ScriptedHttpClient http_;
  testing::FakeClock clock_;
  testing::FractionRandom random_;
  StaticCredentialsProvider creds_;
  ServiceClient service_;
  IamClient iam_;
};

constexpr char kTrust[] =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},)"
    R"("Action":"sts:AssumeRole"}]})";

TEST_F(IamClientTest, GetRoleDecodesTheTrustPolicyAndReadsBoundaryAndTags) {
  http_.Push(200, ReadTestData("responses/get-role.xml"));
  auto role = iam_.GetRole("pg-data-spark-etl");
  ASSERT_TRUE(role.ok()) << role.error().ToString();
  EXPECT_EQ(role->arn, "arn:aws:iam::123456789012:role/pipeguard/prod/pg-data-spark-etl");
  EXPECT_EQ(role->path, "/pipeguard/prod/");
  EXPECT_EQ(role->max_session_duration, 3600);
  EXPECT_EQ(role->permissions_boundary_arn, "arn:aws:iam::123456789012:policy/pipeguard-boundary");
  EXPECT_EQ(role->tags,
            (std::vector<Tag>{{"pipeguard.io/owner", "data/spark-etl"}, {"pipeguard.io/cluster", "prod-eu"}}));
  auto doc = nlohmann::json::parse(role->assume_role_policy_document);
  EXPECT_EQ(doc["Statement"][0]["Condition"]["StringEquals"]
               ["oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub"],
            "system:serviceaccount:data:spark-etl");

  const testing::Sent& sent = http_.sent.back();
  EXPECT_EQ(sent.endpoint.host, "iam.amazonaws.com");
  EXPECT_EQ(sent.request.method, "POST");
  EXPECT_EQ(*sent.request.FindHeader("Host"), "iam.amazonaws.com");
  EXPECT_EQ(*sent.request.FindHeader("Content-Type"), "application/x-www-form-urlencoded; charset=utf-8");
  EXPECT_THAT(*sent.request.FindHeader("Authorization"),
              HasSubstr("Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request"));
  EXPECT_EQ(sent.request.body, "Action=GetRole&Version=2010-05-08&RoleName=pg-data-spark-etl");
}

TEST_F(IamClientTest, ErrorsCarryTheAwsCodeAndRequestId) {
  http_.Push(404, ReadTestData("responses/error-no-such-entity.xml"));
  auto role = iam_.GetRole("pg-missing");
  ASSERT_FALSE(role.ok());
  EXPECT_TRUE(role.error().Is(errc::kNoSuchEntity));
  EXPECT_EQ(role.error().http_status, 404);
  EXPECT_EQ(role.error().status_code, StatusCode::kNotFound);
  EXPECT_EQ(role.error().request_id, "8e2b5c7b-5c47-4c6c-9f4e-0EXAMPLE0001");
  EXPECT_THAT(role.error().ToString(), HasSubstr("IAM GetRole: The role with name pg-missing cannot be found."));
  EXPECT_FALSE(role.error().retryable);
  EXPECT_EQ(http_.sent.size(), 1u) << "NoSuchEntity is not retried";
}

TEST_F(IamClientTest, DeleteConflictIsAFailedPrecondition) {
  http_.Push(409, ReadTestData("responses/error-delete-conflict.xml"));
  auto r = iam_.DeleteRole("pg-data-spark-etl");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().Is(errc::kDeleteConflict));
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(IamClientTest, CreateRoleEncodesEveryParameter) {
  http_.Push(200, R"(<CreateRoleResponse><CreateRoleResult><Role><RoleName>pg-a</RoleName>
    <Arn>arn:aws:iam::123456789012:role/pipeguard/pg-a</Arn><Path>/pipeguard/</Path>
    <AssumeRolePolicyDocument>%7B%7D</AssumeRolePolicyDocument></Role></CreateRoleResult></CreateRoleResponse>)");
  CreateRoleRequest req;
  req.role_name = "pg-a";
  req.path = "/pipeguard/";
  req.assume_role_policy_document = kTrust;
  req.description = "pipeguard role for a/b";
  req.max_session_duration = 7200;
  req.permissions_boundary_arn = "arn:aws:iam::123456789012:policy/boundary";
  req.tags = {{"pipeguard.io/owner", "a/b"}, {"pipeguard.io/managed-by", "pipeguard"}};
  auto role = iam_.CreateRole(req);
  ASSERT_TRUE(role.ok()) << role.error().ToString();
  EXPECT_EQ(role->arn, "arn:aws:iam::123456789012:role/pipeguard/pg-a");
  auto form = LastForm();
  EXPECT_EQ(FormValue(form, "Action"), "CreateRole");
  EXPECT_EQ(FormValue(form, "Version"), "2010-05-08");
  EXPECT_EQ(FormValue(form, "Path"), "/pipeguard/");
  EXPECT_EQ(FormValue(form, "AssumeRolePolicyDocument"), kTrust);
  EXPECT_EQ(FormValue(form, "MaxSessionDuration"), "7200");
  EXPECT_EQ(FormValue(form, "PermissionsBoundary"), "arn:aws:iam::123456789012:policy/boundary");
  EXPECT_EQ(FormValue(form, "Tags.member.1.Key"), "pipeguard.io/owner");
  EXPECT_EQ(FormValue(form, "Tags.member.1.Value"), "a/b");
  EXPECT_EQ(FormValue(form, "Tags.member.2.Key"), "pipeguard.io/managed-by");
  // Form values are encoded with %20, never '+', so a '+' in a document survives.
  EXPECT_THAT(http_.sent.back().request.body, HasSubstr("Description=pipeguard%20role%20for%20a%2Fb"));
}

TEST_F(IamClientTest, InvalidInputIsRejectedBeforeAnyCall) {
  CreateRoleRequest req;
  req.role_name = std::string(65, 'r');
  req.assume_role_policy_document = kTrust;
  auto r = iam_.CreateRole(req);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().Is(errc::kInvalidRequest));
  EXPECT_THAT(r.error().message, HasSubstr("1 to 64 characters"));
  auto r2 = iam_.UpdateAssumeRolePolicy("pg-a", "{not json");
  ASSERT_FALSE(r2.ok());
  EXPECT_THAT(r2.error().message, HasSubstr("not valid JSON"));
  auto r3 = iam_.GetRole("bad name!");
  EXPECT_FALSE(r3.ok());
  EXPECT_TRUE(http_.sent.empty());
}

TEST_F(IamClientTest, GetRolePolicyUrlDecodesTheDocumentKeepingPlusSigns) {
  http_.Push(200, ReadTestData("responses/get-role-policy.xml"));
  auto doc = iam_.GetRolePolicy("pg-data-spark-etl", "pipeguard");
  ASSERT_TRUE(doc.ok()) << doc.error().ToString();
  auto json = nlohmann::json::parse(*doc);
  EXPECT_EQ(json["Statement"][0]["Resource"], "arn:aws:s3:::raw-bucket/in/*");
  EXPECT_EQ(json["Statement"][0]["Condition"]["StringLike"]["s3:prefix"], "a+b");
  const char* desired =
      R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:GetObject"],)"
      R"("Resource":["arn:aws:s3:::raw-bucket/in/*"],"Condition":{"StringLike":{"s3:prefix":["a+b"]}}}})";
  EXPECT_TRUE(PoliciesEquivalent(*doc, desired));
}

TEST_F(IamClientTest, ListRolePoliciesFollowsMarkers) {
  http_.Push(200, ReadTestData("responses/list-role-policies-page1.xml"));
  http_.Push(200, ReadTestData("responses/list-role-policies-page2.xml"));
  auto names = iam_.ListRolePolicies("pg-a");
  ASSERT_TRUE(names.ok()) << names.error().ToString();
  EXPECT_EQ(*names, (std::vector<std::string>{"pipeguard-s3", "pipeguard-kms", "pipeguard-msk"}));
  ASSERT_EQ(http_.sent.size(), 2u);
  EXPECT_EQ(FormValue(ParseForm(http_.sent[0].request.body), "Marker"), "<absent>");
  EXPECT_EQ(FormValue(ParseForm(http_.sent[1].request.body), "Marker"), "page-2-marker");
}

TEST_F(IamClientTest, TruncatedListWithoutMarkerIsAnError) {
  http_.Push(200, R"(<ListRoleTagsResponse><ListRoleTagsResult><Tags/><IsTruncated>true</IsTruncated>
    </ListRoleTagsResult></ListRoleTagsResponse>)");
  auto tags = iam_.ListRoleTags("pg-a");
  ASSERT_FALSE(tags.ok());
  EXPECT_TRUE(tags.error().Is(errc::kBadResponse));
}

TEST_F(IamClientTest, UntagRoleEncodesKeysAsMembers) {
  http_.Push(200,
             "<UntagRoleResponse><ResponseMetadata><RequestId>x</RequestId></ResponseMetadata></UntagRoleResponse>");
  ASSERT_TRUE(iam_.UntagRole("pg-a", {"k1", "k 2"}).ok());
  auto form = LastForm();
  EXPECT_EQ(FormValue(form, "TagKeys.member.1"), "k1");
  EXPECT_EQ(FormValue(form, "TagKeys.member.2"), "k 2");
}

TEST_F(IamClientTest, UpdateRoleSendsOnlyTheMaxSessionDuration) {
  http_.Push(200,
             "<UpdateRoleResponse><ResponseMetadata><RequestId>x</RequestId></ResponseMetadata></UpdateRoleResponse>");
  ASSERT_TRUE(iam_.UpdateRoleMaxSessionDuration("pg-a", 7200).ok());
  auto form = LastForm();
  EXPECT_EQ(FormValue(form, "Action"), "UpdateRole");
  EXPECT_EQ(FormValue(form, "RoleName"), "pg-a");
  EXPECT_EQ(FormValue(form, "MaxSessionDuration"), "7200");
  EXPECT_EQ(http_.sent.back().request.body.find("Description"), std::string::npos);
  for (int bad : {0, 3599, 43201}) {
    auto r = iam_.UpdateRoleMaxSessionDuration("pg-a", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_THAT(r.error().message, HasSubstr("3600..43200")) << bad;
  }
  EXPECT_EQ(http_.sent.size(), 1u) << "invalid durations make no call";
}

TEST_F(IamClientTest, UnexpectedResponseRootIsAnError) {
  http_.Push(200, "<html><body>captive portal</body></html>");
  auto r = iam_.DeleteRolePolicy("pg-a", "p");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().Is(errc::kBadResponse));
  EXPECT_THAT(r.error().message, HasSubstr("<html>"));
}

}  // namespace
}  // namespace pipeguard::aws
