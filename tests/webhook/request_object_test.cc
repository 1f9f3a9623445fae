// AdmissionRequest::object (RequestObject): a view into the request body's simdjson DOM, which the request owns,
// judged exactly as the nlohmann DOM of the same object.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "json_text.h"
#include "pipeguard/webhook/admission.h"
#include "pipeguard/webhook/file_context_provider.h"
#include "pipeguard/webhook/handlers.h"
#include "pipeguard/webhook/http_adapter.h"
#include "test_support.h"

namespace pipeguard::webhook {
namespace {

using nlohmann::json;
using testing::CleanPod;
using testing::MakeReview;

std::string ReviewText(const json& pod, const std::string& uid) { return MakeReview(pod, "etl", uid).dump(); }

// A review suspended for image verification keeps its DOM while its thread parses other bodies: each request owns
// its document (a pooled parser), none shares a thread's parser.
TEST(RequestObject, EachParsedRequestOwnsItsDomWhileOthersAreParsed) {
  json first_pod = CleanPod();
  first_pod["metadata"]["name"] = "first";
  auto parsed = ParseAdmissionReview(ReviewText(first_pod, "u-first"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  std::optional<AdmissionRequest> first = std::move(parsed).value();
  EXPECT_EQ(first->object.ref().nlohmann(), nullptr);  // simdjson's DOM, not an nlohmann copy

  std::vector<AdmissionRequest> others;
  for (int i = 0; i < 40; ++i) {
    json pod = CleanPod();
    pod["metadata"]["name"] = "other-" + std::to_string(i);
    auto other = ParseAdmissionReview(ReviewText(pod, "u-" + std::to_string(i)));
    ASSERT_TRUE(other.ok());
    if (i % 2 == 0) others.push_back(std::move(other).value());  // the odd ones give their parser back at once
  }
  EXPECT_EQ(first->object.ref().Find("metadata").Find("name").string(), "first");
  for (size_t i = 0; i < others.size(); ++i) {
    EXPECT_EQ(others[i].object.ref().Find("metadata").Find("name").string(), "other-" + std::to_string(2 * i));
  }
  // A copy shares the document; it outlives the request it was copied from.
  const RequestObject copy = first->object;
  first.reset();
  others.clear();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(ParseAdmissionReview(ReviewText(CleanPod(), "u-again")).ok());
  EXPECT_EQ(copy.ref().Find("metadata").Find("name").string(), "first");
  EXPECT_EQ(copy, first_pod);  // json(): converted on first use, exactly json::parse's DOM
  EXPECT_EQ(&copy.json(), &copy.json());
}

TEST(RequestObject, BodiesOverTheFastParseLimitKeepNlohmannsDom) {
  json pod = CleanPod();
  pod["metadata"]["annotations"]["padding"] = std::string(kFastParseMaxBytes, 'x');
  auto parsed = ParseAdmissionReview(ReviewText(pod, "u-large"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ASSERT_NE(parsed->object.ref().nlohmann(), nullptr);
  EXPECT_EQ(&parsed->object.json(), parsed->object.ref().nlohmann());
  EXPECT_EQ(parsed->object, pod);
}

TEST(RequestObject, HandBuiltObjectsAreNlohmannValues) {
  AdmissionRequest request;
  EXPECT_TRUE(request.object.is_null());
  request.object = CleanPod();
  EXPECT_TRUE(request.object.is_object());
  EXPECT_EQ(request.object.ref().nlohmann(), &request.object.json());
  EXPECT_EQ(request.object, CleanPod());
}

// The API server decodes duplicate keys as the last one; so do nlohmann and the view (a secret in a later duplicate
// is seen, one in an earlier duplicate is not there).
TEST(RequestObject, DuplicateKeysInTheBodyReadAsTheLastOne) {
  json pod = CleanPod();
  pod["spec"]["containers"][0]["env"] = json::array({{{"name", "DB_URL"}, {"value", "MARKER"}}});
  std::string body = ReviewText(pod, "u-dup");
  const std::string marker = R"("value":"MARKER")";
  ASSERT_NE(body.find(marker), std::string::npos);
  body.replace(body.find(marker), marker.size(), R"("value":"x","value":"postgresql://u:Secr3tPw@h/db")");
  auto parsed = ParseAdmissionReview(body);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ASSERT_EQ(parsed->object.ref().nlohmann(), nullptr);
  const policy::JsonRef env = parsed->object.ref().Find("spec").Find("containers");
  std::string value;
  env.ForEachElement([&](size_t, policy::JsonRef c) {
    c.Find("env").ForEachElement([&](size_t, policy::JsonRef var) { value = std::string(var.Find("value").string()); });
  });
  EXPECT_EQ(value, "postgresql://u:Secr3tPw@h/db");
  EXPECT_EQ(parsed->object, json::parse(body)["request"]["object"]);
}

// The same review judged through the parsed body's view and through a hand-built nlohmann object: the same reply.
TEST(RequestObject, TheValidatingHandlerRepliesAlikeForEitherDom) {
  auto snapshot = LoadContextSnapshot(testing::TestContextOptions());
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().message();
  testing::StaticContext context(std::move(snapshot).value());
  const policy::Engine engine;
  const AdmissionHandler handler = MakeValidatingHandler(engine, context, [] { return std::int64_t{1800000000}; });
  size_t denials = 0;
  for (const json& pod : {CleanPod(), testing::SecretPod()}) {
    auto parsed = ParseAdmissionReview(MakeReview(pod, "etl", "u-same").dump());
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    ASSERT_EQ(parsed->object.ref().nlohmann(), nullptr);
    AdmissionRequest by_hand = *parsed;
    by_hand.object = pod;
    const AdmissionReply from_view = handler(*parsed);
    const AdmissionReply from_nlohmann = handler(by_hand);
    EXPECT_EQ(SerializeAdmissionReview(from_view), SerializeAdmissionReview(from_nlohmann));
    ASSERT_EQ(from_view.findings.size(), from_nlohmann.findings.size());
    for (size_t i = 0; i < from_view.findings.size(); ++i) {
      EXPECT_EQ(from_view.findings[i].rule + from_view.findings[i].path,
                from_nlohmann.findings[i].rule + from_nlohmann.findings[i].path);
    }
    denials += from_view.allowed ? 0 : 1;
  }
  EXPECT_EQ(denials, 1u);  // the secret pod is denied, the clean one allowed
}

}  // namespace
}  // namespace pipeguard::webhook
