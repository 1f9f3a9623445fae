// The evidence report: which records count, in which period, and what each control is mapped to.
#include "pipeguard/report/evidence.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace pipeguard::report {
namespace {

using nlohmann::json;

std::string AuditLine(std::string ts, std::string decision, std::string user, std::string rule,
                      std::string ticket = "") {
  json line = {{"ts", ts},
               {"log", "audit"},
               {"user", user},
               {"operation", "CREATE"},
               {"kind", "Pod"},
               {"namespace", "etl"},
               {"name", "p"},
               {"governed", true},
               {"decision", decision},
               {"allowed", decision != "denied"},
               {"mode", "enforce"},
               {"rules", {rule}}};
  if (!ticket.empty()) line["break_glass_ticket"] = ticket;
  return line.dump();
}

EvidenceInputs Inputs() {
  EvidenceInputs in;
  in.log_lines = {
      AuditLine("2026-11-30T23:59:59.999Z", "denied", "early", "plaintext-secret"),  // before the period
      AuditLine("2026-12-01T10:00:00.000Z", "denied", "alice", "plaintext-secret"),
      AuditLine("2026-12-01T10:05:00.000Z", "denied", "alice", "insecure-transport"),
      AuditLine("2026-12-01T11:00:00.000Z", "allowed", "bob", "plaintext-secret", "INC-42"),
      AuditLine("2026-12-01T12:00:00.000Z", "allowed", "carol", ""),
      // The operator with spdlog's default pattern, and under a JSON logger (msg holds the record).
      R"([2026-12-01 13:00:00.000] [warning] {"audit":"drift_reverted","namespace":"etl","profile":"payments","kind":"ServiceAccount","detail":"automount changed"})",
      json({{"ts", "2026-12-01T14:00:00Z"},
            {"level", "error"},
            {"msg", json({{"audit", "webhook_configuration_tampered"},
                          {"kind", "ValidatingWebhookConfiguration"},
                          {"name", "pipeguard"},
                          {"action", "updated"},
                          {"changes", json::array({{{"change", "failure_policy"}}})}})
                        .dump()}})
          .dump(),
      "not a record at all",
      "{\"half\": ",
      "",
  };
  in.since = ParseTimestamp("2026-12-01T00:00:00Z");
  in.until = ParseTimestamp("2026-12-02T00:00:00Z");
  in.events = {json{{"reason", "WebhookConfigurationTampered"}, {"eventTime", "2026-12-01T14:00:00.000000Z"}},
               json{{"reason", "DriftReverted"}, {"eventTime", "2026-11-01T00:00:00.000000Z"}},  // outside
               json{{"reason", "Scheduled"}, {"eventTime", "2026-12-01T14:00:00Z"}}};
  in.profiles = {json{{"kind", "PipelineSecurityProfile"},
                      {"metadata", {{"namespace", "etl"}, {"name", "payments"}}},
                      {"spec", {{"serviceAccount", {{"name", "payments-etl"}}}}},
                      {"status",
                       {{"roleArn", "arn:aws:iam::123456789012:role/pipeguard/etl-payments"},
                        {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}}};
  in.policy_reports = {json{{"kind", "PolicyReport"},
                            {"metadata", {{"namespace", "etl"}}},
                            {"summary", {{"pass", 3}, {"fail", 1}, {"warn", 0}}},
                            {"results", {{{"rule", "insecure-transport"}, {"result", "fail"}}}}}};
  return in;
}

TEST(Evidence, CountsDenialsWaiversTamperAndDriftInThePeriod) {
  const json evidence = BuildEvidence(Inputs());
  ASSERT_EQ(evidence["denials"].size(), 2u);  // the one before the period is left out
  EXPECT_EQ(evidence["denials"][0]["user"], "alice");
  EXPECT_EQ(evidence["denials"][0]["ts"], "2026-12-01T10:00:00Z");
  ASSERT_EQ(evidence["breakGlassWaivers"].size(), 1u);
  EXPECT_EQ(evidence["breakGlassWaivers"][0]["ticket"], "INC-42");
  ASSERT_EQ(evidence["driftReverted"].size(), 1u);
  EXPECT_EQ(evidence["driftReverted"][0]["ts"], "2026-12-01T13:00:00Z");
  ASSERT_EQ(evidence["tamperRestored"].size(), 1u);
  EXPECT_EQ(evidence["tamperRestored"][0]["action"], "updated");
  EXPECT_EQ(evidence["kubernetesEvents"], json({{"WebhookConfigurationTampered", 1}}));
  EXPECT_EQ(evidence["sources"]["admissionDecisions"], 4);
  EXPECT_EQ(evidence["sources"]["logLinesSkipped"], 2);  // the two broken lines; the blank one is not counted
  EXPECT_EQ(evidence["governedNamespaces"], json::parse(R"([{"namespace":"etl","mode":"enforce","decisions":4,
                                                           "denials":2}])"));
  EXPECT_EQ(evidence["profiles"][0]["roleArn"], "arn:aws:iam::123456789012:role/pipeguard/etl-payments");
  EXPECT_EQ(evidence["profiles"][0]["ready"], "True");
}

TEST(Evidence, EachControlNamesItsCriteriaAndItsEvidence) {
  const json evidence = BuildEvidence(Inputs());
  std::map<std::string, json> controls;
  for (const json& c : evidence["controls"]) controls[c["control"]] = c;
  EXPECT_EQ(controls["plaintext-secrets"]["soc2"], json({"CC6.1", "CC6.7", "CC8.1"}));
  EXPECT_EQ(controls["plaintext-secrets"]["pciDss"], json({"3.5", "3.6", "8.6"}));
  EXPECT_EQ(controls["plaintext-secrets"]["evidence"]["denials"], 1);
  EXPECT_EQ(controls["encryption-in-transit"]["pciDss"], json({"4.2"}));
  EXPECT_EQ(controls["encryption-in-transit"]["evidence"]["denials"], 1);
  EXPECT_EQ(controls["encryption-in-transit"]["evidence"]["openFindings"], 1);  // from the PolicyReport
  EXPECT_EQ(controls["change-control"]["evidence"]["breakGlassWaivers"], 1);
  EXPECT_EQ(controls["tamper-detection"]["evidence"]["tamperRestored"], 1);
  EXPECT_EQ(controls["audit-trail"]["evidence"]["decisions"], 4);
  EXPECT_EQ(controls["network-boundaries"]["soc2"], json({"CC6.6"}));
}

TEST(Evidence, MarkdownHasEverySectionAndNoTableBreaks) {
  EvidenceInputs in = Inputs();
  in.log_lines.push_back(AuditLine("2026-12-01T15:00:00Z", "denied", "mallory|x\ny", "plaintext-secret"));
  const std::string page = RenderEvidenceMarkdown(BuildEvidence(in));
  for (const char* heading :
       {"## Controls", "## Governed namespaces", "## Pipeline profiles", "## Denials", "## Break-glass waivers",
        "## Webhook tampering restored", "## Drift reverted", "## What breaks the policy now"}) {
    EXPECT_NE(page.find(heading), std::string::npos) << heading;
  }
  EXPECT_NE(page.find("| mallory/x y |"), std::string::npos);  // a user name cannot break the table
  EXPECT_NE(page.find("INC-42"), std::string::npos);
}

// Records read from files may be odd or hostile: wrong types and nulls read as empty, never an exception. (The e2e
// run found a governed audit line without a mode stopping the report.)
TEST(Evidence, OddRecordsNeverStopTheReport) {
  EvidenceInputs in;
  in.log_lines = {
      R"({"log":"audit","governed":true,"decision":"denied","mode":"","rules":["plaintext-secret"]})",
      R"({"log":"audit","governed":"yes","dry_run":"no","decision":7,"rules":"x","break_glass_ticket":null})",
      R"({"audit":"webhook_configuration_tampered","changes":"none"})",
      R"({"msg":"not json","ts":3})",
  };
  in.events = {json{{"reason", "DriftReverted"}, {"metadata", nullptr}}, json("a string"), json::array()};
  in.profiles = {json{{"kind", "PipelineSecurityProfile"}, {"metadata", nullptr}, {"spec", 5}, {"status", "x"}}};
  in.policy_reports = {json{{"kind", "PolicyReport"}, {"summary", nullptr}, {"results", {nullptr, 1}}}, json(3)};
  json evidence;
  ASSERT_NO_THROW(evidence = BuildEvidence(in));
  ASSERT_NO_THROW(RenderEvidenceMarkdown(evidence));
  EXPECT_EQ(evidence["denials"].size(), 1u);
  EXPECT_EQ(evidence["governedNamespaces"][0]["decisions"], 1);
  EXPECT_EQ(evidence["tamperRestored"][0]["changes"], json::array());
  EXPECT_EQ(evidence["profiles"][0]["ready"], "unknown");
  EXPECT_EQ(evidence["currentViolations"][0]["fail"], 0);
}

TEST(Evidence, ParsesTimestamps) {
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseTimestamp("2026-12-01T10:00:00.123Z"), 1796119200);
  EXPECT_EQ(ParseTimestamp("2026-12-01 10:00:00"), 1796119200);
  EXPECT_EQ(ParseTimestamp("2024-02-29T00:00:00Z"), 1709164800);
  EXPECT_EQ(ParseTimestamp("2026-13-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("yesterday"), std::nullopt);
}

}  // namespace
}  // namespace pipeguard::report
