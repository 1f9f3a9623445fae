// The validating handler with the real engine and the test context, and the verdict-to-reply mapping.
#include "pipeguard/webhook/handlers.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace pipeguard::webhook {
namespace {

using nlohmann::json;
using testing::DataPath;
using testing::MakeReview;
using testing::ReadJson;
using testing::SecretPod;

class StaticContext final : public policy::ContextProvider {
 public:
  explicit StaticContext(std::shared_ptr<const policy::ContextSnapshot> snapshot) : snapshot_(std::move(snapshot)) {}
  std::shared_ptr<const policy::ContextSnapshot> Current() const override { return snapshot_; }

 private:
  std::shared_ptr<const policy::ContextSnapshot> snapshot_;
};

constexpr std::int64_t kNow = 1800000000;  // 2027-01-15T08:00:00Z

class ValidatingHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto snapshot = LoadContextSnapshot(testing::TestContextOptions());
    ASSERT_TRUE(snapshot.ok()) << snapshot.status().message();
    context_ = std::make_unique<StaticContext>(std::move(snapshot).value());
    handler_ = MakeValidatingHandler(engine_, *context_, [] { return kNow; });
  }

  AdmissionReply Review(const json& object, const std::string& ns, const std::string& operation = "CREATE",
                        const std::string& user = "alice", const std::vector<std::string>& groups = {}) {
    auto request = ParseAdmissionReview(MakeReview(object, ns, "uid-" + ns, operation, user, groups).dump());
    EXPECT_TRUE(request.ok()) << request.status().message();
    return handler_(*request);
  }

  policy::Engine engine_;
  std::unique_ptr<StaticContext> context_;
  AdmissionHandler handler_;
};

bool HasFinding(const AdmissionReply& reply, const std::string& rule, const std::string& path) {
  for (const auto& f : reply.findings) {
    if (f.rule == rule && f.path == path) return true;
  }
  return false;
}

TEST_F(ValidatingHandlerTest, CleanGovernedPodIsAllowed) {
  const AdmissionReply reply = Review(ReadJson(DataPath("pods/clean_kpo_pod.json")), "etl");
  EXPECT_TRUE(reply.allowed);
  EXPECT_EQ(reply.uid, "uid-etl");
  EXPECT_TRUE(reply.evaluated);
  EXPECT_TRUE(reply.governed);
  EXPECT_EQ(reply.mode, "enforce");
  EXPECT_TRUE(reply.findings.empty());
  EXPECT_TRUE(reply.warnings.empty());
  EXPECT_EQ(reply.profiles, std::vector<std::string>{"etl/nightly-sales"});
  EXPECT_EQ(reply.audit_annotations.at("decision"), "allowed");
  EXPECT_EQ(reply.audit_annotations.at("governed"), "true");
}

TEST_F(ValidatingHandlerTest, PlaintextSecretsAreDeniedWithRuleIdsPathsAndFix) {
  const AdmissionReply reply = Review(SecretPod(), "etl");
  EXPECT_FALSE(reply.allowed);
  EXPECT_EQ(reply.decision, Decision::kDenied);
  EXPECT_EQ(reply.code, 403);
  // env[3] is AWS_SECRET_ACCESS_KEY (the clean pod has three env vars), env[5] GITHUB_TOKEN.
  EXPECT_TRUE(HasFinding(reply, "plaintext-secret", "/spec/containers/0/env/3/value"));
  EXPECT_TRUE(HasFinding(reply, "plaintext-secret", "/spec/containers/0/env/5/value"));
  EXPECT_NE(reply.message.find("plaintext-secret at /spec/containers/0/env/3/value"), std::string::npos)
      << reply.message;
  EXPECT_NE(reply.message.find("pipeguard denied Pod etl/sales-load-secret"), std::string::npos) << reply.message;
  EXPECT_NE(reply.message.find("secretKeyRef"), std::string::npos) << reply.message;
  EXPECT_EQ(reply.audit_annotations.at("decision"), "denied");
  EXPECT_NE(reply.audit_annotations.at("rules").find("plaintext-secret"), std::string::npos);
}

TEST_F(ValidatingHandlerTest, AuditModeAllowsWithShortWarnings) {
  const AdmissionReply reply = Review(SecretPod(), "etl-audit");
  EXPECT_TRUE(reply.allowed);
  EXPECT_EQ(reply.mode, "audit");
  ASSERT_FALSE(reply.warnings.empty());
  EXPECT_LE(reply.warnings.size(), kMaxWarnings);
  for (const auto& w : reply.warnings) EXPECT_LE(w.size(), kMaxWarningChars) << w;
  EXPECT_EQ(reply.warnings[0].rfind("pipeguard audit (would deny): ", 0), 0u) << reply.warnings[0];
  EXPECT_EQ(reply.audit_annotations.at("mode"), "audit");
  EXPECT_EQ(reply.audit_annotations.at("decision"), "allowed");
}

TEST_F(ValidatingHandlerTest, UngovernedPodIsAllowedWithoutFindings) {
  json pod = SecretPod();
  pod["metadata"]["labels"] = {{"app", "web"}};
  const AdmissionReply reply = Review(pod, "etl");
  EXPECT_TRUE(reply.allowed);
  EXPECT_TRUE(reply.evaluated);
  EXPECT_FALSE(reply.governed);
  EXPECT_TRUE(reply.findings.empty());
  EXPECT_EQ(reply.audit_annotations.at("governed"), "false");
}

TEST_F(ValidatingHandlerTest, MalformedGovernedPodIsDeniedNamingTheField) {
  json pod = SecretPod();
  json env_as_object = json::object();
  for (const auto& var : pod["spec"]["containers"][0]["env"]) {
    if (var.contains("value")) env_as_object[var["name"].get<std::string>()] = var["value"];
  }
  pod["spec"]["containers"][0]["env"] = env_as_object;  // a map instead of a list of {name, value}
  const AdmissionReply reply = Review(pod, "etl");
  EXPECT_FALSE(reply.allowed);
  EXPECT_EQ(reply.decision, Decision::kDenied);
  EXPECT_TRUE(reply.governed);
  EXPECT_TRUE(HasFinding(reply, "malformed-object", "/spec/containers/0/env"));
  EXPECT_NE(reply.message.find("malformed-object at /spec/containers/0/env: is an object where Kubernetes defines a "
                               "list"),
            std::string::npos)
      << reply.message;
  for (const auto& secret : testing::PlantedSecrets()) {
    EXPECT_EQ(reply.message.find(secret.value), std::string::npos) << secret.env_name;
  }
}

TEST_F(ValidatingHandlerTest, GovernedPodWithoutKindIsDeniedAsTheRequestKind) {
  json pod = SecretPod();
  pod.erase("kind");
  json review = MakeReview(pod, "etl", "uid-nokind");
  review["request"]["kind"]["kind"] = "Pod";  // the API server names the kind in the request
  auto request = ParseAdmissionReview(review.dump());
  ASSERT_TRUE(request.ok()) << request.status().message();
  const AdmissionReply reply = handler_(*request);
  EXPECT_FALSE(reply.allowed);
  EXPECT_TRUE(HasFinding(reply, "malformed-object", "/kind"));
  EXPECT_NE(reply.message.find("is missing where Kubernetes defines \"Pod\""), std::string::npos) << reply.message;
}

TEST_F(ValidatingHandlerTest, DeleteIsAllowedWithoutEvaluation) {
  const AdmissionReply reply = Review(SecretPod(), "etl", "DELETE");
  EXPECT_TRUE(reply.allowed);
  EXPECT_FALSE(reply.evaluated);
  EXPECT_EQ(reply.audit_annotations.at("evaluated"), "false");
}

TEST_F(ValidatingHandlerTest, StatusSubresourceUpdatesAreNotEvaluated) {
  auto request = ParseAdmissionReview(MakeReview(SecretPod(), "etl", "u-status", "UPDATE").dump());
  ASSERT_TRUE(request.ok());
  request->sub_resource = "status";
  const AdmissionReply reply = handler_(*request);
  EXPECT_TRUE(reply.allowed);
  EXPECT_FALSE(reply.evaluated);
  request->sub_resource = "";
  EXPECT_FALSE(handler_(*request).allowed);  // the same UPDATE of the main resource is denied
}

TEST_F(ValidatingHandlerTest, HonouredBreakGlassAllowsAndRecordsTheTicket) {
  json pod = SecretPod();
  pod["metadata"]["annotations"] = {{"pipeguard.io/break-glass-rules", "plaintext-secret"},
                                    {"pipeguard.io/break-glass-ticket", "INC-4711"},
                                    {"pipeguard.io/break-glass-expires", "2027-01-16T08:00:00Z"}};
  const AdmissionReply refused = Review(pod, "etl", "CREATE", "mallory", {"team-data"});
  EXPECT_FALSE(refused.allowed);
  EXPECT_FALSE(refused.break_glass_ticket.has_value());

  const AdmissionReply waived = Review(pod, "etl", "CREATE", "oncall", {"pipeguard:break-glass"});
  EXPECT_TRUE(waived.allowed);
  EXPECT_EQ(waived.break_glass_ticket, "INC-4711");
  EXPECT_EQ(waived.audit_annotations.at("break-glass-ticket"), "INC-4711");
  ASSERT_FALSE(waived.warnings.empty());
  EXPECT_EQ(waived.warnings[0].rfind("pipeguard break-glass waived: plaintext-secret", 0), 0u) << waived.warnings[0];
}

TEST(ValidatingHandler, WithoutASnapshotFailsClosedWith503) {
  StaticContext empty(nullptr);
  policy::Engine engine;
  AdmissionHandler handler = MakeValidatingHandler(engine, empty);
  auto request = ParseAdmissionReview(MakeReview(ReadJson(DataPath("pods/clean_kpo_pod.json")), "etl", "u").dump());
  ASSERT_TRUE(request.ok());
  const AdmissionReply reply = handler(*request);
  EXPECT_FALSE(reply.allowed);
  EXPECT_EQ(reply.code, 503);
  EXPECT_EQ(reply.decision, Decision::kError);
}

TEST(MutatingHandler, AllowsWithoutPatch) {
  AdmissionRequest request;
  request.uid = "m1";
  const AdmissionReply reply = MakeMutatingHandler()(request);
  EXPECT_TRUE(reply.allowed);
  EXPECT_EQ(reply.uid, "m1");
  EXPECT_FALSE(reply.json_patch.has_value());
}

policy::Verdict ManyViolations(policy::Mode mode, int count) {
  policy::Verdict verdict;
  verdict.governed = true;
  verdict.mode = mode;
  verdict.mode_source = "config";
  for (int i = 0; i < count; ++i) {
    policy::Violation v;
    v.rule = "plaintext-secret";
    v.path = "/spec/template/spec/containers/0/env/" + std::to_string(i) + "/value" + std::string(100, 'x');
    v.message = "env var X" + std::to_string(i) + " holds a literal secret; use valueFrom.secretKeyRef";
    v.blocking = true;
    verdict.violations.push_back(v);
  }
  verdict.allowed = mode == policy::Mode::kAudit;
  return verdict;
}

TEST(ReplyFromVerdict, CapsWarningCountAndLength) {
  AdmissionRequest request;
  request.uid = "w";
  const AdmissionReply reply = ReplyFromVerdict(request, ManyViolations(policy::Mode::kAudit, 30));
  ASSERT_EQ(reply.warnings.size(), kMaxWarnings);
  for (const auto& w : reply.warnings) EXPECT_LE(w.size(), kMaxWarningChars) << w;
  EXPECT_EQ(reply.warnings.back(), "pipeguard: 21 more findings; see the webhook audit log");
  EXPECT_EQ(reply.findings.size(), 30u);
}

TEST(ReplyFromVerdict, ExactlyTheWarningCapNeedsNoSummary) {
  AdmissionRequest request;
  const AdmissionReply reply = ReplyFromVerdict(request, ManyViolations(policy::Mode::kAudit, kMaxWarnings));
  ASSERT_EQ(reply.warnings.size(), kMaxWarnings);
  EXPECT_EQ(reply.warnings.back().rfind("pipeguard audit (would deny): ", 0), 0u);
}

TEST(ReplyFromVerdict, DenialMessageListsAtMostTheCap) {
  AdmissionRequest request;
  request.kind = "Deployment";
  request.namespace_ = "etl";
  request.name = "loader";
  const AdmissionReply reply = ReplyFromVerdict(request, ManyViolations(policy::Mode::kEnforce, 25));
  EXPECT_FALSE(reply.allowed);
  EXPECT_NE(reply.message.find("pipeguard denied Deployment etl/loader: 25 violations"), std::string::npos);
  EXPECT_NE(reply.message.find("... and 5 more"), std::string::npos);
  EXPECT_EQ(reply.message.find("/env/20/"), std::string::npos);  // the 21st is not listed
  EXPECT_TRUE(reply.warnings.empty());                           // all findings are in the denial message
}

}  // namespace
}  // namespace pipeguard::webhook
