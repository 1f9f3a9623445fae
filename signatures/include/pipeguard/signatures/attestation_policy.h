// What a platform team demands of an image's attestations, and the pure check of verified in-toto statements
// against it (issue 13, item 2): SLSA provenance (builder, source repository and ref, build type), cosign's
// vulnerability predicate (scanner, freshness, no finding at or above a severity except allow-listed ids until
// their expiry), and an SBOM (CycloneDX or SPDX).
//
// The statements given to CheckAttestations must already be verified: their DSSE envelope signed by a trusted key or
// identity, and their subject bound to the image digest (StatementNamesDigest). Pure: no I/O, no clock (the time is
// an argument); thread-safe. Failures name the requirement, the attestation and why, never predicate content beyond
// ids, severities and times.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/policy/config.h"

namespace pipeguard::signatures {

inline constexpr std::string_view kInTotoPayloadType = "application/vnd.in-toto+json";
inline constexpr std::string_view kSlsaProvenanceV1 = "https://slsa.dev/provenance/v1";
inline constexpr std::string_view kSlsaProvenanceV02 = "https://slsa.dev/provenance/v0.2";
inline constexpr std::string_view kCosignVulnerability = "https://cosign.sigstore.dev/attestation/vuln/v1";
inline constexpr std::string_view kCycloneDx = "https://cyclonedx.org/bom";
inline constexpr std::string_view kSpdx = "https://spdx.dev/Document";

// An in-toto Statement (v0.1 or v1).
struct InTotoStatement {
  std::string predicate_type;
  nlohmann::json predicate;
  std::vector<std::pair<std::string, std::string>> subjects;  // (name, sha256 hex)
};

// Parses a DSSE payload (the decoded bytes) of type application/vnd.in-toto+json. Errors say which field is wrong.
StatusOr<InTotoStatement> ParseInTotoStatement(std::string_view payload);

// True when one of the statement's subjects has sha256 `digest` ("sha256:<hex>" or "<hex>").
bool StatementNamesDigest(const InTotoStatement& statement, std::string_view digest);

// A string matched exactly, or by an anchored RE2 expression when `regex` is set.
struct StringMatcher {
  std::string value;
  bool regex = false;
};

struct ProvenanceRequirement {
  std::vector<StringMatcher> builder_ids;          // runDetails.builder.id (v1) or builder.id (v0.2); empty: any
  std::optional<StringMatcher> source_repository;  // the workflow's repository (v1 externalParameters.workflow
                                                   // .repository, v0.2 invocation.configSource.uri)
  std::optional<StringMatcher> source_ref;  // v1 externalParameters.workflow.ref; v0.2 the configSource uri's @ref
  std::optional<StringMatcher> build_type;  // buildDefinition.buildType (v1) or buildType (v0.2)
};

enum class VulnerabilitySeverity { kNegligible, kLow, kMedium, kHigh, kCritical };

struct AllowedVulnerability {
  std::string id;                     // CVE-2026-0001, GHSA-...
  std::int64_t expires_unix_seconds;  // the waiver ends at this time
};

struct VulnerabilityRequirement {
  std::vector<StringMatcher> scanner_uris;                       // predicate.scanner.uri; empty: any scanner
  std::int64_t max_age_seconds = 24 * 3600;                      // metadata.scanFinishedOn no older than this
  VulnerabilitySeverity fail_at = VulnerabilitySeverity::kHigh;  // a finding at or above denies
  std::vector<AllowedVulnerability> allowed;
};

struct AttestationRequirements {
  std::optional<ProvenanceRequirement> provenance;
  std::optional<VulnerabilityRequirement> vulnerabilities;
  bool sbom = false;  // a CycloneDX or SPDX attestation

  bool empty() const { return !provenance && !vulnerabilities && !sbom; }
};

struct AttestationCheck {
  bool satisfied = false;
  // One line per unmet requirement: "vulnerability scan: scanFinishedOn 2026-12-01T00:00:00Z is 5 days old (at most
  // 24 h)"; "provenance: no attestation of type https://slsa.dev/provenance/v1 or v0.2"; ...
  std::vector<std::string> failures;
  // The earliest time (Unix seconds, > now) at which the verdict can change with the clock alone: the newest
  // vulnerability scan becoming too old, or an allow-list waiver expiring. nullopt when no time dependency exists.
  // A cached verdict must not be served from this time on.
  std::optional<std::int64_t> changes_at_unix_seconds;
};

// Whether `statements` (verified, for one image) satisfy `requirements` at `now_unix_seconds`. A requirement is met
// when at least one statement of its type meets all of its conditions (for vulnerabilities: the newest scan that
// passes; an older passing scan does not excuse a newer failing one). Findings are read from the scanner's own
// report in scanner.result: Grype (matches[].vulnerability.{id,severity}) or Trivy
// (Results[].Vulnerabilities[].{VulnerabilityID,Severity}).
AttestationCheck CheckAttestations(const std::vector<InTotoStatement>& statements,
                                   const AttestationRequirements& requirements, std::int64_t now_unix_seconds);

// The requirements of a configuration (images.attestations, or a profile's spec.images.attestations). The
// configuration grammar has validated it; InvalidArgument (naming `where` and the field) for anything still wrong.
StatusOr<AttestationRequirements> RequirementsFromConfig(const policy::AttestationsConfig& config,
                                                         const std::string& where = "images.attestations");

// Hex SHA-256 over every field of `requirements` (canonical: independent of how they were written), for
// verification cache keys.
std::string AttestationRequirementsFingerprint(const AttestationRequirements& requirements);

// One line naming the requirements, e.g. "provenance, vulnerability scan (fail at high, at most 24 h old), SBOM";
// "none" when empty.
std::string DescribeRequirements(const AttestationRequirements& requirements);

// "critical", "high", ... (case-insensitive) to a severity; nullopt for anything else ("unknown").
std::optional<VulnerabilitySeverity> ParseVulnerabilitySeverity(std::string_view text);

}  // namespace pipeguard::signatures
