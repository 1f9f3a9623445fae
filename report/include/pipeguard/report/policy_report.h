// Verdicts as Kubernetes policy reports: the policy working group's wgpolicyk8s.io/v1alpha2 PolicyReport (one per
// namespace) and ClusterPolicyReport (cluster-scoped objects), the format Kyverno writes and policy-reporter reads.
// Used by `pipeguard scan --format policyreport` and by the background audit (tracker issue 12).
//
// Pure: no I/O, no clock (the time is an argument). Reports carry rule IDs, severities, JSON pointers and the
// engine's messages, which never hold a secret value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipeguard/policy/types.h"

namespace pipeguard::report {

inline constexpr std::string_view kPolicyReportApiVersion = "wgpolicyk8s.io/v1alpha2";
inline constexpr std::string_view kSource = "pipeguard";

// One evaluated object: its identity and the engine's verdict on it.
struct EvaluatedObject {
  std::string api_version, kind, namespace_, name, uid;  // namespace_ empty: cluster-scoped; uid may be empty
  policy::Verdict verdict;
};

struct ReportOptions {
  std::int64_t now_unix_seconds = 0;  // the timestamp of results that are new (see CarryTimestamps)
  // At most this many results per report, in a stable order (failures first); the summary still counts every
  // result, and the annotation pipeguard.io/unlisted-results says how many were left out. Keeps each report far
  // below the API server's 1.5 MiB request limit (Kyverno's per-namespace reports hit it at ~2,000 pods).
  std::size_t max_results = 1000;
};

// The reports for `objects`: one PolicyReport named "pipeguard" per namespace that holds a governed object, and one
// ClusterPolicyReport named "pipeguard" when a cluster-scoped object is governed. Objects that are not governed
// are left out. Per governed object: one result per rule it breaks (result "fail" when it would be denied, "warn"
// when only audited or not blocking; waived findings are left out), with the highest severity among the rule's
// findings, the paths in properties and the first finding's message; or one "pass" result (rule "all-rules") when
// it breaks none. Sorted by namespace; results by (result, kind, name, rule), so equal inputs give equal reports.
std::vector<nlohmann::json> BuildPolicyReports(const std::vector<EvaluatedObject>& objects,
                                               const ReportOptions& options);

// Copies into `desired` the timestamp of every result that `current` (the stored report) holds unchanged (same
// resource, rule, result and message), so a pass that finds nothing new produces a report equal to the stored one.
void CarryTimestamps(const nlohmann::json& current, nlohmann::json& desired);

// Whether writing `desired` over `current` would change anything a reader sees: results, summary, labels and
// annotations (server-set metadata such as resourceVersion is ignored). False means: skip the write.
bool NeedsWrite(const nlohmann::json& current, const nlohmann::json& desired);

}  // namespace pipeguard::report
