// pipeguard's configuration, shared by the webhook, the CLI and (later) the operator.
//
// Parsed once from YAML into an immutable value. Unknown keys are errors: a typo in a security configuration
// must not silently turn a control off. Every error names the file, line and key, and says what is accepted.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/policy/attestations_config.h"
#include "pipeguard/policy/label_selector.h"
#include "pipeguard/policy/types.h"

namespace pipeguard::policy {

struct TrustedKey {
  std::string name;
  std::string path;  // PEM file; exactly one of path / public_key_pem is set
  std::string public_key_pem;

  friend bool operator==(const TrustedKey&, const TrustedKey&) = default;
};

struct RegistryConfig {
  std::string host;              // "host:port" as it appears in image references
  std::string ca_file;           // extra CA bundle for this registry's TLS
  bool insecure = false;         // plain HTTP; for loopback test registries only
  std::string credentials_file;  // dockerconfigjson

  friend bool operator==(const RegistryConfig&, const RegistryConfig&) = default;
};

// Trust in the Rekor transparency log (images.rekor): offline checks of the signed entry timestamp (SET) that Rekor
// v1 attaches to a logged signature (legacy `dev.sigstore.cosign/bundle` annotation, bundle tlogEntries).
//
// With no log key configured, transparency-log data in signatures is ignored (like cosign --insecure-ignore-tlog).
// With a log key, every entry a signature carries from a trusted log must verify (SET and binding to the
// signature), even when `required` is false: a present-but-invalid entry is evidence of tampering, so that
// signature is rejected. Entries from other logs are skipped. With `required`, a signature is accepted only with at
// least one verified entry from a trusted log.
struct RekorConfig {
  std::vector<TrustedKey> public_keys;  // PEM public keys of trusted Rekor logs (e.g. the public-good instance)
  std::string trusted_root_file;        // a Sigstore trusted_root.json; its Rekor v1 logs are trusted
  bool required = false;                // reject signatures without a verified entry (needs a log key)

  bool configured() const { return !public_keys.empty() || !trusted_root_file.empty(); }

  friend bool operator==(const RekorConfig&, const RekorConfig&) = default;
};

// An allowed keyless (Fulcio certificate) signer: exactly one of subject / subject_regexp and of issuer /
// issuer_regexp (regular expressions are RE2, matched against the whole value); `extensions` are exact matches on
// Fulcio certificate claims by name (e.g. sourceRepositoryUri, sourceRepositoryRef, buildTrigger).
struct KeylessIdentityConfig {
  std::string name;
  std::string subject;
  std::string subject_regexp;
  std::string issuer;
  std::string issuer_regexp;
  std::map<std::string, std::string> extensions;

  friend bool operator==(const KeylessIdentityConfig&, const KeylessIdentityConfig&) = default;
};

// images.keyless: keyless verification against a pinned Sigstore trusted_root.json. Off when trusted_root_file is
// empty.
struct KeylessConfig {
  std::string trusted_root_file;
  std::vector<KeylessIdentityConfig> identities;
  bool require_sct = true;  // false only for private Fulcio deployments without certificate transparency

  bool configured() const { return !trusted_root_file.empty(); }

  friend bool operator==(const KeylessConfig&, const KeylessConfig&) = default;
};

struct ImagesConfig {
  bool verify = true;                           // unsigned-image rule on/off (off for offline scans)
  std::vector<std::string> allowed_registries;  // prefixes such as "123.dkr.ecr.eu-west-1.amazonaws.com/"; empty = any
  std::vector<TrustedKey> keys;
  RekorConfig rekor;
  KeylessConfig keyless;
  AttestationsConfig attestations;
  std::vector<RegistryConfig> registries;
  bool pin_digests = true;                   // /mutate rewrites verified tags to digests
  std::chrono::milliseconds deadline{4000};  // overall verification deadline per admission

  friend bool operator==(const ImagesConfig&, const ImagesConfig&) = default;
};

// Which pods are governed: any selector matching a pod's labels makes it governed.
struct GovernanceConfig {
  std::vector<LabelSelector> selectors;  // defaults: KPO label, spark-role exists, pipeguard.io/pipeline exists
  bool spark_applications = true;        // every SparkApplication is governed
  bool profile_selected = true;          // pods selected by any profile in their namespace are governed

  friend bool operator==(const GovernanceConfig&, const GovernanceConfig&) = default;
};

struct BreakGlassConfig {
  std::vector<std::string> groups;              // requesters in one of these groups may use break-glass
  std::vector<std::string> trusted_requesters;  // controllers that create pods from an approved template
  std::chrono::hours max_duration{24 * 7};

  friend bool operator==(const BreakGlassConfig&, const BreakGlassConfig&) = default;
};

struct ServiceAccountConfig {
  std::vector<std::string> forbidden_roles{"cluster-admin", "admin", "edit"};

  friend bool operator==(const ServiceAccountConfig&, const ServiceAccountConfig&) = default;
};

struct Config {
  Mode mode = Mode::kEnforce;
  Severity blocking_severity = Severity::kMedium;  // findings at or above this deny in enforce mode
  ImagesConfig images;
  GovernanceConfig governance;
  BreakGlassConfig break_glass;
  ServiceAccountConfig service_accounts;
  // reviewBudget: the most CPU time one object's evaluation may take before it stops and the object is denied
  // (rule review-budget). Work is linear in the object and the body is capped, so this is a backstop: the worst
  // object measured (30,000 findings in a 3.4 MB pod) takes ~50 ms. Between 10ms and 60s.
  std::chrono::milliseconds review_budget{1000};

  friend bool operator==(const Config&, const Config&) = default;
};

// The configuration used when no file is given: enforce, verify images, default governance selectors.
Config DefaultConfig();

// Parses YAML text. `source` (a file name) prefixes error messages.
StatusOr<Config> ParseConfig(std::string_view yaml_text, const std::string& source);

}  // namespace pipeguard::policy
