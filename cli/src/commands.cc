#include "pipeguard/cli/commands.h"

#include <cstdlib>
#include <iostream>
#include <optional>

#include "flag_reader.h"
#include "pipeguard/cli/output.h"
#include "pipeguard/cli/scan.h"
#include "pipeguard/cli/verify_image.h"

#ifndef PIPEGUARD_VERSION
#error "PIPEGUARD_VERSION is set by cli/CMakeLists.txt"
#endif

namespace pipeguard::cli {
namespace {

// The subcommand table. Add a row to add a subcommand.
constexpr Command kCommands[] = {
    {"scan",
     "scan [--config FILE] [--guardrails-config FILE] [--profiles PATH]... [-o text|json|sarif|junit|policyreport] "
     "[--user NAME] "
     "[--group NAME]... PATH|- ...",
     "evaluate manifests offline with the admission policy (the CI gate)", RunScanCommand},
    {"admission-review", "admission-review [--operation CREATE|UPDATE] [--user NAME] [--group NAME]... PATH|- ...",
     "wrap manifests into admission.k8s.io/v1 AdmissionReview requests (one JSON per line)", RunAdmissionReviewCommand},
    {"report",
     "report [--audit-log FILE]... [--events FILE] [--policy-reports PATH]... [--profiles PATH]... [--since TIME] "
     "[--until TIME] [-o markdown|json]",
     "evidence for an auditor: denials, waivers, tamper and drift, mapped to SOC 2 and PCI DSS", RunReportCommand},
    {"verify-image",
     "verify-image [--config FILE] [--profile FILE] [--key FILE]... [--rekor-key FILE]... [--require-tlog] IMAGE",
     "verify an image's cosign signature in its registry (exit 0 verified, 1 not)", RunVerifyImageCommand},
    {"version", "version", "print the version", RunVersionCommand},
    {"help", "help [COMMAND]", "show help for pipeguard or one command", RunHelpCommand},
};

constexpr std::string_view kScanHelp = R"(
Evaluates Kubernetes manifests with the same policy engine as the admission webhook, as a CREATE request.

Inputs are files, directories (searched recursively for *.yaml, *.yml and *.json, in sorted order) and - for
standard input. Multi-document YAML, JSON, `helm template` output and `kubectl get -o yaml` lists are read as
they are. PipelineSecurityProfiles, Namespaces, ServiceAccounts and RBAC objects are taken both from --profiles
and from the scanned documents; they form the context and are not reported themselves (profiles are, as the
webhook validates them too).

Flags:
  --config FILE       pipeguard configuration (YAML, shared with the webhook); default: built-in defaults,
                      which verify image signatures: pass a config with images.verify: false for offline scans
  --guardrails-config FILE
                      platform guardrails for PipelineSecurityProfiles (rule profile-guardrail), as the webhook's
                      flag: the operator's configuration file (its guardrails: key) or a bare guardrails document
  --profiles PATH     file or directory with context objects (repeatable): profiles, Namespaces,
                      ServiceAccounts, RBAC, and ConfigMaps that the scanned pods mount (judged with them)
  -o, --output FMT    text (default), json, sarif (SARIF 2.1.0), junit (JUnit XML) or policyreport
                      (wgpolicyk8s.io/v1alpha2 PolicyReports as a List for kubectl apply)
  --user NAME         requesting user, for break-glass annotations (default: none)
  --group NAME        requesting user's group (repeatable)
  -h, --help          show this help

Exit status: 0 nothing denied, 1 something denied, 2 usage or input error (malformed input names file and line).
Notes (skipped documents, offline caveats) go to standard error.
)";

constexpr std::string_view kAdmissionReviewHelp = R"(
Prints one admission.k8s.io/v1 AdmissionReview per Kubernetes object (List items unpacked), one JSON document per
line, ready to POST to a webhook's /validate endpoint, e.g.:
  pipeguard admission-review pod.yaml | curl --cacert ca.crt -H 'Content-Type: application/json' \
      --data-binary @- https://127.0.0.1:8443/validate
Request UIDs are derived from the file, line and item so that runs are reproducible.

Flags:
  --operation OP      CREATE (default) or UPDATE (oldObject is then the object itself)
  --user NAME         userInfo.username (default: pipeguard-cli)
  --group NAME        userInfo.groups entry (repeatable; default: system:authenticated)
)";

int UsageError(CommandIo& io, std::string_view command, const std::string& message) {
  io.err << "pipeguard " << command << ": " << message << "\n"
         << "Run 'pipeguard help " << command << "' for usage.\n";
  return kExitUsage;
}

const Command* FindCommand(std::string_view name) {
  for (const auto& c : kCommands) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

void PrintCommandHelp(const Command& command, std::ostream& out) {
  out << "Usage: pipeguard " << command.usage << "\n\n" << command.summary << "\n";
  if (command.name == "scan") out << kScanHelp;
  if (command.name == "admission-review") out << kAdmissionReviewHelp;
  if (command.name == "verify-image") out << VerifyImageHelp();
  if (command.name == "report") out << ReportHelp();
}

void PrintOverview(std::ostream& out) {
  out << "pipeguard " << PIPEGUARD_VERSION
      << ": admission policy for Airflow, Spark and dbt pipelines on Kubernetes\n\n"
      << "Usage: pipeguard COMMAND [ARGS]\n\nCommands:\n";
  for (const auto& c : kCommands) {
    out << "  " << c.name << std::string(c.name.size() < 18 ? 18 - c.name.size() : 1, ' ') << c.summary << "\n";
  }
  out << "\nRun 'pipeguard help COMMAND' for a command's flags.\n";
}

}  // namespace

std::span<const Command> Commands() { return kCommands; }

int Main(const std::vector<std::string>& args, CommandIo& io) {
  if (args.empty()) {
    PrintOverview(io.err);
    return kExitUsage;
  }
  const std::string& name = args[0];
  if (name == "-h" || name == "--help") return RunHelpCommand({}, io);
  if (name == "--version") return RunVersionCommand({}, io);
  const Command* command = FindCommand(name);
  if (command == nullptr) {
    io.err << "pipeguard: unknown command \"" << name << "\"\n\n";
    PrintOverview(io.err);
    return kExitUsage;
  }
  return command->run(std::vector<std::string>(args.begin() + 1, args.end()), io);
}

int RunScanCommand(const std::vector<std::string>& args, CommandIo& io) {
  ScanOptions options;
  std::optional<OutputFormat> format = OutputFormat::kText;
  FlagReader flags(args);
  while (!flags.Done()) {
    if (flags.TakeSwitch({"-h", "--help"})) {
      PrintCommandHelp(*FindCommand("scan"), io.out);
      return kExitAllowed;
    }
    if (flags.Take({"--config"})) {
      options.config_path = flags.value();
    } else if (flags.Take({"--guardrails-config"})) {
      options.guardrails_config_path = flags.value();
    } else if (flags.Take({"--profiles"})) {
      options.profile_paths.push_back(flags.value());
    } else if (flags.Take({"--output", "-o"})) {
      format = ParseOutputFormat(flags.value());
      if (!format)
        return UsageError(
            io, "scan",
            "unknown output format \"" + flags.value() + "\" (use text, json, sarif, junit or policyreport)");
    } else if (flags.Take({"--user"})) {
      options.username = flags.value();
    } else if (flags.Take({"--group"})) {
      options.groups.push_back(flags.value());
    } else if (!flags.error().empty() || !flags.TakePositional(options.inputs)) {
      return UsageError(io, "scan", flags.error());
    }
  }
  if (options.inputs.empty()) {
    return UsageError(io, "scan", "no input: give files, directories, or - for standard input");
  }
  options.now_unix_seconds = io.now_seconds ? io.now_seconds() : 0;

  auto report = RunScan(options, io.in);
  if (!report.ok()) {
    io.err << "pipeguard scan: " << report.status().message() << "\n";
    return kExitUsage;
  }
  for (const auto& note : report->notes) io.err << "pipeguard scan: note: " << note << "\n";
  const char* no_color = std::getenv("NO_COLOR");  // https://no-color.org: set and non-empty disables colour
  const bool color = *format == OutputFormat::kText && io.out_is_terminal && (no_color == nullptr || *no_color == '\0');
  io.out << Render(*report, *format, color);
  io.out.flush();
  return report->ExitCode();
}

int RunVersionCommand(const std::vector<std::string>& args, CommandIo& io) {
  if (!args.empty()) return UsageError(io, "version", "takes no arguments");
  io.out << "pipeguard " << PIPEGUARD_VERSION << "\n";
  return kExitAllowed;
}

int RunHelpCommand(const std::vector<std::string>& args, CommandIo& io) {
  if (args.empty()) {
    PrintOverview(io.out);
    return kExitAllowed;
  }
  const Command* command = FindCommand(args[0]);
  if (command == nullptr || args.size() > 1) {
    io.err << "pipeguard help: unknown command \"" << args[0] << "\"\n\n";
    PrintOverview(io.err);
    return kExitUsage;
  }
  PrintCommandHelp(*command, io.out);
  return kExitAllowed;
}

}  // namespace pipeguard::cli
