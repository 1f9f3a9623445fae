// One object through two entrances, `pipeguard scan` and the webhook's /validate handler (fed by
// `pipeguard admission-review`), under the examples' configuration and context: the same verdict reads the same in
// both (policy/verdict_text.h), down to why a break-glass request was refused and where the mode came from.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "cli_test_support.h"
#include "pipeguard/manifest/documents.h"
#include "pipeguard/policy/engine.h"
#include "pipeguard/webhook/audit_log.h"
#include "pipeguard/webhook/file_context_provider.h"
#include "pipeguard/webhook/handlers.h"

namespace pipeguard::cli {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using namespace ::pipeguard::cli::testing;

struct WebhookOutcome {
  webhook::AdmissionReply reply;
  json audit_line;
};

// The webhook's reply to the first object of `file`, requested by `user`, and its audit line.
WebhookOutcome AdmitThroughWebhook(const std::string& file, const std::string& user) {
  const CommandOutput review = RunInProcess({"admission-review", "--user", user, file});
  EXPECT_EQ(review.exit_code, 0) << review.err;
  auto request = webhook::ParseAdmissionReview(review.out.substr(0, review.out.find('\n')));
  EXPECT_TRUE(request.ok()) << request.status().message();
  if (!request.ok()) return {};
  auto context = webhook::FileContextProvider::Create({kConfig, {kContext}, {}});
  EXPECT_TRUE(context.ok()) << context.status().message();
  if (!context.ok()) return {};
  const policy::Engine engine;
  const webhook::AdmissionHandler handler =
      webhook::MakeValidatingHandler(engine, **context, [] { return static_cast<std::int64_t>(kNow); });
  WebhookOutcome outcome{handler(*request), {}};
  outcome.audit_line =
      json::parse(webhook::FormatAuditLine(*request, outcome.reply, "validate", 1.0, std::chrono::system_clock::now()));
  return outcome;
}

CommandOutput Scan(const std::string& file, const std::string& user, const std::string& format) {
  return RunInProcess({"scan", "--config", kConfig, "--profiles", kContext, "--user", user, "-o", format, file});
}

TEST(Entrances, ARefusedBreakGlassRequestGivesTheSameReasonInTheWebhookWarningAndTheScanReport) {
  const std::string file = kExamples + "/bad/break-glass-misuse.yaml";
  const WebhookOutcome webhook = AdmitThroughWebhook(file, "mallory@ledgerline.example");
  EXPECT_FALSE(webhook.reply.allowed);
  const std::string prefix = "pipeguard warning: ";
  std::string finding;  // the warning without its prefix: policy::FindingLine of the break-glass finding
  for (const auto& warning : webhook.reply.warnings) {
    if (warning.starts_with(prefix + "break-glass at ")) finding = warning.substr(prefix.size());
  }
  ASSERT_FALSE(finding.empty()) << ::testing::PrintToString(webhook.reply.warnings);
  // Why, not only where: the example's expiry (2099) is beyond breakGlass.maxDuration.
  EXPECT_THAT(finding, HasSubstr(": break-glass not honoured: the expiry is more than 168h ahead"));

  const CommandOutput text = Scan(file, "mallory@ledgerline.example", "text");
  EXPECT_EQ(text.exit_code, 1) << text.err;
  EXPECT_THAT(text.out, HasSubstr("[warn] " + finding + " (low)"));

  // The JSON report carries the same message, unabridged.
  const CommandOutput json_out = Scan(file, "mallory@ledgerline.example", "json");
  const json report = json::parse(json_out.out);
  bool found = false;
  for (const auto& v : report["results"][0]["violations"]) {
    if (v["rule"] != "break-glass") continue;
    found = true;
    EXPECT_EQ(
        v["rule"].get<std::string>() + " at " + v["path"].get<std::string>() + ": " + v["message"].get<std::string>(),
        finding);
    EXPECT_EQ(v["disposition"], "warn");
  }
  EXPECT_TRUE(found) << json_out.out;

  // And the denial itself reads the same: the webhook's summary is the scan report's.
  const std::string summary = webhook.reply.message.substr(0, webhook.reply.message.find('\n'));
  const std::string after_colon = summary.substr(summary.find(": ") + 2);
  EXPECT_THAT(after_colon, HasSubstr("1 violation (mode enforce from "));
  EXPECT_THAT(text.out, HasSubstr("  " + after_colon + "\n"));
}

TEST(Entrances, BothRecordWhereTheModeCameFrom) {
  const std::string file = kExamples + "/good/sandbox-audit-warning.yaml";
  const WebhookOutcome webhook = AdmitThroughWebhook(file, "jane@ledgerline.example");
  EXPECT_TRUE(webhook.reply.allowed);
  ASSERT_EQ(webhook.reply.audit_annotations.count("mode-source"), 1u);
  const std::string source = webhook.reply.audit_annotations.at("mode-source");
  EXPECT_THAT(source, ::testing::StartsWith("namespace "));
  EXPECT_EQ(webhook.reply.audit_annotations.at("mode"), "audit");
  EXPECT_EQ(webhook.audit_line["mode"], "audit");
  EXPECT_EQ(webhook.audit_line["mode_source"], source);

  const json report = json::parse(Scan(file, "jane@ledgerline.example", "json").out);
  EXPECT_EQ(report["results"][0]["mode"], "audit");
  EXPECT_EQ(report["results"][0]["modeSource"], source);
  EXPECT_THAT(Scan(file, "jane@ledgerline.example", "text").out, HasSubstr("(mode audit from " + source));
}

// Issue 14, item 1: the mounted-ConfigMap cases of the engine table (tests/policy/data/engine/mounted_config.yaml)
// through both entrances. The webhook finds the ConfigMaps in its context files (as it would in its informer);
// `pipeguard scan` among its inputs, after the object. Same decision, same findings (rule and path), and every
// finding the table expects at a ConfigMap reference.
TEST(Entrances, MountedConfigMapCasesGetTheSameVerdictFromScanAndTheWebhook) {
  const std::filesystem::path dir = ::testing::TempDir() + "/entrances-cm-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::filesystem::path table =
      std::filesystem::path(PIPEGUARD_TEST_DATA) / "policy/data/engine/mounted_config.yaml";
  size_t cases = 0, denied = 0;
  for (const YAML::Node& c : YAML::LoadFile(table.string())["cases"]) {
    if (!c["configMaps"]) continue;
    const std::string id = c["name"].as<std::string>();
    const std::string object_file = (dir / "object.yaml").string();
    const std::string config_maps_file = (dir / "configmaps.yaml").string();
    {
      std::ofstream(object_file, std::ios::trunc) << YAML::Dump(c["object"]) << "\n";
      std::ofstream out(config_maps_file, std::ios::trunc);
      for (const YAML::Node& config_map : c["configMaps"]) out << "---\n" << YAML::Dump(config_map) << "\n";
    }
    const CommandOutput review = RunInProcess({"admission-review", "--user", "jane@ledgerline.example", object_file});
    ASSERT_EQ(review.exit_code, 0) << id << review.err;
    auto request = webhook::ParseAdmissionReview(review.out.substr(0, review.out.find('\n')));
    ASSERT_TRUE(request.ok()) << id << request.status().message();
    auto context = webhook::FileContextProvider::Create({kConfig, {kContext, config_maps_file}, {}});
    ASSERT_TRUE(context.ok()) << id << context.status().message();
    const policy::Engine engine;
    const webhook::AdmissionReply reply =
        webhook::MakeValidatingHandler(engine, **context, [] { return static_cast<std::int64_t>(kNow); })(*request);
    std::set<std::string> webhook_findings;
    for (const auto& finding : reply.findings) webhook_findings.insert(finding.rule + " " + finding.path);

    const CommandOutput scan = RunInProcess({"scan", "--config", kConfig, "--profiles", kContext, "--user",
                                             "jane@ledgerline.example", "-o", "json", object_file, config_maps_file});
    ASSERT_TRUE(scan.exit_code == 0 || scan.exit_code == 1) << id << scan.err;
    const json report = json::parse(scan.out);
    const json& result = report["results"][0];  // the object: the first input
    ASSERT_EQ(result["name"], c["object"]["metadata"]["name"].as<std::string>()) << id;
    std::set<std::string> scan_findings;
    for (const auto& v : result["violations"]) {
      scan_findings.insert(v["rule"].get<std::string>() + " " + v["path"].get<std::string>());
    }

    EXPECT_EQ(reply.allowed, result["allowed"].get<bool>()) << id;
    EXPECT_EQ(webhook_findings, scan_findings) << id;
    for (const YAML::Node& expected : c["expect"]["violations"]) {
      const std::string finding = expected.as<std::string>();
      if (finding.find("/configMap") == std::string::npos) continue;
      EXPECT_EQ(scan_findings.count(finding), 1u) << id << ": " << finding;
    }
    ++cases;
    denied += reply.allowed ? 0 : 1;
  }
  std::filesystem::remove_all(dir);
  EXPECT_GE(cases, 5u);
  EXPECT_GE(denied, 2u);
}

// The other order (the cases with configMapReaders): the ConfigMap after the objects that read it. The webhook knows
// the readers through its context (ContextWithConfigMapReaders over policy::ConfigMapReadsOf of the readers, as the
// background audit's index holds them); `pipeguard scan` among its inputs, after the ConfigMap. Same decision, same
// findings, and the ConfigMap is governed by the same readers.
TEST(Entrances, ConfigMapReaderCasesGetTheSameVerdictFromScanAndTheWebhook) {
  const std::filesystem::path dir = ::testing::TempDir() + "/entrances-cmr-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::filesystem::path table =
      std::filesystem::path(PIPEGUARD_TEST_DATA) / "policy/data/engine/mounted_config.yaml";
  size_t cases = 0, governed = 0, denied = 0;
  for (const YAML::Node& c : YAML::LoadFile(table.string())["cases"]) {
    if (!c["configMapReaders"]) continue;
    const std::string id = c["name"].as<std::string>();
    const std::string object_file = (dir / "object.yaml").string();
    const std::string readers_file = (dir / "readers.yaml").string();
    {
      std::ofstream(object_file, std::ios::trunc) << YAML::Dump(c["object"]) << "\n";
      std::ofstream out(readers_file, std::ios::trunc);
      for (const YAML::Node& reader : c["configMapReaders"]) out << "---\n" << YAML::Dump(reader) << "\n";
    }
    auto readers = manifest::LoadPath(readers_file);
    ASSERT_TRUE(readers.ok()) << id << readers.status().message();
    std::vector<policy::ConfigMapRead> reads;
    for (const auto& document : *readers) {
      for (auto& read : policy::ConfigMapReadsOf(document.object)) reads.push_back(std::move(read));
    }
    const CommandOutput review = RunInProcess({"admission-review", "--user", "jane@ledgerline.example", object_file});
    ASSERT_EQ(review.exit_code, 0) << id << review.err;
    auto request = webhook::ParseAdmissionReview(review.out.substr(0, review.out.find('\n')));
    ASSERT_TRUE(request.ok()) << id << request.status().message();
    auto files = webhook::FileContextProvider::Create({kConfig, {kContext}, {}});
    ASSERT_TRUE(files.ok()) << id << files.status().message();
    const webhook::ContextWithConfigMapReaders context(**files,
                                                       [&reads](const std::string& ns, const std::string& name) {
                                                         std::vector<policy::ConfigMapReader> out;
                                                         for (const auto& read : reads) {
                                                           if (read.reader.namespace_ == ns && read.config_map == name)
                                                             out.push_back(read.reader);
                                                         }
                                                         return out;
                                                       });
    const policy::Engine engine;
    const webhook::AdmissionReply reply =
        webhook::MakeValidatingHandler(engine, context, [] { return static_cast<std::int64_t>(kNow); })(*request);
    std::set<std::string> webhook_findings;
    for (const auto& finding : reply.findings) webhook_findings.insert(finding.rule + " " + finding.path);

    const CommandOutput scan = RunInProcess({"scan", "--config", kConfig, "--profiles", kContext, "--user",
                                             "jane@ledgerline.example", "-o", "json", object_file, readers_file});
    ASSERT_TRUE(scan.exit_code == 0 || scan.exit_code == 1) << id << scan.err;
    const json report = json::parse(scan.out);
    const json& result = report["results"][0];  // the ConfigMap: the first input
    ASSERT_EQ(result["name"], c["object"]["metadata"]["name"].as<std::string>()) << id;
    std::set<std::string> scan_findings;
    for (const auto& v : result["violations"]) {
      scan_findings.insert(v["rule"].get<std::string>() + " " + v["path"].get<std::string>());
    }

    EXPECT_EQ(reply.governed, c["expect"]["governed"].as<bool>()) << id;
    EXPECT_EQ(reply.governed, result["governed"].get<bool>()) << id;
    EXPECT_EQ(reply.allowed, result["allowed"].get<bool>()) << id;
    EXPECT_EQ(webhook_findings, scan_findings) << id;
    ++cases;
    governed += reply.governed ? 1 : 0;
    denied += reply.allowed ? 0 : 1;
  }
  std::filesystem::remove_all(dir);
  EXPECT_GE(cases, 6u);
  EXPECT_GE(governed, 4u);
  EXPECT_GE(denied, 2u);
}

// Issue 14, item 4: one table drives both entrances. Every literal env and command row of the detector tables
// (tests/policy/data/detect) goes into the good KubernetesPodOperator example, and `pipeguard scan` and the
// webhook's /validate handler must reach the same decision with the same rules, which include the row's own.
TEST(Entrances, EveryDetectorTableRowGetsTheSameVerdictFromScanAndTheWebhook) {
  auto documents = manifest::LoadPath(kExamples + "/good/airflow-kpo-extract.yaml");
  ASSERT_TRUE(documents.ok() && documents->size() == 1);
  const json pod_template = documents->front().object;
  auto context = webhook::FileContextProvider::Create({kConfig, {kContext}, {}});
  ASSERT_TRUE(context.ok()) << context.status().message();
  const policy::Engine engine;
  const webhook::AdmissionHandler handler =
      webhook::MakeValidatingHandler(engine, **context, [] { return static_cast<std::int64_t>(kNow); });
  const std::filesystem::path dir = ::testing::TempDir() + "/entrances-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);

  size_t rows = 0, denied = 0;
  const std::filesystem::path tables = std::filesystem::path(PIPEGUARD_TEST_DATA) / "policy/data/detect";
  for (const auto& entry : std::filesystem::directory_iterator(tables)) {
    if (entry.path().extension() != ".yaml") continue;
    for (const YAML::Node& row : YAML::LoadFile(entry.path().string())) {
      const std::string surface = row["surface"] ? row["surface"].as<std::string>() : "env";
      const std::string source = row["source"] ? row["source"].as<std::string>() : "literal";
      if ((surface != "env" && surface != "command") || source != "literal" || row["spark_executor"]) continue;
      const std::string id = entry.path().filename().string() + ": " + row["id"].as<std::string>();
      json pod = pod_template;
      json& container = pod["spec"]["containers"][0];
      if (surface == "env") {
        container["env"].push_back({{"name", row["key"].as<std::string>()}, {"value", row["value"].as<std::string>()}});
      } else {
        container.erase("args");
        container["command"] = row["argv"].as<std::vector<std::string>>();
      }
      const std::string file = (dir / "pod.json").string();
      std::ofstream(file, std::ios::trunc) << pod.dump() << "\n";

      const CommandOutput review = RunInProcess({"admission-review", "--user", "jane@ledgerline.example", file});
      ASSERT_EQ(review.exit_code, 0) << id << review.err;
      auto request = webhook::ParseAdmissionReview(review.out.substr(0, review.out.find('\n')));
      ASSERT_TRUE(request.ok()) << id << request.status().message();
      const webhook::AdmissionReply reply = handler(*request);
      std::set<std::string> webhook_rules;
      for (const auto& finding : reply.findings) webhook_rules.insert(finding.rule);

      const CommandOutput scan = Scan(file, "jane@ledgerline.example", "json");
      ASSERT_TRUE(scan.exit_code == 0 || scan.exit_code == 1) << id << scan.err;
      const json report = json::parse(scan.out);
      std::set<std::string> scan_rules;
      for (const auto& v : report["results"][0]["violations"]) scan_rules.insert(v["rule"].get<std::string>());

      EXPECT_EQ(reply.allowed, scan.exit_code == 0) << id;
      EXPECT_EQ(webhook_rules, scan_rules) << id;
      for (const YAML::Node& expected : row["expect"]) {
        EXPECT_EQ(scan_rules.count(expected["rule"].as<std::string>()), 1u) << id;
      }
      ++rows;
      denied += reply.allowed ? 0 : 1;
    }
  }
  std::filesystem::remove_all(dir);
  EXPECT_GT(rows, 500u);    // the tables hold ~570 literal env and command rows
  EXPECT_GT(denied, 300u);  // and most of them are findings
}

}  // namespace
}  // namespace pipeguard::cli
