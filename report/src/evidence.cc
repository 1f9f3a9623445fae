#include "pipeguard/report/evidence.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <set>
#include <utility>

#include "pipeguard/base/json.h"
#include "pipeguard/base/time.h"

namespace pipeguard::report {

namespace {

using nlohmann::json;

constexpr int kMaxLineDepth = 32;

// One control pipeguard runs, the rules or records that evidence it, and what it supports.
struct Control {
  std::string_view id;
  std::string_view description;
  std::vector<std::string_view> rules;  // admission rules whose denials and report results evidence it
  std::vector<std::string_view> soc2;
  std::vector<std::string_view> pci;
};

const std::vector<Control>& Controls() {
  static const std::vector<Control> controls = {
      {"plaintext-secrets",
       "Literal credentials in pipeline specs, arguments and configuration are denied",
       {"plaintext-secret"},
       {"CC6.1", "CC6.7", "CC8.1"},
       {"3.5", "3.6", "8.6"}},
      {"encryption-in-transit",
       "Pipeline connections that switch TLS off or weaken it are denied",
       {"insecure-transport"},
       {"CC6.1", "CC6.7"},
       {"4.2"}},
      {"signed-images",
       "Only signed images from allowed registries run, pinned to their digest",
       {"unsigned-image", "untrusted-registry"},
       {"CC6.8", "CC8.1"},
       {"6.3", "6.5"}},
      {"least-privilege-identities",
       "Each pipeline runs as its own ServiceAccount within its profile's grants",
       {"service-account-scope", "missing-profile", "profile-guardrail"},
       {"CC6.1", "CC6.3"},
       {"7.2", "8.6"}},
      {"network-boundaries",
       "Each pipeline's NetworkPolicies allow only the egress its profile names",
       {},
       {"CC6.6"},
       {}},
      {"change-control",
       "Exceptions need break-glass with a ticket and an expiry; drift is reverted",
       {},
       {"CC8.1", "CC7.2"},
       {"6.5"}},
      {"tamper-detection",
       "Changes to the webhook configurations are restored and alerted on",
       {},
       {"CC7.2"},
       {"10.2"}},
      {"audit-trail",
       "Every admission decision is logged with user, object, decision and rules",
       {},
       {"CC7.2"},
       {"10.2", "10.3"}},
  };
  return controls;
}

std::string Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return std::string(text);
}

// Typed reads of records that come from files: a missing member, or one of another type, reads as empty; never
// an exception (a hostile or odd line must not stop the report).
std::string String(const json& object, std::string_view key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}
bool Bool(const json& object, std::string_view key) {
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}
const json& Member(const json& object, std::string_view key, json::value_t type) {
  static const json empty_object = json::object(), empty_array = json::array();
  auto it = object.find(key);
  if (it != object.end() && it->type() == type) return *it;
  return type == json::value_t::array ? empty_array : empty_object;
}
const json& Object(const json& object, std::string_view key) { return Member(object, key, json::value_t::object); }
const json& Array(const json& object, std::string_view key) { return Member(object, key, json::value_t::array); }
std::int64_t Count(const json& object, std::string_view key) {
  auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

bool InPeriod(std::optional<std::int64_t> ts, const EvidenceInputs& inputs) {
  if (!ts) return !inputs.since && !inputs.until;  // an undated record only counts in an open period
  return (!inputs.since || *ts >= *inputs.since) && (!inputs.until || *ts < *inputs.until);
}

// A record found in a log line: its time (when the line has one) and its JSON.
struct LogRecord {
  std::optional<std::int64_t> ts;
  json record;
};

// Parses one log line of either binary: a webhook JSON line (an audit record, or a log line whose msg is a record),
// or spdlog's default "[YYYY-mm-dd HH:MM:SS.mmm] [level] {...}". nullopt for anything else.
std::optional<LogRecord> ParseLogLine(std::string_view raw) {
  const std::string line = Trim(raw);
  if (line.empty()) return std::nullopt;
  LogRecord out;
  std::string_view payload = line;
  if (line.front() == '[') {
    const size_t close = line.find(']');
    const size_t brace = line.find('{');
    if (close == std::string::npos || brace == std::string::npos) return std::nullopt;
    out.ts = ParseTimestamp(std::string_view(line).substr(1, close - 1));
    payload = std::string_view(line).substr(brace);
  } else if (line.front() != '{') {
    return std::nullopt;
  }
  auto parsed = base::ParseJson(payload, "log line", kMaxLineDepth);
  if (!parsed.ok() || !parsed->is_object()) return std::nullopt;
  json record = std::move(parsed).value();
  if (auto ts = record.find("ts"); ts != record.end() && ts->is_string())
    out.ts = ParseTimestamp(ts->get<std::string>());
  // A structured logger's line whose message is itself a record (the operator's audit lines under JSON logging).
  if (auto msg = record.find("msg"); msg != record.end() && msg->is_string() && !record.contains("log")) {
    auto inner = base::ParseJson(msg->get<std::string>(), "log message", kMaxLineDepth);
    if (!inner.ok() || !inner->is_object()) return std::nullopt;
    record = std::move(inner).value();
  }
  out.record = std::move(record);
  return out;
}

json Strings(const std::set<std::string>& values) {
  return json(std::vector<std::string>(values.begin(), values.end()));
}

}  // namespace

std::optional<std::int64_t> ParseTimestamp(std::string_view text) {
  return base::ParseTimestamp(text, base::TimestampForm::kRfc3339OrUtcWithoutZone);
}

json BuildEvidence(const EvidenceInputs& inputs) {
  json denials = json::array(), waivers = json::array(), tamper = json::array(), drift = json::array();
  std::map<std::string, json> namespaces;              // namespace -> {mode, decisions, denials}
  std::map<std::string, std::size_t> denials_by_rule;  // rule -> denials in the period
  std::size_t decisions = 0, skipped = 0;
  for (const std::string& line : inputs.log_lines) {
    std::optional<LogRecord> parsed = ParseLogLine(line);
    if (!parsed) {
      if (!Trim(line).empty()) ++skipped;
      continue;
    }
    if (!InPeriod(parsed->ts, inputs)) continue;
    const json& r = parsed->record;
    const std::string ts = parsed->ts ? base::FormatTimestamp(*parsed->ts) : "";
    if (String(r, "log") == "audit") {  // one admission decision of the webhook
      ++decisions;
      std::set<std::string> rules;
      if (auto it = r.find("rules"); it != r.end() && it->is_array()) {
        for (const auto& rule : *it) {
          if (rule.is_string()) rules.insert(rule.get<std::string>());
        }
      }
      json object = {{"ts", ts},
                     {"user", String(r, "user")},
                     {"operation", String(r, "operation")},
                     {"kind", String(r, "kind")},
                     {"namespace", String(r, "namespace")},
                     {"name", String(r, "name")},
                     {"rules", Strings(rules)},
                     {"dryRun", Bool(r, "dry_run")}};
      if (Bool(r, "governed")) {
        json& ns = namespaces[String(r, "namespace")];
        if (!ns.is_object()) ns = {{"mode", ""}, {"decisions", 0}, {"denials", 0}};
        if (!String(r, "mode").empty()) ns["mode"] = String(r, "mode");
        ns["decisions"] = Count(ns, "decisions") + 1;
        if (String(r, "decision") == "denied") ns["denials"] = Count(ns, "denials") + 1;
      }
      if (String(r, "decision") == "denied") {
        for (const auto& rule : rules) ++denials_by_rule[rule];
        denials.push_back(std::move(object));
      } else if (!String(r, "break_glass_ticket").empty()) {
        object["ticket"] = String(r, "break_glass_ticket");
        waivers.push_back(std::move(object));
      }
    } else if (String(r, "audit") == "drift_reverted") {
      drift.push_back({{"ts", ts},
                       {"namespace", String(r, "namespace")},
                       {"profile", String(r, "profile")},
                       {"kind", String(r, "kind")},
                       {"detail", String(r, "detail")}});
    } else if (String(r, "audit") == "webhook_configuration_tampered") {
      tamper.push_back({{"ts", ts},
                        {"kind", String(r, "kind")},
                        {"name", String(r, "name")},
                        {"action", String(r, "action")},
                        {"changes", Array(r, "changes")}});
    } else {
      ++skipped;
    }
  }

  std::map<std::string, std::size_t> event_reasons;
  for (const json& event : inputs.events) {
    if (!event.is_object()) continue;
    const std::string reason = String(event, "reason");
    if (reason != "DriftReverted" && reason != "WebhookConfigurationTampered") continue;
    std::optional<std::int64_t> ts;
    for (std::string_view key : {"eventTime", "lastTimestamp", "deprecatedLastTimestamp"}) {
      if (!ts && !String(event, key).empty()) ts = ParseTimestamp(String(event, key));
    }
    if (!ts && event.contains("metadata")) ts = ParseTimestamp(String(event["metadata"], "creationTimestamp"));
    if (InPeriod(ts, inputs)) ++event_reasons[reason];
  }

  json profiles = json::array();
  for (const json& p : inputs.profiles) {
    if (!p.is_object() || String(p, "kind") != "PipelineSecurityProfile") continue;
    const json& metadata = Object(p, "metadata");
    const json& spec = Object(p, "spec");
    const json& status = Object(p, "status");
    std::string ready = "unknown";
    for (const json& condition : Array(status, "conditions")) {
      if (condition.is_object() && String(condition, "type") == "Ready") ready = String(condition, "status");
    }
    profiles.push_back({{"namespace", String(metadata, "namespace")},
                        {"name", String(metadata, "name")},
                        {"serviceAccount", String(Object(spec, "serviceAccount"), "name")},
                        {"roleArn", String(status, "roleArn")},
                        {"ready", ready}});
  }

  json current = json::array();
  std::map<std::string, std::size_t> open_by_rule;  // rule -> fail/warn results now
  for (const json& report : inputs.policy_reports) {
    if (!report.is_object()) continue;
    const json& summary = Object(report, "summary");
    current.push_back({{"namespace", String(Object(report, "metadata"), "namespace")},
                       {"kind", String(report, "kind")},
                       {"pass", Count(summary, "pass")},
                       {"fail", Count(summary, "fail")},
                       {"warn", Count(summary, "warn")}});
    for (const json& result : Array(report, "results")) {
      if (!result.is_object()) continue;
      const std::string outcome = String(result, "result");
      if (outcome == "fail" || outcome == "warn") ++open_by_rule[String(result, "rule")];
    }
  }

  json governance = json::array();
  for (auto& [ns, entry] : namespaces) {
    governance.push_back({{"namespace", ns},
                          {"mode", String(entry, "mode")},
                          {"decisions", Count(entry, "decisions")},
                          {"denials", Count(entry, "denials")}});
  }

  json controls = json::array();
  for (const Control& control : Controls()) {
    std::size_t denied = 0, open = 0;
    for (std::string_view rule : control.rules) {
      denied += denials_by_rule[std::string(rule)];
      open += open_by_rule[std::string(rule)];
    }
    json evidence = json::object();
    if (!control.rules.empty()) {
      evidence["denials"] = denied;
      evidence["openFindings"] = open;
    }
    if (control.id == "least-privilege-identities") evidence["profiles"] = profiles.size();
    if (control.id == "network-boundaries") evidence["profiles"] = profiles.size();
    if (control.id == "change-control") {
      evidence["breakGlassWaivers"] = waivers.size();
      evidence["driftReverted"] = drift.size();
    }
    if (control.id == "tamper-detection") {
      evidence["tamperRestored"] = tamper.size();
      evidence["tamperEvents"] = event_reasons["WebhookConfigurationTampered"];
    }
    if (control.id == "audit-trail") evidence["decisions"] = decisions;
    controls.push_back({{"control", control.id},
                        {"description", control.description},
                        {"rules", control.rules},
                        {"soc2", control.soc2},
                        {"pciDss", control.pci},
                        {"evidence", std::move(evidence)}});
  }

  json period = json::object();
  if (inputs.since) period["since"] = base::FormatTimestamp(*inputs.since);
  if (inputs.until) period["until"] = base::FormatTimestamp(*inputs.until);
  return {{"period", std::move(period)},
          {"sources",
           {{"logLines", inputs.log_lines.size()},
            {"logLinesSkipped", skipped},
            {"admissionDecisions", decisions},
            {"events", inputs.events.size()},
            {"policyReports", inputs.policy_reports.size()},
            {"profiles", inputs.profiles.size()}}},
          {"governedNamespaces", std::move(governance)},
          {"profiles", std::move(profiles)},
          {"denials", std::move(denials)},
          {"breakGlassWaivers", std::move(waivers)},
          {"tamperRestored", std::move(tamper)},
          {"driftReverted", std::move(drift)},
          {"kubernetesEvents", event_reasons},
          {"currentViolations", std::move(current)},
          {"controls", std::move(controls)}};
}

namespace {

std::string Cell(const json& value) {
  std::string text = value.is_string() ? value.get<std::string>() : value.dump();
  if (value.is_array()) {
    text.clear();
    for (const auto& item : value)
      text += (text.empty() ? "" : ", ") + (item.is_string() ? item.get<std::string>() : item.dump());
  }
  // A Markdown table cell: no pipes or newlines from the data.
  std::replace(text.begin(), text.end(), '|', '/');
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text.empty() ? "-" : text;
}

void Table(std::string& out, const json& rows, const std::vector<std::pair<std::string, std::string>>& columns,
           std::string_view empty = "None in the period.") {
  if (!rows.is_array() || rows.empty()) {
    out += std::string(empty) + "\n\n";
    return;
  }
  out += "|";
  for (const auto& [key, title] : columns) out += " " + title + " |";
  out += "\n|";
  for (size_t i = 0; i < columns.size(); ++i) out += "---|";
  out += "\n";
  for (const json& row : rows) {
    out += "|";
    for (const auto& [key, title] : columns) out += " " + Cell(row.value(key, json())) + " |";
    out += "\n";
  }
  out += "\n";
}

}  // namespace

std::string RenderEvidenceMarkdown(const json& evidence) {
  std::string out = "# pipeguard evidence report\n\n";
  const json period = evidence.value("period", json::object());
  out += "Period: " + period.value("since", std::string("(open)")) + " to " +
         period.value("until", std::string("(open)")) + ".\n\n";
  const json sources = evidence.value("sources", json::object());
  out += "Sources: " + sources.dump() +
         ". pipeguard supplies technical evidence; the policies, reviews and approvals "
         "that use it remain the organisation's own (docs/compliance.md).\n\n";
  out += "## Controls and what they support\n\n";
  json control_rows = json::array();
  for (const json& c : evidence.value("controls", json::array())) {
    control_rows.push_back({{"control", c.value("control", "")},
                            {"description", c.value("description", "")},
                            {"soc2", c.value("soc2", json::array())},
                            {"pci", c.value("pciDss", json::array())},
                            {"evidence", c.value("evidence", json::object()).dump()}});
  }
  Table(out, control_rows,
        {{"control", "Control"},
         {"description", "What runs"},
         {"soc2", "SOC 2"},
         {"pci", "PCI DSS v4.0"},
         {"evidence", "Evidence in the period"}});
  out += "## Governed namespaces\n\n";
  Table(out, evidence.value("governedNamespaces", json::array()),
        {{"namespace", "Namespace"}, {"mode", "Mode"}, {"decisions", "Decisions"}, {"denials", "Denials"}});
  out += "## Pipeline profiles and their IAM roles\n\n";
  Table(out, evidence.value("profiles", json::array()),
        {{"namespace", "Namespace"},
         {"name", "Profile"},
         {"serviceAccount", "ServiceAccount"},
         {"roleArn", "IAM role"},
         {"ready", "Ready"}},
        "No profiles given (--profiles).");
  out += "## Denials\n\n";
  Table(out, evidence.value("denials", json::array()),
        {{"ts", "Time"},
         {"user", "User"},
         {"operation", "Operation"},
         {"kind", "Kind"},
         {"namespace", "Namespace"},
         {"name", "Name"},
         {"rules", "Rules"},
         {"dryRun", "Dry run"}});
  out += "## Break-glass waivers\n\n";
  Table(out, evidence.value("breakGlassWaivers", json::array()),
        {{"ts", "Time"},
         {"user", "User"},
         {"kind", "Kind"},
         {"namespace", "Namespace"},
         {"name", "Name"},
         {"ticket", "Ticket"},
         {"rules", "Rules waived"}});
  out += "## Webhook tampering restored\n\n";
  Table(out, evidence.value("tamperRestored", json::array()),
        {{"ts", "Time"}, {"kind", "Kind"}, {"name", "Name"}, {"action", "Action"}});
  out += "## Drift reverted\n\n";
  Table(out, evidence.value("driftReverted", json::array()),
        {{"ts", "Time"}, {"namespace", "Namespace"}, {"profile", "Profile"}, {"kind", "Kind"}, {"detail", "Detail"}});
  out += "## What breaks the policy now (PolicyReports)\n\n";
  Table(out, evidence.value("currentViolations", json::array()),
        {{"namespace", "Namespace"}, {"kind", "Report"}, {"fail", "Fail"}, {"warn", "Warn"}, {"pass", "Pass"}},
        "No PolicyReports given (--policy-reports).");
  return out;
}

}  // namespace pipeguard::report
