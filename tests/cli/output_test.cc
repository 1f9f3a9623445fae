// The output formats: JSON shape, SARIF 2.1.0 required fields, JUnit well-formedness and escaping, text layout.
#include "pipeguard/cli/output.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>

#include "cli_test_support.h"
#include "pipeguard/cli/scan.h"

namespace pipeguard::cli {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace ::pipeguard::cli::testing;

ScanReport ExamplesReport() {
  ScanOptions options;
  options.config_path = kConfig;
  options.inputs = {kExamples};
  options.now_unix_seconds = kNow;
  std::istringstream in;
  auto report = RunScan(options, in);
  EXPECT_TRUE(report.ok()) << report.status().message();
  return report.ok() ? *report : ScanReport{};
}

policy::Violation MakeViolation(std::string rule, policy::Severity severity, std::string path, bool blocking,
                                bool waived = false) {
  policy::Violation v;
  v.rule = std::move(rule);
  v.severity = severity;
  v.path = std::move(path);
  v.message = "message for " + v.rule;
  v.detector = "SEC-999 test";
  v.blocking = blocking;
  v.waived = waived;
  return v;
}

ScanResult MakeResult(std::string file, int line, std::string kind, std::string name, bool governed, bool allowed,
                      std::vector<policy::Violation> violations = {}) {
  ScanResult r;
  r.file = std::move(file);
  r.line = line;
  r.api_version = "v1";
  r.kind = std::move(kind);
  r.namespace_ = "etl";
  r.name = std::move(name);
  r.verdict.governed = governed;
  r.verdict.allowed = allowed;
  r.verdict.violations = std::move(violations);
  return r;
}

// One denied, one audit-warned, one waived, one clean, one ungoverned object.
ScanReport SyntheticReport() {
  ScanReport report;
  report.results.push_back(MakeResult(
      "a.yaml", 3, "Pod", "denied", true, false,
      {MakeViolation("plaintext-secret", policy::Severity::kCritical, "/spec/containers/0/env/1/value", true),
       MakeViolation("break-glass", policy::Severity::kLow, "/metadata/annotations/x", false)}));
  auto warned = MakeResult("a.yaml", 20, "Pod", "warned", true, true,
                           {MakeViolation("insecure-transport", policy::Severity::kMedium, "/spec/x", true)});
  warned.verdict.mode = policy::Mode::kAudit;
  warned.verdict.mode_source = "namespace etl";
  report.results.push_back(std::move(warned));
  auto waived = MakeResult(
      "dir/b.yaml", 1, "Pod", "waived", true, true,
      {MakeViolation("untrusted-registry", policy::Severity::kHigh, "/spec/containers/0/image", true, true)});
  waived.verdict.break_glass_ticket = "INC-7";
  report.results.push_back(std::move(waived));
  report.results.push_back(MakeResult("dir/b.yaml", 9, "Pod", "clean", true, true));
  report.results.push_back(MakeResult("dir/b.yaml", 30, "Service", "web", false, true));
  return report;
}

TEST(JsonOutput, HasExactlyTheDocumentedShape) {
  const ScanReport report = ExamplesReport();
  const json out = json::parse(Render(report, OutputFormat::kJson, false));
  ASSERT_TRUE(out.is_object());
  EXPECT_EQ(out.size(), 2u);
  ASSERT_TRUE(out["results"].is_array());
  ASSERT_EQ(out["results"].size(), report.results.size());
  const std::set<std::string> result_keys = {"source",     "apiVersion", "kind",      "namespace",
                                             "name",       "governed",   "allowed",   "mode",
                                             "modeSource", "profiles",   "violations"};
  const std::set<std::string> violation_keys = {"rule", "severity", "path", "message", "detector", "disposition"};
  const std::set<std::string> dispositions = {"deny", "would-deny", "warn", "waived"};
  const std::regex source_shape(R"(.+:[0-9]+)");
  size_t violations = 0;
  for (const auto& r : out["results"]) {
    std::set<std::string> keys;
    for (const auto& [k, v] : r.items()) keys.insert(k);
    keys.erase("breakGlassTicket");  // only with an honoured waiver
    EXPECT_EQ(keys, result_keys);
    EXPECT_TRUE(policy::ParseMode(r["mode"].get<std::string>()).has_value()) << r["mode"];
    EXPECT_TRUE(r["modeSource"].is_string());
    EXPECT_TRUE(r["profiles"].is_array());
    EXPECT_TRUE(std::regex_match(r["source"].get<std::string>(), source_shape)) << r["source"];
    for (const char* k : {"apiVersion", "kind", "namespace", "name"}) EXPECT_TRUE(r[k].is_string()) << k;
    EXPECT_TRUE(r["governed"].is_boolean());
    EXPECT_TRUE(r["allowed"].is_boolean());
    ASSERT_TRUE(r["violations"].is_array());
    for (const auto& v : r["violations"]) {
      std::set<std::string> vkeys;
      for (const auto& [k, value] : v.items()) {
        vkeys.insert(k);
        EXPECT_TRUE(value.is_string()) << k;
      }
      EXPECT_EQ(vkeys, violation_keys);
      EXPECT_TRUE(policy::ParseSeverity(v["severity"].get<std::string>()).has_value());
      EXPECT_EQ(dispositions.count(v["disposition"].get<std::string>()), 1u) << v["disposition"];
      EXPECT_EQ(v["path"].get<std::string>().rfind('/', 0), 0u);
      ++violations;
    }
  }
  const json& summary = out["summary"];
  EXPECT_EQ(summary["documents"], report.results.size());
  EXPECT_EQ(summary["denied"].get<size_t>() + summary["allowed"].get<size_t>(), report.results.size());
  EXPECT_EQ(summary["denied"], 11);
  EXPECT_EQ(summary["skipped"], 1);
  size_t by_rule_total = 0;
  for (const auto& [rule, n] : summary["violations"].items()) by_rule_total += n.get<size_t>();
  EXPECT_EQ(by_rule_total, violations);
  EXPECT_EQ(summary["violations"]["plaintext-secret"], 6);
}

TEST(JsonOutput, SummaryCountsTheSyntheticReport) {
  const json summary = Summary(SyntheticReport());
  EXPECT_EQ(summary, json::parse(R"({"documents": 5, "governed": 4, "allowed": 4, "denied": 1, "skipped": 0,
      "violations": {"plaintext-secret": 1, "break-glass": 1, "insecure-transport": 1, "untrusted-registry": 1}})"));
}

TEST(SarifOutput, HasTheRequiredFieldsAndOneResultPerViolation) {
  const ScanReport report = ExamplesReport();
  const json sarif = json::parse(Render(report, OutputFormat::kSarif, false));
  EXPECT_EQ(sarif["version"], "2.1.0");
  EXPECT_THAT(sarif["$schema"].get<std::string>(), HasSubstr("sarif-2.1.0"));
  ASSERT_EQ(sarif["runs"].size(), 1u);
  const json& run = sarif["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["name"], "pipeguard");
  EXPECT_TRUE(run["tool"]["driver"]["version"].is_string());
  const json& rules = run["tool"]["driver"]["rules"];
  ASSERT_GE(rules.size(), 7u);
  std::set<std::string> rule_ids;
  for (const auto& rule : rules) {
    const std::string id = rule["id"];
    EXPECT_TRUE(rule_ids.insert(id).second) << "duplicate rule " << id;
    EXPECT_TRUE(rule["helpUri"].get<std::string>().ends_with("docs/rules.md#" + id)) << rule["helpUri"];
    EXPECT_THAT(rule["helpUri"].get<std::string>(), ::testing::StartsWith("https://"));
    EXPECT_FALSE(rule["shortDescription"]["text"].get<std::string>().empty());
    EXPECT_FALSE(rule["help"]["text"].get<std::string>().empty());
  }
  for (const char* id : {"plaintext-secret", "insecure-transport", "untrusted-registry", "unsigned-image",
                         "service-account-scope", "missing-profile", "profile-guardrail"}) {
    EXPECT_TRUE(rule_ids.count(id)) << id;
  }

  size_t expected_results = 0;
  for (const auto& r : report.results) expected_results += r.verdict.violations.size();
  ASSERT_EQ(run["results"].size(), expected_results);
  const std::set<std::string> levels = {"error", "warning", "note"};
  for (const auto& result : run["results"]) {
    const std::string rule_id = result["ruleId"];
    ASSERT_TRUE(rule_ids.count(rule_id));
    EXPECT_EQ(rules[result["ruleIndex"].get<size_t>()]["id"], rule_id);
    EXPECT_TRUE(levels.count(result["level"].get<std::string>()));
    EXPECT_FALSE(result["message"]["text"].get<std::string>().empty());
    ASSERT_EQ(result["locations"].size(), 1u);
    const json& location = result["locations"][0];
    const std::string uri = location["physicalLocation"]["artifactLocation"]["uri"];
    EXPECT_THAT(uri, ::testing::StartsWith("file:///"));  // the examples were given as absolute paths
    EXPECT_THAT(uri, HasSubstr("/examples/"));
    EXPECT_GE(location["physicalLocation"]["region"]["startLine"].get<int>(), 1);
    EXPECT_EQ(location["logicalLocations"][0]["name"], result["properties"]["jsonPointer"]);
    EXPECT_FALSE(result["partialFingerprints"].empty());
  }
}

TEST(SarifOutput, LevelsFollowSeverityAndWaiversAreSuppressions) {
  const json sarif = RenderSarif(SyntheticReport());
  const json& results = sarif["runs"][0]["results"];
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0]["level"], "error");    // critical
  EXPECT_EQ(results[1]["level"], "note");     // low
  EXPECT_EQ(results[2]["level"], "warning");  // medium
  EXPECT_EQ(results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "a.yaml");
  EXPECT_EQ(results[0]["locations"][0]["physicalLocation"]["region"]["startLine"], 3);
  EXPECT_EQ(results[0]["properties"]["jsonPointer"], "/spec/containers/0/env/1/value");
  EXPECT_FALSE(results[0].contains("suppressions"));
  ASSERT_TRUE(results[3].contains("suppressions"));
  EXPECT_EQ(results[3]["suppressions"][0]["kind"], "external");
  EXPECT_THAT(results[3]["suppressions"][0]["justification"].get<std::string>(), HasSubstr("INC-7"));
  // Fingerprints are stable and distinct.
  EXPECT_EQ(RenderSarif(SyntheticReport()), sarif);
  EXPECT_NE(results[0]["partialFingerprints"], results[1]["partialFingerprints"]);
}

// Two findings under one JSON pointer (two keys of one spark.properties) keep distinct fingerprints; the first keeps
// the fingerprint it had when it was alone, so existing code-scanning alerts stay matched.
TEST(SarifOutput, FindingsSharingAPathHaveDistinctFingerprints) {
  auto access = MakeViolation("plaintext-secret", policy::Severity::kHigh, "/data/spark.properties", true);
  access.message = "property spark.hadoop.fs.s3a.access.key holds an AWS access key ID";
  auto secret = MakeViolation("plaintext-secret", policy::Severity::kCritical, "/data/spark.properties", true);
  secret.message = "property spark.hadoop.fs.s3a.secret.key sets a sensitive option to a literal";
  ScanReport alone;
  alone.results.push_back(MakeResult("cm.yaml", 1, "ConfigMap", "conf", true, false, {access}));
  ScanReport both;
  both.results.push_back(MakeResult("cm.yaml", 1, "ConfigMap", "conf", true, false, {access, secret}));
  const json alone_results = RenderSarif(alone)["runs"][0]["results"];
  const json both_results = RenderSarif(both)["runs"][0]["results"];
  ASSERT_EQ(both_results.size(), 2u);
  EXPECT_NE(both_results[0]["partialFingerprints"], both_results[1]["partialFingerprints"]);
  EXPECT_EQ(both_results[0]["partialFingerprints"], alone_results[0]["partialFingerprints"]);
}

TEST(SarifOutput, FileNamesBecomeUriReferences) {
  ScanReport report;
  report.results.push_back(MakeResult("my dir/pod#1.yaml", 2, "Pod", "p", true, false,
                                      {MakeViolation("missing-profile", policy::Severity::kHigh, "/metadata", true)}));
  report.results.push_back(MakeResult("-", 1, "Pod", "q", true, false,
                                      {MakeViolation("missing-profile", policy::Severity::kHigh, "/metadata", true)}));
  const json results = RenderSarif(report)["runs"][0]["results"];
  EXPECT_EQ(results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "my%20dir/pod%231.yaml");
  EXPECT_EQ(results[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "stdin");
}

TEST(JunitOutput, IsWellFormedWithOneSuitePerFileAndOneFailurePerDenial) {
  const ScanReport report = ExamplesReport();
  const std::string xml = Render(report, OutputFormat::kJunit, false);
  std::string error;
  auto root = ParseXml(xml, &error);
  ASSERT_TRUE(root.has_value()) << error << "\n" << xml.substr(0, 2000);
  EXPECT_EQ(root->name, "testsuites");
  EXPECT_EQ(root->attributes.at("tests"), std::to_string(report.results.size()));
  EXPECT_EQ(root->attributes.at("failures"), "11");

  std::set<std::string> files;
  for (const auto& r : report.results) files.insert(r.file);
  const auto suites = root->Children("testsuite");
  ASSERT_EQ(suites.size(), files.size());
  size_t testcases = 0, failures = 0, denials = 0;
  for (const auto* suite : suites) {
    EXPECT_TRUE(files.count(suite->attributes.at("name")));
    const auto cases = suite->Children("testcase");
    EXPECT_EQ(suite->attributes.at("tests"), std::to_string(cases.size()));
    testcases += cases.size();
    for (const auto* c : cases) {
      EXPECT_EQ(c->attributes.at("classname"), suite->attributes.at("name"));
      for (const auto* f : c->Children("failure")) {
        ++failures;
        EXPECT_FALSE(f->attributes.at("type").empty());
        EXPECT_THAT(f->text, HasSubstr("fix: "));
      }
    }
  }
  for (const auto& r : report.results) denials += r.verdict.allowed ? 0 : r.verdict.Denials().size();
  EXPECT_EQ(testcases, report.results.size());
  EXPECT_EQ(failures, denials);
}

TEST(JunitOutput, EscapesEverythingAHostileManifestCanSmuggleIn) {
  ScanReport report;
  const std::string hostile_name = "a<b>&\"c'd]]>e";
  auto r = MakeResult("we<ird>&\".yaml", 1, "Pod", hostile_name, true, false,
                      {MakeViolation("plaintext-secret", policy::Severity::kHigh, "/spec/a~1b", true)});
  r.verdict.violations[0].message = std::string("bell\x07 escape\x1b[31m nul-free \xff\xfe broken utf8 & <tag>");
  report.results.push_back(std::move(r));
  const std::string xml = RenderJunit(report);
  std::string error;
  auto root = ParseXml(xml, &error);
  ASSERT_TRUE(root.has_value()) << error << "\n" << xml;
  const auto* suite = root->Children("testsuite").at(0);
  EXPECT_EQ(suite->attributes.at("name"), "we<ird>&\".yaml");
  const auto* testcase = suite->Children("testcase").at(0);
  EXPECT_THAT(testcase->attributes.at("name"), HasSubstr(hostile_name));
  EXPECT_THAT(testcase->Children("failure").at(0)->text, HasSubstr("& <tag>"));
  EXPECT_THAT(xml, Not(HasSubstr("\x1b")));
}

TEST(JunitOutput, UngovernedObjectsAreSkippedAndWarningsGoToSystemOut) {
  const std::string xml = RenderJunit(SyntheticReport());
  std::string error;
  auto root = ParseXml(xml, &error);
  ASSERT_TRUE(root.has_value()) << error;
  EXPECT_EQ(root->attributes.at("skipped"), "1");
  EXPECT_EQ(root->attributes.at("failures"), "1");
  const auto suites = root->Children("testsuite");
  ASSERT_EQ(suites.size(), 2u);
  const auto a_cases = suites[0]->Children("testcase");
  ASSERT_EQ(a_cases.size(), 2u);
  EXPECT_EQ(a_cases[0]->Children("failure").size(), 1u);  // break-glass (low) does not fail the case...
  EXPECT_THAT(a_cases[0]->Children("system-out").at(0)->text, HasSubstr("break-glass"));  // ...it is reported
  EXPECT_TRUE(a_cases[1]->Children("failure").empty());
  EXPECT_THAT(a_cases[1]->Children("system-out").at(0)->text,
              HasSubstr("audit (would deny): insecure-transport at /spec/x"));
  const auto b_cases = suites[1]->Children("testcase");
  EXPECT_THAT(b_cases[0]->Children("system-out").at(0)->text, HasSubstr("waived: untrusted-registry"));
  EXPECT_EQ(b_cases[2]->Children("skipped").size(), 1u);
}

TEST(XmlChecker, RejectsWhatWellFormednessForbids) {
  // The checker itself must be able to fail, or the JUnit tests prove nothing.
  for (const std::string bad : {"<a>", "<a></b>", "<a x=1/>", "<a x='1' x='2'/>", "<a>&foo;</a>", "<a>a & b</a>",
                                "<a>\x01</a>", "<a></a><b/>", "<a>&#0;</a>", "<a b=\"<\"/>"}) {
    std::string error;
    EXPECT_FALSE(ParseXml(bad, &error).has_value()) << bad;
  }
  std::string error;
  EXPECT_TRUE(ParseXml("<?xml version=\"1.0\"?>\n<a x=\"&lt;&#10;\"><b/>t&amp;<!-- c --></a>\n", &error)) << error;
}

TEST(TextOutput, DenialsComeFirstWithFixHintsAndASummary) {
  const std::string text = RenderText(SyntheticReport(), false);
  const size_t denied = text.find("DENIED  Pod etl/denied");
  const size_t warned = text.find("WARN    Pod etl/warned");
  const size_t clean = text.find("ALLOWED Pod etl/clean");
  const size_t ungoverned = text.find("ALLOWED Service etl/web");
  ASSERT_NE(denied, std::string::npos) << text;
  ASSERT_NE(warned, std::string::npos) << text;
  ASSERT_NE(clean, std::string::npos) << text;
  ASSERT_NE(ungoverned, std::string::npos) << text;
  EXPECT_LT(denied, warned);
  EXPECT_LT(warned, clean);
  EXPECT_LT(clean, ungoverned);
  EXPECT_THAT(text, HasSubstr("a.yaml:3"));
  EXPECT_THAT(text, HasSubstr("DENIED  Pod etl/denied  a.yaml:3  1 violation (mode enforce)\n"));
  EXPECT_THAT(text, HasSubstr("[deny] plaintext-secret at /spec/containers/0/env/1/value: message for "
                              "plaintext-secret (critical, SEC-999 test)"));
  EXPECT_THAT(text, HasSubstr("[warn] break-glass at /metadata/annotations/x: message for break-glass (low"));
  EXPECT_THAT(text, HasSubstr("[would-deny] insecure-transport at /spec/x"));
  EXPECT_THAT(text, HasSubstr("[waived INC-7] untrusted-registry"));
  EXPECT_THAT(text, HasSubstr("fix (plaintext-secret): keep the value in a Secret"));
  EXPECT_THAT(text, HasSubstr("See docs/rules.md#plaintext-secret"));
  EXPECT_THAT(text, HasSubstr("WARN    Pod etl/warned  a.yaml:20  (mode audit from namespace etl)"));
  EXPECT_THAT(text, HasSubstr("(not governed)"));
  EXPECT_THAT(text, HasSubstr("Summary: 5 objects: 1 denied, 2 allowed with warnings, 2 allowed"));
  EXPECT_THAT(text, Not(HasSubstr("\033[")));
}

// An object with more findings than the engine lists (policy::kMaxReportedViolations): text, JSON and JUnit state
// how many more there are, and the summaries count every finding.
ScanReport ReportWithUnlistedFindings() {
  ScanReport report;
  std::vector<policy::Violation> listed;
  for (size_t i = 0; i < policy::kMaxReportedViolations; ++i) {
    listed.push_back(MakeViolation("plaintext-secret", policy::Severity::kHigh,
                                   "/spec/containers/0/env/" + std::to_string(i) + "/value", true));
  }
  auto result = MakeResult("big.yaml", 1, "Pod", "big", true, false, std::move(listed));
  result.verdict.unlisted.count = 29900;
  result.verdict.unlisted.denials = 29900;
  result.verdict.unlisted.by_rule = {{"plaintext-secret", 29890}, {"insecure-transport", 10}};
  report.results.push_back(std::move(result));
  return report;
}

TEST(Output, UnlistedFindingsAreStatedAndCounted) {
  const ScanReport report = ReportWithUnlistedFindings();
  const std::string text = RenderText(report, false);
  EXPECT_THAT(text, HasSubstr("... and 29900 more findings in this object, not listed (at most 100 are listed"));
  EXPECT_THAT(text, HasSubstr("Findings by rule: insecure-transport 10, plaintext-secret 29990."));
  EXPECT_THAT(text, HasSubstr("fix (insecure-transport)"));

  const json out = json::parse(Render(report, OutputFormat::kJson, false));
  EXPECT_EQ(out["results"][0]["violations"].size(), policy::kMaxReportedViolations);
  EXPECT_EQ(out["results"][0]["unlistedViolations"], 29900);
  EXPECT_EQ(out["summary"]["violations"], json::parse(R"({"plaintext-secret": 29990, "insecure-transport": 10})"));

  const std::string junit = Render(report, OutputFormat::kJunit, false);
  EXPECT_THAT(junit, HasSubstr("... and 29900 more findings in this object, not listed"));
}

TEST(TextOutput, ColourOnlyOnRequestAndNeverEscapeSequencesFromManifests) {
  ScanReport report = SyntheticReport();
  report.results[0].name = "evil\033]0;owned\007";
  const std::string plain = RenderText(report, false);
  EXPECT_THAT(plain, Not(HasSubstr("\033")));
  EXPECT_THAT(plain, HasSubstr("evil?]0;owned?"));
  const std::string coloured = RenderText(report, true);
  EXPECT_THAT(coloured, HasSubstr("\033[1;31mDENIED"));
  EXPECT_THAT(coloured, Not(HasSubstr("\033]0;")));
}

TEST(OutputFormat, Names) {
  EXPECT_EQ(ParseOutputFormat("text"), OutputFormat::kText);
  EXPECT_EQ(ParseOutputFormat("json"), OutputFormat::kJson);
  EXPECT_EQ(ParseOutputFormat("sarif"), OutputFormat::kSarif);
  EXPECT_EQ(ParseOutputFormat("junit"), OutputFormat::kJunit);
  EXPECT_FALSE(ParseOutputFormat("yaml").has_value());
  EXPECT_FALSE(ParseOutputFormat("JSON").has_value());
}

}  // namespace
}  // namespace pipeguard::cli
