// The attestation requirements' grammar as parsed values: images.attestations in the configuration and
// spec.images.attestations in a PipelineSecurityProfile (both grammars read the same fields into these). Value types
// only (header-only, in policy_base so that the profile grammar below the engine can use them); the semantics are
// signatures/attestation_policy.h's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pipeguard::policy {

// A string matched exactly, or (regexp) by an RE2 expression that must match the whole value.
struct StringMatchConfig {
  std::string value;
  bool regexp = false;

  friend bool operator==(const StringMatchConfig&, const StringMatchConfig&) = default;
};

// images.attestations.provenance: a SLSA provenance (v1 or v0.2) attestation whose fields match. Unset: any value.
struct ProvenanceRequirementConfig {
  std::vector<StringMatchConfig> builder_ids;  // any of them
  std::optional<StringMatchConfig> source_repository;
  std::optional<StringMatchConfig> source_ref;
  std::optional<StringMatchConfig> build_type;

  friend bool operator==(const ProvenanceRequirementConfig&, const ProvenanceRequirementConfig&) = default;
};

struct AllowedVulnerabilityConfig {
  std::string id;                         // CVE-..., GHSA-...
  std::int64_t expires_unix_seconds = 0;  // from the RFC 3339 `expires`
  std::string expires;                    // as written, for messages

  friend bool operator==(const AllowedVulnerabilityConfig&, const AllowedVulnerabilityConfig&) = default;
};

// images.attestations.vulnerabilities: cosign's vulnerability attestation (cosign attest --type vuln).
struct VulnerabilityRequirementConfig {
  std::vector<StringMatchConfig> scanners;  // scanner.uri; empty: any scanner
  int max_age_hours = 24;                   // metadata.scanFinishedOn no older than this
  std::string fail_at = "high";             // negligible | low | medium | high | critical: a finding at or above denies
  std::vector<AllowedVulnerabilityConfig> allow;

  friend bool operator==(const VulnerabilityRequirementConfig&, const VulnerabilityRequirementConfig&) = default;
};

// images.attestations: what every verified image must also carry as verified attestations (signed like its
// signature: by a trusted key or keyless identity). Empty: attestations are not looked at.
struct AttestationsConfig {
  std::optional<ProvenanceRequirementConfig> provenance;
  std::optional<VulnerabilityRequirementConfig> vulnerabilities;
  bool sbom = false;  // a CycloneDX or SPDX attestation

  bool empty() const { return !provenance && !vulnerabilities && !sbom; }

  friend bool operator==(const AttestationsConfig&, const AttestationsConfig&) = default;
};

}  // namespace pipeguard::policy
