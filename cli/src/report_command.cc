// `pipeguard report`: the evidence report (report/evidence.h) from files an operator exports from the cluster and
// the log store.
#include <chrono>
#include <istream>
#include <iterator>
#include <sstream>
#include <thread>

#include "flag_reader.h"
#include "pipeguard/cli/commands.h"
#include "pipeguard/cli/scan.h"
#include "pipeguard/kube/config.h"
#include "pipeguard/kube/errors.h"
#include "pipeguard/kube/http_client.h"
#include "pipeguard/manifest/documents.h"
#include "pipeguard/policy/engine.h"
#include "pipeguard/report/evidence.h"

namespace pipeguard::cli {

namespace {

constexpr size_t kMaxLogBytes = 512u << 20;  // a year of one webhook's audit log at ~1 decision/s is ~300 MiB

int Fail(CommandIo& io, const std::string& message) {
  io.err << "pipeguard report: " << message << "\n";
  return kExitUsage;
}

// Appends the Kubernetes objects in `path` (YAML or JSON, files or directories, Lists unpacked) to `out`.
Status LoadObjects(const std::string& path, std::vector<nlohmann::json>& out) {
  auto documents = manifest::LoadPath(path);
  if (!documents.ok()) return documents.status();
  for (const auto& document : *documents) {
    policy::ForEachItem(document.object, [&](const nlohmann::json& item, int) { out.push_back(item); });
  }
  return Status::Ok();
}

Status LoadLogLines(const std::string& path, std::istream& standard_input, std::vector<std::string>& out) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(standard_input), {});
  } else {
    auto read = manifest::ReadFile(path, kMaxLogBytes);
    if (!read.ok()) return read.status();
    text = std::move(read).value();
  }
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) out.push_back(std::move(line));
  return Status::Ok();
}

// Appends what the cluster of `kubeconfig_path` holds (read-only): PolicyReports and ClusterPolicyReports (none when
// their CRDs are absent), PipelineSecurityProfiles (none when the CRD is absent) and Events. Errors name the
// kubeconfig and the resource.
Status LoadFromCluster(const std::string& kubeconfig_path, report::EvidenceInputs& inputs) {
  kube::KubeconfigOptions options;
  options.path = kubeconfig_path;
  auto config = kube::LoadKubeconfig(options);
  if (!config.ok()) return Status(config.status().code(), "--kubeconfig: " + config.status().message());
  auto client = kube::NewHttpKubeClient(*config);
  if (!client.ok()) return Status(client.status().code(), "--kubeconfig: " + client.status().message());
  struct Source {
    const kube::Resource& resource;
    std::vector<nlohmann::json>& into;
    bool may_be_absent;          // a CRD that may not be installed
    std::string label_selector;  // reports: pipeguard's own, not those of other tools
  };
  const std::string ours = "app.kubernetes.io/managed-by=pipeguard";
  const Source sources[] = {{kube::resources::PolicyReports(), inputs.policy_reports, true, ours},
                            {kube::resources::ClusterPolicyReports(), inputs.policy_reports, true, ours},
                            {kube::resources::PipelineSecurityProfiles(), inputs.profiles, true, ""},
                            {kube::resources::Events(), inputs.events, false, ""}};
  for (const Source& source : sources) {
    kube::ListOptions list;
    list.label_selector = source.label_selector;
    auto listed = (*client)->ListAll(source.resource, "", list);
    // Like kubectl, ride out what a retry cures: throttling, and a CRD whose storage is still initialising (429
    // right after it is created), 5xx, timeouts. Five more tries over about six seconds.
    auto delay = std::chrono::milliseconds(200);
    for (int retry = 0; retry < 5 && !listed.ok() && kube::IsRetryable(listed.status()); ++retry) {
      std::this_thread::sleep_for(delay);
      delay *= 2;
      listed = (*client)->ListAll(source.resource, "", list);
    }
    if (!listed.ok()) {
      if (source.may_be_absent && kube::IsNotFound(listed.status())) continue;
      return Status(listed.status().code(), "--kubeconfig: listing " + source.resource.DisplayName() + " in " +
                                                config->server + ": " + listed.status().message());
    }
    std::move(listed->items.begin(), listed->items.end(), std::back_inserter(source.into));
  }
  return Status::Ok();
}

std::string NotATime(const std::string& text) {
  return "not an RFC 3339 UTC time: \"" + text + "\" (write it like 2026-10-01T00:00:00Z)";
}

}  // namespace

std::string_view ReportHelp() {
  return R"(
Builds an evidence report for an auditor from what pipeguard records, for a period: which namespaces are governed
and in which mode, every profile and its IAM role, every denial, break-glass waiver, webhook tamper restore and
drift revert, what breaks the policy now, and the SOC 2 criteria and PCI DSS v4.0 requirements each control
supports (docs/compliance.md). Nothing in it is a secret value: the records hold rule IDs, paths and names only.

Flags:
  --audit-log FILE        webhook and operator log lines (JSON lines; repeatable; - for standard input)
  --events FILE           Kubernetes Events (kubectl get events -A -o json): DriftReverted, WebhookConfigurationTampered
  --policy-reports PATH   PolicyReports (kubectl get polr,cpolr -A -o json, or pipeguard scan -o policyreport)
  --profiles PATH         PipelineSecurityProfiles (kubectl get pipelinesecurityprofiles -A -o json)
  --kubeconfig PATH       also read PolicyReports, ClusterPolicyReports, PipelineSecurityProfiles and Events from
                          that cluster (read-only; list on those kinds), instead of exporting them to files
  --since TIME, --until TIME
                          the period, RFC 3339 UTC (2026-10-01T00:00:00Z); records outside it are left out
  -o, --output FMT        markdown (default) or json

Exit status: 0 report written, 2 usage or input error.
)";
}

int RunReportCommand(const std::vector<std::string>& args, CommandIo& io) {
  report::EvidenceInputs inputs;
  bool json_output = false;
  FlagReader flags(args);
  std::vector<std::string> positional;
  while (!flags.Done()) {
    if (flags.TakeSwitch({"-h", "--help"})) {
      io.out << "Usage: pipeguard report [flags]\n" << ReportHelp();
      return kExitAllowed;
    }
    Status loaded = Status::Ok();
    if (flags.Take({"--audit-log"})) {
      loaded = LoadLogLines(flags.value(), io.in, inputs.log_lines);
    } else if (flags.Take({"--events"})) {
      loaded = LoadObjects(flags.value(), inputs.events);
    } else if (flags.Take({"--policy-reports"})) {
      loaded = LoadObjects(flags.value(), inputs.policy_reports);
    } else if (flags.Take({"--profiles"})) {
      loaded = LoadObjects(flags.value(), inputs.profiles);
    } else if (flags.Take({"--kubeconfig"})) {
      loaded = LoadFromCluster(flags.value(), inputs);
    } else if (flags.Take({"--since"})) {
      inputs.since = report::ParseTimestamp(flags.value());
      if (!inputs.since) return Fail(io, "--since: " + NotATime(flags.value()));
    } else if (flags.Take({"--until"})) {
      inputs.until = report::ParseTimestamp(flags.value());
      if (!inputs.until) return Fail(io, "--until: " + NotATime(flags.value()));
    } else if (flags.Take({"--output", "-o"})) {
      if (flags.value() != "markdown" && flags.value() != "json") {
        return Fail(io, "unknown output format \"" + flags.value() + "\" (use markdown or json)");
      }
      json_output = flags.value() == "json";
    } else if (!flags.error().empty() || !flags.TakePositional(positional) || !positional.empty()) {
      return Fail(io, flags.error().empty() ? "unexpected argument \"" + positional.back() + "\"" : flags.error());
    }
    if (!loaded.ok()) return Fail(io, loaded.message());
  }
  const nlohmann::json evidence = report::BuildEvidence(inputs);
  io.out << (json_output ? evidence.dump(2) + "\n" : report::RenderEvidenceMarkdown(evidence));
  io.out.flush();
  return kExitAllowed;
}

}  // namespace pipeguard::cli
