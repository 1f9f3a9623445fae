// -o json and -o sarif.
#include <map>
#include <set>

#include "output_internal.h"
#include "pipeguard/cli/output.h"
#include "pipeguard/policy/verdict_text.h"

#ifndef PIPEGUARD_VERSION
#error "PIPEGUARD_VERSION is set by cli/CMakeLists.txt"
#endif

namespace pipeguard::cli {
namespace {

using nlohmann::json;
using policy::Severity;

// Every rule the engine can report, in the order the catalogue lists them.
struct RuleInfo {
  std::string_view id;
  std::string_view name;  // SARIF reportingDescriptor.name (PascalCase)
  std::string_view description;
  Severity default_severity;
};

constexpr RuleInfo kRules[] = {
    {policy::rules::kPlaintextSecret, "PlaintextSecret",
     "A credential is written in the object (env, command line, Spark/Hadoop/Kafka config, connection string).",
     Severity::kHigh},
    {policy::rules::kInsecureTransport, "InsecureTransport",
     "A connection setting sends data or credentials without TLS, or without verifying the server.", Severity::kHigh},
    {policy::rules::kUntrustedRegistry, "UntrustedRegistry",
     "An image does not come from one of the configured registries.", Severity::kHigh},
    {policy::rules::kUnsignedImage, "UnsignedImage", "An image has no valid signature from a trusted key.",
     Severity::kHigh},
    {policy::rules::kServiceAccountScope, "ServiceAccountScope",
     "The pod runs with another identity than its profile grants, mounts an API token, or its service account "
     "has broad RBAC.",
     Severity::kHigh},
    {policy::rules::kMissingProfile, "MissingProfile",
     "A governed pipeline workload is not selected by any PipelineSecurityProfile in its namespace.", Severity::kHigh},
    {policy::rules::kProfileGuardrail, "ProfileGuardrail",
     "A PipelineSecurityProfile is malformed or breaks a platform guardrail.", Severity::kHigh},
    {policy::rules::kMalformedObject, "MalformedObject",
     "A field the rules read has the wrong JSON type, so the object cannot be evaluated.", Severity::kCritical},
    {policy::rules::kReviewBudget, "ReviewBudget",
     "Judging the object took more than its work budget, so it was not fully judged and is not admitted.",
     Severity::kCritical},
    {policy::rules::kBreakGlass, "BreakGlass", "A break-glass waiver was requested but not honoured.", Severity::kLow},
};

// GitHub code scanning reads rule severity from properties."security-severity" (a CVSS-like score).
std::string SecuritySeverity(Severity s) {
  switch (s) {
    case Severity::kCritical:
      return "9.5";
    case Severity::kHigh:
      return "8.0";
    case Severity::kMedium:
      return "5.5";
    case Severity::kLow:
      return "3.0";
    default:
      return "1.0";
  }
}

// RFC 3986 relative reference for a file path ("file://" for absolute paths).
std::string FileUri(const std::string& path) {
  if (path == "-") return "stdin";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = path.starts_with("/") ? "file://" : "";
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~' || c == '/') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

// FNV-1a, 64 bit: a stable fingerprint across runs and platforms.
std::string Fingerprint(std::string_view text) {
  std::uint64_t hash = 1469598103934665603ull;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, hash >>= 4) out[static_cast<size_t>(i)] = kHex[hash & 0xF];
  return out;
}

}  // namespace

json Summary(const ScanReport& report) {
  size_t governed = 0, allowed = 0, denied = 0;
  json by_rule = json::object();
  for (const auto& r : report.results) {
    governed += r.verdict.governed ? 1 : 0;
    (r.verdict.allowed ? allowed : denied) += 1;
    for (const auto& v : r.verdict.violations) {
      by_rule[v.rule] = by_rule.value(v.rule, 0) + 1;
    }
    for (const auto& [rule, n] : r.verdict.unlisted.by_rule) by_rule[rule] = by_rule.value(rule, size_t{0}) + n;
  }
  return json{{"documents", report.results.size()},
              {"governed", governed},
              {"allowed", allowed},
              {"denied", denied},
              {"skipped", report.skipped.size()},
              {"violations", std::move(by_rule)}};
}

json RenderJson(const ScanReport& report) {
  json results = json::array();
  for (const auto& r : report.results) {
    json violations = json::array();
    for (const auto& v : r.verdict.violations) {
      violations.push_back(json{{"rule", v.rule},
                                {"severity", policy::ToString(v.severity)},
                                {"path", v.path},
                                {"message", v.message},
                                {"detector", v.detector},
                                {"disposition", policy::ToString(policy::DispositionOf(r.verdict, v))}});
    }
    json result = {{"source", r.Source()},
                   {"apiVersion", r.api_version},
                   {"kind", r.kind},
                   {"namespace", r.namespace_},
                   {"name", r.name},
                   {"governed", r.verdict.governed},
                   {"allowed", r.verdict.allowed},
                   {"mode", policy::ToString(r.verdict.mode)},
                   {"modeSource", r.verdict.mode_source},
                   {"profiles", r.verdict.profiles},
                   {"violations", std::move(violations)}};
    if (r.verdict.unlisted.count > 0) result["unlistedViolations"] = r.verdict.unlisted.count;
    if (r.verdict.break_glass_ticket) result["breakGlassTicket"] = *r.verdict.break_glass_ticket;
    results.push_back(std::move(result));
  }
  return json{{"results", std::move(results)}, {"summary", Summary(report)}};
}

json RenderSarif(const ScanReport& report) {
  // Rules: the catalogue, plus any rule ID a newer engine reports that this table does not know yet.
  std::vector<RuleInfo> rules(std::begin(kRules), std::end(kRules));
  std::map<std::string, Severity, std::less<>> worst;  // highest severity seen per rule in this run
  for (const auto& r : report.results) {
    for (const auto& v : r.verdict.violations) {
      auto [it, inserted] = worst.emplace(v.rule, v.severity);
      if (!inserted && v.severity > it->second) it->second = v.severity;
    }
  }
  for (const auto& entry : worst) {
    const std::string& id = entry.first;  // a named reference: clang 14 cannot capture a structured binding
    const bool known = std::any_of(rules.begin(), rules.end(), [&](const RuleInfo& r) { return r.id == id; });
    if (!known) rules.push_back(RuleInfo{id, "", "", entry.second});
  }

  json driver_rules = json::array();
  std::map<std::string, size_t, std::less<>> rule_index;
  for (const auto& rule : rules) {
    rule_index.emplace(rule.id, driver_rules.size());
    const auto w = worst.find(rule.id);
    const Severity severity = w == worst.end() ? rule.default_severity : w->second;
    const std::string id(rule.id);
    json descriptor = {
        {"id", id},
        {"shortDescription", {{"text", rule.description.empty() ? id : std::string(rule.description)}}},
        {"helpUri", std::string(RulesDocUrl()) + "#" + id},
        {"help", {{"text", std::string(FixHint(rule.id))}}},
        {"defaultConfiguration", {{"level", internal::SarifLevel(rule.default_severity)}}},
        {"properties", {{"tags", {"security", "kubernetes"}}, {"security-severity", SecuritySeverity(severity)}}}};
    if (!rule.name.empty()) descriptor["name"] = std::string(rule.name);
    driver_rules.push_back(std::move(descriptor));
  }

  json results = json::array();
  for (const auto& r : report.results) {
    // Several findings may share a rule and a JSON pointer (the lines of one spark.properties): the first keeps the
    // plain fingerprint, the others add their message (value-free; it names the key) so that each stays distinct.
    std::set<std::string> fingerprinted;
    for (const auto& v : r.verdict.violations) {
      const std::string object = r.ObjectName();
      std::string identity =
          v.rule + "|" + r.kind + "|" + r.namespace_ + "|" + r.name + "|" + std::to_string(r.item_index) + "|" + v.path;
      if (!fingerprinted.insert(identity).second) identity += "|" + v.message;
      json location = {
          {"physicalLocation", {{"artifactLocation", {{"uri", FileUri(r.file)}}}, {"region", {{"startLine", r.line}}}}},
          {"logicalLocations",
           {{{"name", v.path.empty() ? "/" : v.path},
             {"fullyQualifiedName", r.kind + "/" + (r.namespace_.empty() ? "" : r.namespace_ + "/") + r.name +
                                        (v.path.empty() ? "" : v.path)},
             {"kind", "member"}}}}};
      json result = {
          {"ruleId", v.rule},
          {"ruleIndex", rule_index.at(v.rule)},
          {"level", internal::SarifLevel(v.severity)},
          {"message", {{"text", v.message.find(object) == std::string::npos ? object + ": " + v.message : v.message}}},
          {"locations", json::array({std::move(location)})},
          {"partialFingerprints", {{"pipeguardFinding/v1", Fingerprint(identity)}}},
          {"properties",
           {{"severity", policy::ToString(v.severity)},
            {"jsonPointer", v.path},
            {"detector", v.detector},
            {"object", object},
            {"source", r.Source()},
            {"blocking", policy::DispositionOf(r.verdict, v) == policy::Disposition::kDenies}}}};
      if (v.waived) {
        result["suppressions"] = json::array(
            {{{"kind", "external"},
              {"justification", "break-glass waiver " + r.verdict.break_glass_ticket.value_or("(no ticket)")}}});
      }
      results.push_back(std::move(result));
    }
  }

  json run = {{"tool",
               {{"driver",
                 {{"name", "pipeguard"},
                  {"version", PIPEGUARD_VERSION},
                  {"informationUri", std::string(RulesDocUrl())},
                  {"rules", std::move(driver_rules)}}}}},
              {"results", std::move(results)}};
  return json{{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
              {"version", "2.1.0"},
              {"runs", json::array({std::move(run)})}};
}

}  // namespace pipeguard::cli
