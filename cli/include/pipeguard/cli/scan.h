// `pipeguard scan`: the policy engine run offline over manifests, as a CI gate.
//
// Loads every input (files, directories, standard input), builds ONE context snapshot from the configuration,
// the --profiles paths and the context objects found among the scanned documents themselves (profiles,
// namespaces, service accounts, RBAC), then evaluates every non-context object (and every
// PipelineSecurityProfile, which the engine checks for validity) exactly as the webhook would for a CREATE.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/manifest/documents.h"
#include "pipeguard/policy/engine.h"
#include "pipeguard/policy/types.h"

namespace pipeguard::cli {

// Exit codes shared by every subcommand (DESIGN.md: stable once shipped).
inline constexpr int kExitAllowed = 0;  // nothing denied
inline constexpr int kExitDenied = 1;   // at least one object would be denied
inline constexpr int kExitUsage = 2;    // usage or input error

struct ScanOptions {
  std::string config_path;  // empty: policy::DefaultConfig()
  // Platform guardrails for PipelineSecurityProfiles (rule profile-guardrail), as the webhook's --guardrails-config:
  // the operator's configuration file (a mapping with `guardrails:`) or a bare guardrails document. Empty: none.
  std::string guardrails_config_path;
  std::vector<std::string> profile_paths;  // files or directories with context objects only
  std::vector<std::string> inputs;         // files, directories, or "-" for standard input (at most once)
  std::string username;                    // the requester, for break-glass
  std::vector<std::string> groups;
  std::int64_t now_unix_seconds = 0;  // break-glass expiry is judged against this
  manifest::LoadLimits limits;
};

// One evaluated object: a document, or one item of a `kind: *List` document.
struct ScanResult {
  std::string file;
  int line = 1;         // the line where the document starts (for List items: where the List starts)
  int item_index = -1;  // index in the List's items, or -1
  std::string api_version, kind, namespace_, name;
  policy::Verdict verdict;

  std::string Source() const { return file + ":" + std::to_string(line); }
  // "Pod data-pipelines/extract" (cluster-scoped objects have no namespace part).
  std::string ObjectName() const;
};

// A document that was not evaluated because it is not a Kubernetes object (no apiVersion or kind), e.g. a
// values.yaml or a pipeguard configuration file found while scanning a directory.
struct SkippedDocument {
  std::string file;
  int line = 1;
  std::string reason;
};

struct ScanReport {
  std::vector<ScanResult> results;  // in input order
  std::vector<SkippedDocument> skipped;
  std::vector<std::string> notes;              // advice for people (printed on stderr), never part of machine formats
  size_t context_objects = 0;                  // context objects read (profiles are also evaluated and reported)
  std::int64_t evaluated_at_unix_seconds = 0;  // ScanOptions::now_unix_seconds: when the verdicts were reached

  bool AnyDenied() const;
  int ExitCode() const { return AnyDenied() ? kExitDenied : kExitAllowed; }
};

// Runs a scan. `standard_input` is read when an input is "-". A non-OK status is a usage or input error
// (exit code 2): unreadable or malformed input (the message names the file and line), an invalid configuration,
// or a malformed context object from --profiles.
StatusOr<ScanReport> RunScan(const ScanOptions& options, std::istream& standard_input);

}  // namespace pipeguard::cli
