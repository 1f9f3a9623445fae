#include "pipeguard/report/policy_report.h"

#include <algorithm>
#include <map>
#include <string_view>
#include <tuple>
#include <utility>

namespace pipeguard::report {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxMessageBytes = 1024;
constexpr std::size_t kMaxPathsBytes = 1024;
constexpr std::string_view kPassRule = "all-rules";

// Cuts `text` to at most `max` bytes on a UTF-8 character boundary, marking the cut with "...".
std::string Bounded(std::string text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t cut = max - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  return text + "...";
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

// What a reader needs of one rule's findings on one object.
struct RuleFindings {
  policy::Severity severity = policy::Severity::kInfo;
  bool would_deny = false;
  std::size_t count = 0;
  std::vector<std::string> paths;
  std::string first_message;
};

json Resource(const EvaluatedObject& object) {
  json resource = {{"apiVersion", object.api_version}, {"kind", object.kind}, {"name", object.name}};
  if (!object.namespace_.empty()) resource["namespace"] = object.namespace_;
  if (!object.uid.empty()) resource["uid"] = object.uid;
  return resource;
}

json Result(const EvaluatedObject& object, std::string_view rule, std::string_view outcome, policy::Severity severity,
            std::string message, json properties, std::int64_t now) {
  properties["mode"] = std::string(policy::ToString(object.verdict.mode));
  properties["modeSource"] = object.verdict.mode_source;
  if (!object.verdict.profiles.empty()) properties["profiles"] = Join(object.verdict.profiles);
  return {{"source", kSource},
          {"policy", kSource},
          {"rule", rule},
          {"category", "pipeline-security"},
          {"severity", policy::ToString(severity)},
          {"timestamp", {{"seconds", now}, {"nanos", 0}}},
          {"result", outcome},
          {"scored", true},
          {"resources", json::array({Resource(object)})},
          {"message", Bounded(std::move(message), kMaxMessageBytes)},
          {"properties", std::move(properties)}};
}

// The results of one governed object (see BuildPolicyReports).
void AddResults(const EvaluatedObject& object, std::int64_t now, std::vector<json>& out) {
  const policy::Verdict& verdict = object.verdict;
  const bool enforce = verdict.mode == policy::Mode::kEnforce;
  std::map<std::string, RuleFindings> by_rule;
  for (const policy::Violation& v : verdict.violations) {
    if (v.waived) continue;
    RuleFindings& rule = by_rule[v.rule];
    rule.severity = std::max(rule.severity, v.severity);
    rule.would_deny = rule.would_deny || (v.blocking && enforce);
    if (rule.count++ == 0) rule.first_message = v.message;
    rule.paths.push_back(v.path);
  }
  // Findings beyond the verdict's listed ones are counted per rule only.
  for (const auto& [rule_id, count] : verdict.unlisted.by_rule) {
    RuleFindings& rule = by_rule[rule_id];
    if (rule.count == 0) {
      rule.severity = policy::Severity::kMedium;
      rule.first_message = "findings of this rule beyond the first " + std::to_string(policy::kMaxReportedViolations) +
                           " of the object (see the audit log)";
      rule.would_deny = enforce && verdict.unlisted.denials > 0;
    }
    rule.count += count;
  }
  if (by_rule.empty()) {
    out.push_back(Result(object, kPassRule, "pass", policy::Severity::kInfo,
                         "no pipeguard rule is broken (" + std::string(policy::ToString(verdict.mode)) + " mode)",
                         json::object(), now));
    return;
  }
  for (auto& [rule_id, rule] : by_rule) {
    std::string message = std::move(rule.first_message);
    if (rule.count > 1) message += " (" + std::to_string(rule.count) + " findings of this rule in the object)";
    json properties = {{"findings", std::to_string(rule.count)}};
    if (!rule.paths.empty()) properties["paths"] = Bounded(Join(rule.paths), kMaxPathsBytes);
    out.push_back(Result(object, rule_id, rule.would_deny ? "fail" : "warn", rule.severity, std::move(message),
                         std::move(properties), now));
  }
}

int OutcomeRank(const json& result) {
  const auto& outcome = result["result"].get_ref<const std::string&>();
  return outcome == "fail" ? 0 : outcome == "error" ? 1 : outcome == "warn" ? 2 : 3;
}

auto SortKey(const json& result) {
  const json& resource = result["resources"][0];
  return std::make_tuple(OutcomeRank(result), resource["kind"].get<std::string>(), resource["name"].get<std::string>(),
                         result["rule"].get<std::string>());
}

json Report(const std::string& namespace_, std::vector<json> results, std::size_t max_results) {
  std::stable_sort(results.begin(), results.end(),
                   [](const json& a, const json& b) { return SortKey(a) < SortKey(b); });
  json summary = {{"pass", 0}, {"fail", 0}, {"warn", 0}, {"error", 0}, {"skip", 0}};
  for (const json& result : results) {
    summary[result["result"].get<std::string>()] = summary[result["result"].get<std::string>()].get<int>() + 1;
  }
  json metadata = {{"name", kSource}, {"labels", {{"app.kubernetes.io/managed-by", kSource}}}};
  if (results.size() > max_results) {
    metadata["annotations"] = {{"pipeguard.io/unlisted-results", std::to_string(results.size() - max_results)}};
    results.resize(max_results);
  }
  json report = {{"apiVersion", kPolicyReportApiVersion},
                 {"kind", namespace_.empty() ? "ClusterPolicyReport" : "PolicyReport"},
                 {"metadata", std::move(metadata)},
                 {"summary", std::move(summary)},
                 {"results", std::move(results)}};
  if (!namespace_.empty()) report["metadata"]["namespace"] = namespace_;
  return report;
}

std::string ResultKey(const json& result) {
  const json& resource = result.value("resources", json::array()).empty() ? json::object() : result["resources"][0];
  return resource.dump() + "\n" + result.value("rule", "") + "\n" + result.value("result", "") + "\n" +
         result.value("message", "") + "\n" + result.value("properties", json::object()).dump();
}

}  // namespace

std::vector<json> BuildPolicyReports(const std::vector<EvaluatedObject>& objects, const ReportOptions& options) {
  std::map<std::string, std::vector<json>> by_namespace;  // "" = cluster-scoped
  for (const EvaluatedObject& object : objects) {
    if (!object.verdict.governed) continue;
    AddResults(object, options.now_unix_seconds, by_namespace[object.namespace_]);
  }
  std::vector<json> reports;
  for (auto& [namespace_, results] : by_namespace) {
    reports.push_back(Report(namespace_, std::move(results), options.max_results));
  }
  return reports;
}

void CarryTimestamps(const json& current, json& desired) {
  if (!current.is_object() || !desired.is_object()) return;
  auto stored = current.find("results");
  auto fresh = desired.find("results");
  if (stored == current.end() || !stored->is_array() || fresh == desired.end() || !fresh->is_array()) return;
  std::map<std::string, json> timestamps;
  for (const json& result : *stored) {
    if (result.is_object() && result.contains("timestamp")) timestamps.emplace(ResultKey(result), result["timestamp"]);
  }
  for (json& result : *fresh) {
    if (auto it = timestamps.find(ResultKey(result)); it != timestamps.end()) result["timestamp"] = it->second;
  }
}

bool NeedsWrite(const json& current, const json& desired) {
  if (!current.is_object()) return true;
  auto field = [](const json& report, std::string_view key) {
    auto it = report.find(key);
    return it == report.end() ? json() : *it;
  };
  // Only the metadata this module writes: other writers (kubectl, policy-reporter) may add their own.
  auto metadata_entry = [&](const json& report, std::string_view map, std::string_view key) {
    const json entries = field(field(report, "metadata"), map);
    if (!entries.is_object()) return json();
    auto it = entries.find(key);
    return it == entries.end() ? json() : *it;
  };
  return field(current, "results") != field(desired, "results") ||
         field(current, "summary") != field(desired, "summary") ||
         metadata_entry(current, "labels", "app.kubernetes.io/managed-by") !=
             metadata_entry(desired, "labels", "app.kubernetes.io/managed-by") ||
         metadata_entry(current, "annotations", "pipeguard.io/unlisted-results") !=
             metadata_entry(desired, "annotations", "pipeguard.io/unlisted-results");
}

}  // namespace pipeguard::report
