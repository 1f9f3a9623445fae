// ParseAdmissionReview (the parse boundary), ServeAdmission's replies to bad bodies, SerializeAdmissionReview and the
// named reply constructors.
#include "pipeguard/webhook/admission.h"

#include <gtest/gtest.h>

#include <functional>
#include <utility>
#include <vector>

#include "pipeguard/webhook/http_adapter.h"
#include "test_support.h"

namespace pipeguard::webhook {
namespace {

using nlohmann::json;
using testing::CleanPod;
using testing::MakeReview;

TEST(ParseAdmissionReview, ReadsTheFieldsPipeguardUses) {
  const json review = MakeReview(CleanPod(), "etl", "3f1c9a2e-0000-4000-8000-000000000001", "CREATE", "alice",
                                 {"team-data", "system:authenticated"});
  auto parsed = ParseAdmissionReview(review.dump());
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->uid, "3f1c9a2e-0000-4000-8000-000000000001");
  EXPECT_EQ(parsed->operation, "CREATE");
  EXPECT_EQ(parsed->kind, "Pod");
  EXPECT_EQ(parsed->kind_version, "v1");
  EXPECT_EQ(parsed->namespace_, "etl");
  EXPECT_EQ(parsed->name, "sales-extract-7f9c2");
  EXPECT_EQ(parsed->username, "alice");
  EXPECT_EQ(parsed->groups, (std::vector<std::string>{"team-data", "system:authenticated"}));
  EXPECT_EQ(parsed->object, CleanPod());
}

TEST(ParseAdmissionReview, NamesGenerateNamePodsByTheirPrefix) {
  json pod = CleanPod();
  pod["metadata"].erase("name");
  pod["metadata"]["generateName"] = "sales-extract-";
  auto parsed = ParseAdmissionReview(MakeReview(pod, "etl", "u1").dump());
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->name, "sales-extract-*");
}

TEST(ParseAdmissionReview, KeepsTheStoredObjectOfAnUpdate) {
  json stored = CleanPod();
  stored["metadata"]["finalizers"] = {"example.com/hold"};
  json review = MakeReview(CleanPod(), "etl", "u-upd", "UPDATE");
  review["request"]["oldObject"] = stored;
  auto parsed = ParseAdmissionReview(review.dump());
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->old_object, stored);
  EXPECT_EQ(parsed->object, CleanPod());
  auto created = ParseAdmissionReview(MakeReview(CleanPod(), "etl", "u-new").dump());
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(created->old_object.is_null());
}

TEST(ParseAdmissionReview, DeleteNeedsNoObject) {
  auto parsed = ParseAdmissionReview(MakeReview(CleanPod(), "etl", "u-del", "DELETE").dump());
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->operation, "DELETE");
  EXPECT_TRUE(parsed->object.is_null());
}

struct BadReview {
  std::string name;
  std::string body;
  std::string expected_uid;      // "" when the uid is unreadable
  std::string message_fragment;  // part of the error message
};

class ParseAdmissionReviewRejects : public ::testing::TestWithParam<BadReview> {};

TEST_P(ParseAdmissionReviewRejects, WithAClearMessageAndTheUidWhenReadable) {
  const BadReview& c = GetParam();
  std::string uid = "stale";
  auto parsed = ParseAdmissionReview(c.body, &uid);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find(c.message_fragment), std::string::npos) << parsed.status().message();
  EXPECT_EQ(uid, c.expected_uid);
}

json ReviewWith(const std::function<void(json&)>& edit) {
  json review = MakeReview(CleanPod(), "etl", "uid-7");
  edit(review);
  return review;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ParseAdmissionReviewRejects,
    ::testing::Values(
        BadReview{"empty", "", "", "empty"},
        BadReview{"truncated", R"({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionRev)", "", "not valid JSON"},
        BadReview{"array", "[1, 2]", "", "not an object"},
        BadReview{"no_request", R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"})", "", "\"request\""},
        BadReview{"no_uid", ReviewWith([](json& r) { r["request"].erase("uid"); }).dump(), "", "request.uid"},
        BadReview{"numeric_uid", ReviewWith([](json& r) { r["request"]["uid"] = 42; }).dump(), "", "request.uid"},
        BadReview{"huge_uid", ReviewWith([](json& r) { r["request"]["uid"] = std::string(500, 'u'); }).dump(), "",
                  "longer than"},
        BadReview{"v1beta1", ReviewWith([](json& r) { r["apiVersion"] = "admission.k8s.io/v1beta1"; }).dump(), "uid-7",
                  "apiVersion must be admission.k8s.io/v1"},
        BadReview{"wrong_kind", ReviewWith([](json& r) { r["kind"] = "Pod"; }).dump(), "uid-7",
                  "kind must be AdmissionReview"},
        BadReview{"missing_object", ReviewWith([](json& r) { r["request"].erase("object"); }).dump(), "uid-7",
                  "request.object is missing"},
        BadReview{"object_not_object", ReviewWith([](json& r) { r["request"]["object"] = "pod"; }).dump(), "uid-7",
                  "request.object must be"},
        BadReview{"old_object_not_object", ReviewWith([](json& r) { r["request"]["oldObject"] = 3; }).dump(), "uid-7",
                  "request.oldObject must be"},
        BadReview{"bad_operation", ReviewWith([](json& r) { r["request"]["operation"] = "PATCH"; }).dump(), "uid-7",
                  "request.operation"},
        BadReview{"groups_not_list", ReviewWith([](json& r) { r["request"]["userInfo"]["groups"] = "admins"; }).dump(),
                  "uid-7", "groups"},
        BadReview{"too_deep", std::string(200, '[') + std::string(200, ']'), "", "deeper than"}),
    [](const ::testing::TestParamInfo<BadReview>& info) { return info.param.name; });

// A clean review whose object carries `nesting` (JSON text) at /request/object/x: the body nests 3 levels more.
std::string ReviewNesting(const std::string& nesting) {
  std::string body = MakeReview(CleanPod(), "etl", "uid-d").dump();
  const std::string marker = "\"object\":{";
  return body.insert(body.find(marker) + marker.size(), "\"x\":" + nesting + ",");
}

// Bodies within the fast path's size skip the pre-parse scan and leave the depth bound to simdjson, which counts a
// number inside an object as one more level; such bodies fall back to the scan. Either way the bound is exactly
// limits.max_depth, for every shape.
TEST(ParseAdmissionReview, TheDepthBoundIsExactOnEveryPath) {
  const ParseLimits limits{.max_depth = 20};
  const auto arrays = [](int n) { return std::string(n, '[') + std::string(n, ']'); };
  const auto objects = [](int n) {
    std::string text;
    for (int i = 0; i < n; ++i) text += "{\"a\":";
    return text + "1" + std::string(n, '}');
  };
  const auto mixed = [](int n) {
    std::string open, close;
    for (int i = 0; i < n; ++i) {
      open += i % 2 == 0 ? "[" : "{\"a\":";
      close = (i % 2 == 0 ? "]" : "}") + close;
    }
    return open + "true" + close;
  };
  for (const auto& [name, shape] : std::vector<std::pair<std::string, std::function<std::string(int)>>>{
           {"arrays", arrays}, {"objects", objects}, {"mixed", mixed}}) {
    auto at_limit = ParseAdmissionReview(ReviewNesting(shape(limits.max_depth - 3)), nullptr, limits);
    ASSERT_TRUE(at_limit.ok()) << name << ": " << at_limit.status().message();
    EXPECT_EQ(at_limit->uid, "uid-d");
    EXPECT_EQ(at_limit->object.json()["x"], json::parse(shape(limits.max_depth - 3))) << name;
    auto beyond = ParseAdmissionReview(ReviewNesting(shape(limits.max_depth - 2)), nullptr, limits);
    ASSERT_FALSE(beyond.ok()) << name;
    EXPECT_NE(beyond.status().message().find("deeper than 20 levels"), std::string::npos) << beyond.status().message();
  }
}

// The value bound still holds for a small body when max_values is below its size (the fast path is not taken).
TEST(ParseAdmissionReview, TheValueBoundHoldsWhenItIsBelowTheBodySize) {
  const std::string body = MakeReview(CleanPod(), "etl", "uid-v").dump();
  auto parsed = ParseAdmissionReview(body, nullptr, ParseLimits{.max_values = 20});
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("at most 20 are accepted"), std::string::npos) << parsed.status().message();
  EXPECT_TRUE(ParseAdmissionReview(body, nullptr, ParseLimits{.max_values = body.size() + 1}).ok());
}

TEST(ParseAdmissionReview, SyntaxErrorsDoNotQuoteTheInput) {
  // nlohmann's own message would quote the bytes around the error, which could be part of a secret.
  const std::string body = R"({"request": {"uid": "u", "object": {"env": "Sup3rS3cretV4lue)";
  auto parsed = ParseAdmissionReview(body);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message().find("Sup3rS3cret"), std::string::npos) << parsed.status().message();
  EXPECT_NE(parsed.status().message().find("byte"), std::string::npos);
}

// A review as the API server writes it (uid first), with a number too large for a double inside the object.
constexpr std::string_view kOverflowingReview =
    R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"uid-9","operation":"CREATE",)"
    R"("object":{"kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c"},{"a/b":[7, 1e400]}]}}}})";

TEST(ParseAdmissionReview, NumberOutOfRangeIsBadInputNamingWhere) {
  std::string uid;
  auto parsed = ParseAdmissionReview(kOverflowingReview, &uid);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  const std::string& message = parsed.status().message();
  EXPECT_NE(message.find("too large"), std::string::npos) << message;
  EXPECT_NE(message.find("at /request/object/spec/containers/1/a~1b/1 (near byte"), std::string::npos) << message;
  EXPECT_NE(message.find("quoted string"), std::string::npos) << message;  // how to fix it
  EXPECT_EQ(message.find("1e400"), std::string::npos) << message;          // input is never quoted
  EXPECT_EQ(uid, "uid-9");
}

TEST(ParseAdmissionReview, NumberOutOfRangeAnywhereIsBadInput) {
  for (const std::string body : {R"({"x":1e400})", R"([-1e999])", R"({"request":{"object":{"x":1E+400}}})"}) {
    std::string uid = "stale";
    auto parsed = ParseAdmissionReview(body, &uid);
    ASSERT_FALSE(parsed.ok()) << body;
    EXPECT_NE(parsed.status().message().find("too large"), std::string::npos) << parsed.status().message();
    EXPECT_EQ(uid, "");
  }
  // Underflow is not an error: the value is as close to zero as a double gets.
  json review = MakeReview(CleanPod(), "etl", "u-small");
  std::string body = review.dump();
  body.replace(body.find("\"kind\":\"Pod\""), 0, "\"tiny\":1e-400,");
  EXPECT_TRUE(ParseAdmissionReview(body).ok());
}

TEST(ServeAdmission, NumberOutOfRangeIsA400WithAnAdmissionReviewError) {
  bool handler_ran = false;
  const HttpReply reply = ServeAdmission(kOverflowingReview, [&](const AdmissionRequest& request) {
    handler_ran = true;
    return Allowed(request.uid);
  });
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.rejected_reason, "malformed");
  EXPECT_FALSE(handler_ran);
  const json body = json::parse(reply.body);
  EXPECT_EQ(body["response"]["uid"], "uid-9");
  EXPECT_EQ(body["response"]["allowed"], false);
  EXPECT_EQ(body["response"]["status"]["code"], 400);
  EXPECT_NE(body["response"]["status"]["message"].get<std::string>().find("/request/object/spec/containers/1"),
            std::string::npos);
}

TEST(ParseAdmissionReview, BracketsInsideStringsDoNotCountAsNesting) {
  json pod = CleanPod();
  pod["metadata"]["annotations"] = {{"note", std::string(500, '[')}};
  EXPECT_TRUE(ParseAdmissionReview(MakeReview(pod, "etl", "u").dump()).ok());
}

TEST(ParseAdmissionReview, FragmentedBodiesAreRefusedBeforeTheirDomIsBuilt) {
  // 300,000 empty objects: ~600 KB of text, ~30 MB as a DOM.
  json pod = CleanPod();
  pod["x"] = json::array();
  for (int i = 0; i < 300000; ++i) pod["x"].push_back(json::object());
  auto parsed = ParseAdmissionReview(MakeReview(pod, "etl", "u").dump());
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("at most 200000 are accepted"), std::string::npos)
      << parsed.status().message();

  // Commas inside strings are not values; a realistic large pod (30,000 env vars) is within the bound.
  json big = CleanPod();
  big["metadata"]["annotations"] = {{"note", std::string(400000, ',')}};
  auto& env = big["spec"]["containers"][0]["env"];
  for (int i = 0; i < 30000; ++i) env.push_back({{"name", "V" + std::to_string(i)}, {"value", "x"}});
  EXPECT_TRUE(ParseAdmissionReview(MakeReview(big, "etl", "u").dump()).ok());
}

TEST(SerializeAdmissionReview, AllowedEchoesUidWithoutStatus) {
  const json out = json::parse(SerializeAdmissionReview(Allowed("abc")));
  EXPECT_EQ(out["apiVersion"], "admission.k8s.io/v1");
  EXPECT_EQ(out["kind"], "AdmissionReview");
  EXPECT_EQ(out["response"]["uid"], "abc");
  EXPECT_EQ(out["response"]["allowed"], true);
  EXPECT_FALSE(out["response"].contains("status"));
  EXPECT_FALSE(out["response"].contains("warnings"));
}

TEST(SerializeAdmissionReview, DeniedCarries403AndMessage) {
  AdmissionReply reply = WithWarnings(Denied("u2", "pipeguard denied Pod etl/x"), {"w1", "w2"});
  reply.audit_annotations["decision"] = "denied";
  const json out = json::parse(SerializeAdmissionReview(reply));
  EXPECT_EQ(out["response"]["allowed"], false);
  EXPECT_EQ(out["response"]["status"]["code"], 403);
  EXPECT_EQ(out["response"]["status"]["reason"], "Forbidden");
  EXPECT_EQ(out["response"]["status"]["message"], "pipeguard denied Pod etl/x");
  EXPECT_EQ(out["response"]["warnings"], json({"w1", "w2"}));
  EXPECT_EQ(out["response"]["auditAnnotations"]["decision"], "denied");
}

TEST(SerializeAdmissionReview, PatchIsBase64JsonPatch) {
  AdmissionReply reply = Allowed("u3");
  reply.json_patch = R"([{"op":"add","path":"/x","value":1}])";
  const json out = json::parse(SerializeAdmissionReview(reply));
  EXPECT_EQ(out["response"]["patchType"], "JSONPatch");
  EXPECT_EQ(out["response"]["patch"], "W3sib3AiOiJhZGQiLCJwYXRoIjoiL3giLCJ2YWx1ZSI6MX1d");
}

TEST(SerializeAdmissionReview, InvalidUtf8IsReplacedNotThrown) {
  const std::string bad = "bad \xC3 byte";
  std::string text;
  ASSERT_NO_THROW(text = SerializeAdmissionReview(Errored("u4", 500, bad)));
  EXPECT_TRUE(json::accept(text));
}

TEST(ReplyConstructors, SetDecisionAndCode) {
  EXPECT_EQ(Allowed("a").decision, Decision::kAllowed);
  EXPECT_EQ(Denied("a", "m").decision, Decision::kDenied);
  EXPECT_EQ(Denied("a", "m").code, 403);
  const AdmissionReply e = Errored("a", 503, "m");
  EXPECT_EQ(e.decision, Decision::kError);
  EXPECT_FALSE(e.allowed);
  EXPECT_EQ(e.code, 503);
  EXPECT_EQ(e.reason, "ServiceUnavailable");
  EXPECT_EQ(WithWarnings(Allowed("a"), {"x"}).warnings.size(), 1u);
}

}  // namespace
}  // namespace pipeguard::webhook
