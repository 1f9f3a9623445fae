// Evidence for an auditor from what pipeguard records: the webhook's audit log (every admission decision), the
// operator's audit lines and Kubernetes Events (drift reverted, webhook tampering restored), PolicyReports (what
// breaks the policy now) and PipelineSecurityProfiles (each pipeline's IAM role). Mapped to the SOC 2 criteria and
// PCI DSS v4.0 requirements each piece supports (docs/compliance.md explains the mapping and its limits).
//
// Pure: the caller reads the files or the cluster; this module only parses text it is given and builds the report.
// Everything it copies out is already value-free (rule IDs, paths, users, tickets, object names).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pipeguard::report {

struct EvidenceInputs {
  std::vector<std::string> log_lines;          // webhook and operator log lines, any order, any mix
  std::vector<nlohmann::json> events;          // events.k8s.io/v1 or core/v1 Events (kubectl get events -o json)
  std::vector<nlohmann::json> policy_reports;  // PolicyReports and ClusterPolicyReports
  std::vector<nlohmann::json> profiles;        // PipelineSecurityProfiles, with status when read from a cluster
  std::optional<std::int64_t> since, until;    // the audit period in Unix seconds; open when unset
};

// The evidence report (JSON): period, sources counted, governed namespaces and their modes, profiles and roles,
// every denial, break-glass waiver, tamper restore and drift revert in the period, current violations per
// namespace, and one entry per control with the SOC 2 criteria, PCI DSS requirements and the evidence count.
// Lines that are not pipeguard records are counted as skipped, never an error.
nlohmann::json BuildEvidence(const EvidenceInputs& inputs);

// The same report as a Markdown page for people.
std::string RenderEvidenceMarkdown(const nlohmann::json& evidence);

// Unix seconds of a timestamp in an input: RFC 3339, or log-line and command-line forms without a zone (read as
// UTC); see base::TimestampForm::kRfc3339OrUtcWithoutZone. nullopt when not that.
std::optional<std::int64_t> ParseTimestamp(std::string_view text);

}  // namespace pipeguard::report
