// Bounded replies and audit lines for objects with very many findings (issue 9 item 3): the engine lists at most
// policy::kMaxReportedViolations per object and counts the rest; the denial message, the warnings, the audit
// annotations and the audit line state the full count, and the audit line stays small.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "pipeguard/policy/config.h"
#include "pipeguard/policy/context.h"
#include "pipeguard/policy/engine.h"
#include "pipeguard/webhook/audit_log.h"
#include "pipeguard/webhook/handlers.h"
#include "pipeguard/webhook/metrics.h"
#include "representative_pod.h"
#include "test_support.h"

namespace pipeguard::webhook {
namespace {

using nlohmann::json;

constexpr int kFindings = 30000;

json PodWithCredentialedUris(int n) { return bench::GovernedPodWithEnv(bench::CredentialedUriEnv(n)); }

std::shared_ptr<const policy::ContextSnapshot> Context(const std::string& config_yaml = "images: {verify: false}") {
  auto config = policy::ParseConfig(config_yaml, "test");
  EXPECT_TRUE(config.ok()) << config.status().message();
  policy::ContextSnapshotBuilder builder(std::move(config).value());
  const auto added = builder.Add(json::parse(R"({"apiVersion": "pipeguard.io/v1alpha1",
      "kind": "PipelineSecurityProfile", "metadata": {"name": "payments", "namespace": "etl"},
      "spec": {"podSelector": {"matchLabels": {"pipeguard.io/pipeline": "payments"}},
               "serviceAccount": {"name": "payments-etl"}}})"));
  EXPECT_TRUE(added.ok()) << added.status().message();
  return std::move(builder).Build();
}

AdmissionRequest PodRequest() {
  AdmissionRequest request;
  request.uid = "uid-bounds";
  request.operation = "CREATE";
  request.kind = "Pod";
  request.namespace_ = "etl";
  request.name = "p";
  return request;
}

TEST(FindingsBounds, ThirtyThousandFindingsGiveABoundedDenialAndAuditLineWithTheFullCount) {
  const AdmissionRequest request = PodRequest();
  policy::RequestInfo info;
  info.namespace_ = "etl";
  const policy::Verdict verdict = policy::Engine().Evaluate(PodWithCredentialedUris(kFindings), info, *Context());
  const AdmissionReply reply = ReplyFromVerdict(request, verdict);

  EXPECT_FALSE(reply.allowed);
  EXPECT_EQ(reply.decision, Decision::kDenied);
  EXPECT_NE(reply.message.find("pipeguard denied Pod etl/p: 30000 violations"), std::string::npos) << reply.message;
  EXPECT_NE(reply.message.find("... and " + std::to_string(kFindings - kMaxListedViolations) + " more"),
            std::string::npos);
  EXPECT_LT(reply.message.size(), 16u * 1024u);
  EXPECT_EQ(reply.findings.size(), policy::kMaxReportedViolations);
  EXPECT_EQ(reply.unlisted_findings, kFindings - policy::kMaxReportedViolations);
  EXPECT_EQ(reply.audit_annotations.at("violations"), "30000");
  EXPECT_EQ(reply.audit_annotations.at("rules"), "plaintext-secret");

  const std::string line = FormatAuditLine(request, reply, "validate", 1.0, std::chrono::system_clock::now());
  EXPECT_LT(line.size(), 64u * 1024u);
  const json parsed = json::parse(line);
  EXPECT_EQ(parsed.at("findings").size(), policy::kMaxReportedViolations);
  EXPECT_EQ(parsed.at("paths").size(), policy::kMaxReportedViolations);
  EXPECT_EQ(parsed.at("findings_unlisted"), kFindings - policy::kMaxReportedViolations);
  EXPECT_EQ(line.find("Xq7-vR93pLm"), std::string::npos);
}

// The audit line caps what any reply lists (not only the engine's), and cuts long paths and image references.
TEST(FindingsBounds, AuditLineCapsFindingsImagesAndLongStrings) {
  AdmissionReply reply = Denied("u", "denied");
  reply.evaluated = true;
  reply.governed = true;
  for (int i = 0; i < 1000; ++i) {
    reply.findings.push_back(
        {"plaintext-secret", "/spec/sparkConf/" + std::string(10000, 'k') + std::to_string(i), "HIGH", true, false});
  }
  reply.unlisted_findings = 5;
  for (int i = 0; i < 300; ++i) {
    reply.images.push_back({"registry.corp/" + std::string(5000, 'i'), "", false, "fresh", "", "no signature found"});
  }
  const std::string line = FormatAuditLine(PodRequest(), reply, "validate", 1.0, std::chrono::system_clock::now());
  EXPECT_LT(line.size(), 256u * 1024u);
  const json parsed = json::parse(line);
  ASSERT_EQ(parsed.at("findings").size(), kMaxAuditFindings);
  EXPECT_EQ(parsed.at("findings_unlisted"), 1000 - kMaxAuditFindings + 5);
  for (const auto& f : parsed.at("findings")) EXPECT_LE(f.at("path").get<std::string>().size(), kMaxAuditStringBytes);
  ASSERT_EQ(parsed.at("images").size(), kMaxAuditImages);
  EXPECT_EQ(parsed.at("images_unlisted"), 300 - kMaxAuditImages);
  for (const auto& image : parsed.at("images")) {
    EXPECT_LE(image.at("image").get<std::string>().size(), kMaxAuditStringBytes);
  }
}

// A short reply keeps its line as it was: no "findings_unlisted" key.
TEST(FindingsBounds, AuditLineWithoutUnlistedFindingsHasNoCount) {
  AdmissionReply reply = Denied("u", "denied");
  reply.findings.push_back({"plaintext-secret", "/spec/containers/0/env/0/value", "HIGH", true, false});
  const json parsed =
      json::parse(FormatAuditLine(PodRequest(), reply, "validate", 1.0, std::chrono::system_clock::now()));
  EXPECT_EQ(parsed.at("findings").size(), 1u);
  EXPECT_FALSE(parsed.contains("findings_unlisted"));
}

// In audit mode every finding is a warning: the summary warning counts the unlisted ones too.
TEST(FindingsBounds, AuditModeWarningSummaryCountsUnlistedFindings) {
  policy::Verdict verdict;
  verdict.governed = true;
  verdict.mode = policy::Mode::kAudit;
  verdict.mode_source = "config";
  for (size_t i = 0; i < policy::kMaxReportedViolations; ++i) {
    policy::Violation v;
    v.rule = "plaintext-secret";
    v.path = "/spec/containers/0/env/" + std::to_string(i) + "/value";
    v.message = "env var holds a literal secret";
    v.blocking = true;
    verdict.violations.push_back(v);
  }
  verdict.unlisted.count = 400;
  verdict.unlisted.denials = 400;
  verdict.unlisted.by_rule["insecure-transport"] = 400;
  const AdmissionReply reply = ReplyFromVerdict(PodRequest(), verdict);
  EXPECT_TRUE(reply.allowed);
  ASSERT_EQ(reply.warnings.size(), kMaxWarnings);
  EXPECT_EQ(reply.warnings.back(),
            "pipeguard: " + std::to_string(policy::kMaxReportedViolations + 400 - (kMaxWarnings - 1)) +
                " more findings; see the webhook audit log");
  EXPECT_EQ(reply.audit_annotations.at("violations"), "500");
  EXPECT_EQ(reply.audit_annotations.at("rules"), "insecure-transport,plaintext-secret");
  // A rule found only among the unlisted violations still reaches the audit line's "rules".
  const json line =
      json::parse(FormatAuditLine(PodRequest(), reply, "validate", 1.0, std::chrono::system_clock::now()));
  EXPECT_EQ(line.at("rules"), json::parse(R"(["insecure-transport", "plaintext-secret"])"));
  EXPECT_EQ(line.at("findings_unlisted"), 400);
  // And the per-rule request counter.
  WebhookMetrics metrics;
  metrics.RecordAdmission("validate", reply, 0.001);
  EXPECT_NE(metrics.Serialize().find("pipeguard_webhook_rule_requests_total{decision=\"allowed\",rule=\"insecure-"
                                     "transport\",webhook=\"validate\"} 1"),
            std::string::npos)
      << metrics.Serialize();
}

using testing::StaticContext;

bool DeniedForBudget(const AdmissionReply& reply) {
  return !reply.allowed && reply.message.find("review-budget") != std::string::npos &&
         reply.message.find("Xq7-vR93pLm") == std::string::npos;
}

// The handler gives the engine a work budget: the configuration's reviewBudget of CPU, and the API server's deadline.
TEST(FindingsBounds, TheHandlerDeniesAnObjectItCouldNotJudgeWithinTheBudget) {
  const policy::Engine engine;
  AdmissionRequest request = PodRequest();
  request.object = PodWithCredentialedUris(kFindings);  // tens of ms of CPU to judge

  StaticContext tight(Context("images: {verify: false}\nreviewBudget: 10ms"));
  const AdmissionReply over_cpu = MakeValidatingHandler(engine, tight)(request);
  EXPECT_TRUE(DeniedForBudget(over_cpu)) << over_cpu.message.substr(0, 600);
  EXPECT_NE(over_cpu.message.find("after 10 ms of CPU"), std::string::npos) << over_cpu.message.substr(0, 600);

  StaticContext generous(Context("images: {verify: false}\nreviewBudget: 60s"));
  const AdmissionReply judged = MakeValidatingHandler(engine, generous)(request);
  EXPECT_FALSE(judged.allowed);
  EXPECT_EQ(judged.message.find("review-budget"), std::string::npos) << judged.message.substr(0, 600);

  // The API server's deadline has passed: the verdict would not be read, so judging stops at the first check.
  request.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  const AdmissionReply late = MakeValidatingHandler(engine, generous)(request);
  EXPECT_TRUE(DeniedForBudget(late)) << late.message.substr(0, 600);
  EXPECT_NE(late.message.find("or the API server's timeout"), std::string::npos) << late.message.substr(0, 600);
}

}  // namespace
}  // namespace pipeguard::webhook
