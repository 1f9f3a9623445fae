// Output formats of `pipeguard scan`. Every renderer is a pure function of the report; none of them ever prints
// a secret value (the engine's messages name keys and detectors only, and renderers add only object identity,
// rule IDs, severities and JSON pointers).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "pipeguard/cli/scan.h"

namespace pipeguard::cli {

enum class OutputFormat { kText, kJson, kSarif, kJunit, kPolicyReport };

// "text", "json", "sarif", "junit", "policyreport"; nullopt for anything else.
std::optional<OutputFormat> ParseOutputFormat(std::string_view name);

// Where the rule catalogue lives; SARIF helpUri values are this plus "#<rule-id>". Set at build time with
// -DPIPEGUARD_RULES_DOC_URL=... (defaults to docs/rules.md in the project's repository).
std::string_view RulesDocUrl();

// A one-line remedy for a rule ID (empty for unknown IDs).
std::string_view FixHint(std::string_view rule);

// For people: grouped per object, denials first, each finding with its path, detector and a fix hint.
// `color` adds ANSI colours (callers pass true only when stdout is a terminal).
std::string RenderText(const ScanReport& report, bool color);

// {"results": [{"source": "FILE:LINE", "apiVersion", "kind", "namespace", "name", "governed", "allowed",
//   "violations": [{"rule", "severity", "path", "message", "detector"}], "unlistedViolations": N}],
//   "summary": Summary(report)}
// "violations" lists at most policy::kMaxReportedViolations per object; "unlistedViolations" (only when not 0)
// counts the rest. The summary counts every violation, listed or not.
nlohmann::json RenderJson(const ScanReport& report);

// {"documents", "governed", "allowed", "denied", "skipped", "violations": {rule: count}}
nlohmann::json Summary(const ScanReport& report);

// SARIF 2.1.0: one rule per rule ID, one result per listed violation (waived ones carry a suppression), each located
// at the document's file and start line, with the JSON pointer as a logical location and a property.
nlohmann::json RenderSarif(const ScanReport& report);

// JUnit XML: one testsuite per file, one testcase per object, one <failure> per denial; ungoverned objects are
// <skipped/>; non-blocking findings go to <system-out>. Text is XML-escaped; characters XML cannot carry are
// replaced with U+FFFD.
std::string RenderJunit(const ScanReport& report);

// wgpolicyk8s.io/v1alpha2 PolicyReports (report::BuildPolicyReports: one per namespace, a ClusterPolicyReport for
// cluster-scoped objects) as a `kind: List` that `kubectl apply -f -` takes, results timestamped with the scan's
// time. Objects without a namespace are reported in "default", as the scan evaluates them.
nlohmann::json RenderPolicyReports(const ScanReport& report);

// The complete stdout text for a format (JSON and SARIF pretty-printed, newline-terminated).
std::string Render(const ScanReport& report, OutputFormat format, bool color);

}  // namespace pipeguard::cli
