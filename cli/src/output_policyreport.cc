// `pipeguard scan -o policyreport`: the scan's verdicts as the PolicyReports the background audit writes.
#include "pipeguard/cli/output.h"
#include "pipeguard/report/policy_report.h"

namespace pipeguard::cli {

nlohmann::json RenderPolicyReports(const ScanReport& report) {
  std::vector<report::EvaluatedObject> objects;
  objects.reserve(report.results.size());
  for (const ScanResult& result : report.results) {
    objects.push_back({result.api_version, result.kind, result.namespace_, result.name, "", result.verdict});
  }
  report::ReportOptions options;
  options.now_unix_seconds = report.evaluated_at_unix_seconds;
  return {{"apiVersion", "v1"}, {"kind", "List"}, {"items", report::BuildPolicyReports(objects, options)}};
}

}  // namespace pipeguard::cli
