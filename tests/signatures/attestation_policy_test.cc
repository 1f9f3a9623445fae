// The attestation policy: SLSA provenance, cosign's vulnerability predicate (freshness, severity, waivers with an
// expiry, Grype's and Trivy's report shapes), SBOM presence, and the in-toto statement grammar.
#include "pipeguard/signatures/attestation_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pipeguard/base/time.h"

namespace pipeguard::signatures {
namespace {

using nlohmann::json;

const std::string kDigest = std::string(64, 'a');
const std::int64_t kNow = *base::ParseTimestamp("2026-12-06T12:00:00Z");

InTotoStatement Statement(std::string_view type, json predicate) {
  json doc = {{"_type", "https://in-toto.io/Statement/v1"},
              {"subject", json::array({{{"name", "registry.local/payments/etl"}, {"digest", {{"sha256", kDigest}}}}})},
              {"predicateType", type},
              {"predicate", std::move(predicate)}};
  auto parsed = ParseInTotoStatement(doc.dump());
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  return parsed.ok() ? *parsed : InTotoStatement{};
}

InTotoStatement ProvenanceV1(const std::string& builder, const std::string& repository, const std::string& ref) {
  return Statement(kSlsaProvenanceV1,
                   {{"buildDefinition",
                     {{"buildType", "https://actions.github.io/buildtypes/workflow/v1"},
                      {"externalParameters", {{"workflow", {{"repository", repository}, {"ref", ref}}}}}}},
                    {"runDetails", {{"builder", {{"id", builder}}}}}});
}

InTotoStatement GrypeScan(const std::string& finished, json matches) {
  return Statement(kCosignVulnerability, {{"scanner",
                                           {{"uri", "https://github.com/anchore/grype"},
                                            {"version", "0.86.1"},
                                            {"result", {{"matches", std::move(matches)}}}}},
                                          {"metadata", {{"scanStartedOn", finished}, {"scanFinishedOn", finished}}}});
}

json GrypeMatch(const std::string& id, const std::string& severity) {
  return {{"vulnerability", {{"id", id}, {"severity", severity}}}, {"artifact", {{"name", "openssl"}}}};
}

const std::string kBuilder =
    "https://github.com/acme/payments-pipelines/.github/workflows/release.yml@refs/tags/v1.0.0";

TEST(AttestationPolicy, ProvenanceFromTheTrustedWorkflowAndRepositoryPasses) {
  AttestationRequirements requirements;
  requirements.provenance = ProvenanceRequirement{
      {{R"(https://github\.com/acme/payments-pipelines/\.github/workflows/release\.yml@refs/tags/v[0-9.]+)", true}},
      StringMatcher{"https://github.com/acme/payments-pipelines"},
      StringMatcher{"refs/tags/v.*", true},
      std::nullopt};
  const auto good = ProvenanceV1(kBuilder, "https://github.com/acme/payments-pipelines", "refs/tags/v1.0.0");
  EXPECT_TRUE(CheckAttestations({good}, requirements, kNow).satisfied);

  const auto fork = ProvenanceV1(kBuilder, "https://github.com/mallory/payments-pipelines", "refs/tags/v1.0.0");
  const AttestationCheck refused = CheckAttestations({fork}, requirements, kNow);
  ASSERT_FALSE(refused.satisfied);
  EXPECT_EQ(refused.failures[0],
            "provenance: source repository \"https://github.com/mallory/payments-pipelines\" is not "
            "\"https://github.com/acme/payments-pipelines\"");
  // An anchored expression: a branch build does not pass for a tag build, and a longer builder id does not either.
  const auto branch = ProvenanceV1(kBuilder + "x", "https://github.com/acme/payments-pipelines", "refs/heads/main");
  const AttestationCheck both = CheckAttestations({branch}, requirements, kNow);
  ASSERT_FALSE(both.satisfied);
  EXPECT_NE(both.failures[0].find("is not a trusted builder"), std::string::npos);
  EXPECT_NE(both.failures[0].find("source ref \"refs/heads/main\""), std::string::npos);
  // One passing statement among several is enough.
  EXPECT_TRUE(CheckAttestations({fork, good}, requirements, kNow).satisfied);
  EXPECT_EQ(CheckAttestations({}, requirements, kNow).failures[0],
            "provenance: no attestation of type https://slsa.dev/provenance/v1 or https://slsa.dev/provenance/v0.2");
}

TEST(AttestationPolicy, ProvenanceV02ReadsTheConfigSource) {
  AttestationRequirements requirements;
  requirements.provenance = ProvenanceRequirement{
      {}, StringMatcher{"https://github.com/acme/payments-pipelines"}, StringMatcher{"refs/tags/v1.0.0"}, std::nullopt};
  const auto v02 =
      Statement(kSlsaProvenanceV02,
                {{"builder", {{"id", kBuilder}}},
                 {"invocation",
                  {{"configSource", {{"uri", "git+https://github.com/acme/payments-pipelines@refs/tags/v1.0.0"}}}}}});
  EXPECT_TRUE(CheckAttestations({v02}, requirements, kNow).satisfied);
}

TEST(AttestationPolicy, AFreshScanWithoutHighFindingsPasses) {
  AttestationRequirements requirements;
  requirements.vulnerabilities = VulnerabilityRequirement{};  // any scanner, 24 h, fail at high
  const auto clean = GrypeScan("2026-12-06T08:00:00Z", json::array({GrypeMatch("CVE-2026-0002", "Medium")}));
  EXPECT_TRUE(CheckAttestations({clean}, requirements, kNow).satisfied);

  const auto stale = GrypeScan("2026-12-04T12:00:00Z", json::array());
  const AttestationCheck old = CheckAttestations({stale}, requirements, kNow);
  ASSERT_FALSE(old.satisfied);
  EXPECT_EQ(old.failures[0],
            "vulnerability scan: the newest scan finished 2026-12-04T12:00:00Z, 48 h ago (at most 24 h); scan the "
            "image again");
}

TEST(AttestationPolicy, HighFindingsDenyUnlessWaivedUntilAnExpiry) {
  AttestationRequirements requirements;
  requirements.vulnerabilities = VulnerabilityRequirement{};
  const auto scan = GrypeScan("2026-12-06T08:00:00Z",
                              json::array({GrypeMatch("CVE-2026-0001", "Critical"), GrypeMatch("CVE-2026-0003", "High"),
                                           GrypeMatch("CVE-2026-0004", "Low")}));
  const AttestationCheck denied = CheckAttestations({scan}, requirements, kNow);
  ASSERT_FALSE(denied.satisfied);
  EXPECT_EQ(denied.failures[0],
            "vulnerability scan: 2 findings at or above high: CVE-2026-0001, CVE-2026-0003; fix them or allow-list "
            "an id with an expiry");

  requirements.vulnerabilities->allowed = {{"CVE-2026-0001", kNow + 3600}, {"CVE-2026-0003", kNow + 3600}};
  EXPECT_TRUE(CheckAttestations({scan}, requirements, kNow).satisfied);
  requirements.vulnerabilities->allowed[1].expires_unix_seconds = kNow - 1;  // that waiver ran out
  const AttestationCheck expired = CheckAttestations({scan}, requirements, kNow);
  ASSERT_FALSE(expired.satisfied);
  EXPECT_NE(expired.failures[0].find("1 finding at or above high: CVE-2026-0003 (1 with an expired waiver)"),
            std::string::npos)
      << expired.failures[0];

  requirements.vulnerabilities->allowed.clear();
  requirements.vulnerabilities->fail_at = VulnerabilitySeverity::kCritical;
  EXPECT_NE(CheckAttestations({scan}, requirements, kNow).failures[0].find("1 finding at or above critical"),
            std::string::npos);
}

TEST(AttestationPolicy, TheNewestScanDecidesAndOnlyTrustedScannersCount) {
  AttestationRequirements requirements;
  requirements.vulnerabilities = VulnerabilityRequirement{};
  const auto older_clean = GrypeScan("2026-12-06T06:00:00Z", json::array());
  const auto newer_failing = GrypeScan("2026-12-06T10:00:00Z", json::array({GrypeMatch("CVE-2026-0001", "Critical")}));
  EXPECT_FALSE(CheckAttestations({older_clean, newer_failing}, requirements, kNow).satisfied);

  requirements.vulnerabilities->scanner_uris = {{"https://github.com/aquasecurity/trivy"}};
  EXPECT_EQ(CheckAttestations({older_clean}, requirements, kNow).failures[0],
            "vulnerability scan: no attestation from a trusted scanner (scanner.uri)");
}

TEST(AttestationPolicy, TrivyReportsAreReadToo) {
  AttestationRequirements requirements;
  requirements.vulnerabilities = VulnerabilityRequirement{};
  const auto trivy =
      Statement(kCosignVulnerability,
                {{"scanner",
                  {{"uri", "https://github.com/aquasecurity/trivy"},
                   {"result",
                    {{"Results", json::array({{{"Target", "etl"},
                                               {"Vulnerabilities", json::array({{{"VulnerabilityID", "CVE-2026-0009"},
                                                                                 {"Severity", "HIGH"}}})}}})}}}}},
                 {"metadata", {{"scanFinishedOn", "2026-12-06T11:00:00Z"}}}});
  const AttestationCheck check = CheckAttestations({trivy}, requirements, kNow);
  ASSERT_FALSE(check.satisfied);
  EXPECT_NE(check.failures[0].find("CVE-2026-0009"), std::string::npos);
}

TEST(AttestationPolicy, AnSbomOfEitherFormatIsEnough) {
  AttestationRequirements requirements;
  requirements.sbom = true;
  EXPECT_TRUE(CheckAttestations({Statement(kCycloneDx, {{"bomFormat", "CycloneDX"}})}, requirements, kNow).satisfied);
  EXPECT_TRUE(CheckAttestations({Statement(kSpdx, {{"spdxVersion", "SPDX-2.3"}})}, requirements, kNow).satisfied);
  const AttestationCheck none =
      CheckAttestations({GrypeScan("2026-12-06T08:00:00Z", json::array())}, requirements, kNow);
  ASSERT_FALSE(none.satisfied);
  EXPECT_EQ(none.failures[0].rfind("sbom: no CycloneDX", 0), 0u);
  EXPECT_TRUE(CheckAttestations({}, AttestationRequirements{}, kNow).satisfied);  // nothing required
}

TEST(InTotoStatement, SubjectsBindTheDigestAndBadStatementsSayWhy) {
  const InTotoStatement statement = Statement(kCycloneDx, json::object());
  EXPECT_TRUE(StatementNamesDigest(statement, "sha256:" + kDigest));
  EXPECT_TRUE(StatementNamesDigest(statement, kDigest));
  EXPECT_FALSE(StatementNamesDigest(statement, "sha256:" + std::string(64, 'b')));

  const std::pair<std::string, std::string> bad[] = {
      {"[]", "must be a JSON object"},
      {R"({"_type":"https://in-toto.io/Statement/v2","predicateType":"x","subject":[]})", "is not"},
      {R"({"_type":"https://in-toto.io/Statement/v0.1","subject":[]})", "predicateType is missing"},
      {R"({"_type":"https://in-toto.io/Statement/v0.1","predicateType":"x","subject":[]})", "non-empty list"},
      {R"({"_type":"https://in-toto.io/Statement/v1","predicateType":"x","subject":[{"digest":{"sha256":"ABC"}}]})",
       "64 lower-case hex"},
      {"{", "not valid JSON"}};
  for (const auto& [text, fragment] : bad) {
    auto parsed = ParseInTotoStatement(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_NE(parsed.status().message().find(fragment), std::string::npos) << parsed.status().message();
  }
}

}  // namespace
}  // namespace pipeguard::signatures
