// Verifier::VerifyAttestations: discovery of cosign attestations (legacy `.att` DSSE layers and Sigstore bundle
// referrers) in an in-process registry holding artifacts built as cosign builds them, verification with trusted keys
// and keyless identities, subject binding, then the requirement checks.
#include <gtest/gtest.h>

#include <algorithm>

#include "cosign_artifacts.h"
#include "fake_registry.h"
#include "pipeguard/base/time.h"
#include "pipeguard/signatures/crypto.h"
#include "pipeguard/signatures/verifier.h"
#include "test_fulcio.h"

namespace pipeguard::signatures {
namespace {

using nlohmann::json;
using testing::AttestationLayer;
using testing::AttestationStatement;
using testing::DsseEnvelopeJson;
using testing::FakeRegistry;
using testing::KeyKind;
using testing::PushAttestationBundle;
using testing::PushLegacyAttestations;
using testing::SigningKey;

constexpr std::int64_t kNow = 1796601600;  // 2026-12-07T00:00:00Z
constexpr char kVuln[] = "https://cosign.sigstore.dev/attestation/vuln/v1";
constexpr char kSlsa1[] = "https://slsa.dev/provenance/v1";
constexpr char kCycloneDx[] = "https://cyclonedx.org/bom";

registry::Deadline FarFuture() { return std::chrono::steady_clock::now() + std::chrono::hours(1); }
bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
constexpr auto Rfc3339 = pipeguard::base::FormatTimestamp;

// cosign's vuln predicate (COSIGN_VULN_ATTESTATION_SPEC) with a Grype report of `findings` (id, severity).
json VulnPredicate(std::int64_t finished, const std::vector<std::pair<std::string, std::string>>& findings = {},
                   const std::string& scanner = "https://github.com/anchore/grype") {
  json matches = json::array();
  for (const auto& [id, severity] : findings)
    matches.push_back({{"vulnerability", {{"id", id}, {"severity", severity}}}});
  return {{"invocation", {{"parameters", nullptr}, {"uri", ""}, {"event_id", ""}, {"builder.id", ""}}},
          {"scanner",
           {{"uri", scanner},
            {"version", "0.74.0"},
            {"db", {{"uri", ""}, {"version", "5"}}},
            {"result", {{"matches", matches}}}}},
          {"metadata", {{"scanStartedOn", Rfc3339(finished - 60)}, {"scanFinishedOn", Rfc3339(finished)}}}};
}

json ProvenancePredicate(const std::string& builder = "https://github.com/actions/runner/github-hosted",
                         const std::string& repository = "https://github.com/acme/pipelines") {
  return {{"buildDefinition",
           {{"buildType", "https://actions.github.io/buildtypes/workflow/v1"},
            {"externalParameters", {{"workflow", {{"repository", repository}, {"ref", "refs/tags/v1.2.0"}}}}}}},
          {"runDetails", {{"builder", {{"id", builder}}}}}};
}

json CycloneDxPredicate() {
  return {{"bomFormat", "CycloneDX"}, {"specVersion", "1.5"}, {"components", json::array()}};
}

AttestationRequirements AllRequirements() {
  AttestationRequirements requirements;
  ProvenanceRequirement provenance;
  provenance.builder_ids = {{"https://github.com/actions/runner/github-hosted", false}};
  provenance.source_repository = StringMatcher{"https://github.com/acme/pipelines", false};
  requirements.provenance = provenance;
  VulnerabilityRequirement vulnerabilities;
  vulnerabilities.max_age_seconds = 24 * 3600;
  vulnerabilities.fail_at = VulnerabilitySeverity::kHigh;
  requirements.vulnerabilities = vulnerabilities;
  requirements.sbom = true;
  return requirements;
}

class AttestationVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    digest_ = registry_.PutManifest("{\"schemaVersion\":2,\"layers\":[]}", "1.0");
    image_.digest = digest_;
    auto keys = TrustedKeySet::Load({{"release", "", signer_.public_pem()}});
    ASSERT_TRUE(keys.ok());
    keys_ = std::make_unique<TrustedKeySet>(std::move(keys).value());
    auto verifier = Verifier::Create(VerifierOptions{});
    ASSERT_TRUE(verifier.ok());
    verifier_ = std::make_unique<Verifier>(std::move(verifier).value());
  }

  std::string Statement(const std::string& type, const json& predicate, const std::string& digest = "") const {
    return AttestationStatement(digest.empty() ? digest_ : digest, type, predicate);
  }
  // A legacy `.att` layer signed by `key`.
  std::pair<std::string, json> Legacy(const SigningKey& key, const std::string& statement,
                                      const std::string& type = kVuln) const {
    const std::string envelope = DsseEnvelopeJson(key, statement);
    return {envelope, AttestationLayer(envelope, type)};
  }
  AttestationResult Verify(const AttestationRequirements& requirements = AllRequirements(), std::int64_t now = kNow) {
    return verifier_->VerifyAttestations(registry_, image_, *keys_, requirements, now, FarFuture());
  }
  // The complete, passing set in the legacy format.
  void PushPassingLegacy() {
    PushLegacyAttestations(registry_, digest_,
                           {Legacy(signer_, Statement(kVuln, VulnPredicate(kNow - 3600, {{"CVE-2026-1", "Low"}}))),
                            Legacy(signer_, Statement(kSlsa1, ProvenancePredicate()), kSlsa1),
                            Legacy(signer_, Statement(kCycloneDx, CycloneDxPredicate()), kCycloneDx)});
  }

  FakeRegistry registry_;
  registry::ImageReference image_{"registry.example.com", "team/app", "1.0", ""};
  std::string digest_;
  SigningKey signer_ = SigningKey::Generate(KeyKind::kP256);
  SigningKey stranger_ = SigningKey::Generate(KeyKind::kP256);
  std::unique_ptr<TrustedKeySet> keys_;
  std::unique_ptr<Verifier> verifier_;
};

TEST_F(AttestationVerifierTest, LegacyAttLayersSatisfyEveryRequirement) {
  PushPassingLegacy();
  const AttestationResult result = Verify();
  EXPECT_TRUE(result.satisfied) << result.message;
  EXPECT_EQ(result.reason, Reason::kVerified);
  EXPECT_EQ(result.statements.size(), 3u);
  ASSERT_EQ(result.findings.size(), 3u);
  EXPECT_EQ(result.findings[0].format, SignatureFormat::kDsseEnvelope);
  EXPECT_EQ(result.findings[0].location, "sha256-" + digest_.substr(7) + ".att layer 0");
  EXPECT_EQ(result.findings[0].check.key_name, "release");
  EXPECT_TRUE(Contains(result.message, "satisfy")) << result.message;
  // The verdict turns when the scan becomes older than 24 h.
  ASSERT_TRUE(result.check.changes_at_unix_seconds.has_value());
  EXPECT_EQ(*result.check.changes_at_unix_seconds, kNow - 3600 + 24 * 3600 + 1);
}

TEST_F(AttestationVerifierTest, BundleReferrersSatisfyEveryRequirement) {
  PushAttestationBundle(registry_, signer_, Statement(kVuln, VulnPredicate(kNow - 60)), digest_, kVuln);
  PushAttestationBundle(registry_, signer_, Statement(kSlsa1, ProvenancePredicate()), digest_, kSlsa1);
  PushAttestationBundle(registry_, signer_, Statement(kCycloneDx, CycloneDxPredicate()), digest_, kCycloneDx);
  // An image signature among the referrers is not an attestation: skipped by its annotation.
  testing::PushBundle(registry_, testing::DsseBundle(signer_, testing::InTotoStatement(digest_)), digest_);
  const AttestationResult result = Verify();
  EXPECT_TRUE(result.satisfied) << result.message;
  EXPECT_EQ(result.statements.size(), 3u);
  for (const auto& finding : result.findings) EXPECT_EQ(finding.format, SignatureFormat::kSigstoreBundle);
}

TEST_F(AttestationVerifierTest, FallbackTagReferrersAreFound) {
  registry_.set_referrers_api(false);
  PushAttestationBundle(registry_, signer_, Statement(kCycloneDx, CycloneDxPredicate()), digest_, kCycloneDx);
  AttestationRequirements sbom;
  sbom.sbom = true;
  const AttestationResult result = Verify(sbom);
  EXPECT_TRUE(result.satisfied) << result.message;
}

TEST_F(AttestationVerifierTest, UntrustedKeyAttestationIsIgnored) {
  PushLegacyAttestations(registry_, digest_,
                         {Legacy(stranger_, Statement(kVuln, VulnPredicate(kNow - 60))),
                          Legacy(signer_, Statement(kSlsa1, ProvenancePredicate()), kSlsa1),
                          Legacy(signer_, Statement(kCycloneDx, CycloneDxPredicate()), kCycloneDx)});
  const AttestationResult result = Verify();
  EXPECT_FALSE(result.satisfied);
  EXPECT_EQ(result.reason, Reason::kAttestationsNotSatisfied);
  EXPECT_EQ(result.statements.size(), 2u);
  EXPECT_TRUE(Contains(result.message, "vulnerability scan: no attestation of type " + std::string(kVuln)))
      << result.message;
  EXPECT_TRUE(Contains(result.message, ".att layer 0: not signed by a trusted key")) << result.message;
  EXPECT_TRUE(Contains(result.message, "registry.example.com/team/app@" + digest_)) << result.message;
}

TEST_F(AttestationVerifierTest, AlteredAttestationIsIgnored) {
  auto layer = Legacy(signer_, Statement(kCycloneDx, CycloneDxPredicate()), kCycloneDx);
  json envelope = json::parse(layer.first);
  envelope["payload"] = Base64Encode(Statement(kCycloneDx, {{"bomFormat", "forged"}}));
  layer.first = envelope.dump();
  layer.second = AttestationLayer(layer.first, kCycloneDx);
  PushLegacyAttestations(registry_, digest_, {layer});
  AttestationRequirements sbom;
  sbom.sbom = true;
  const AttestationResult result = Verify(sbom);
  EXPECT_FALSE(result.satisfied);
  EXPECT_TRUE(result.statements.empty());
  ASSERT_EQ(result.findings.size(), 1u);
  EXPECT_EQ(result.findings[0].check.reason, Reason::kUntrustedKey);
}

TEST_F(AttestationVerifierTest, UnsignedEnvelopeIsIgnored) {
  json envelope = {{"payloadType", "application/vnd.in-toto+json"},
                   {"payload", Base64Encode(Statement(kCycloneDx, CycloneDxPredicate()))},
                   {"signatures", json::array()}};
  PushLegacyAttestations(registry_, digest_, {{envelope.dump(), AttestationLayer(envelope.dump(), kCycloneDx)}});
  AttestationRequirements sbom;
  sbom.sbom = true;
  const AttestationResult result = Verify(sbom);
  EXPECT_FALSE(result.satisfied);
  ASSERT_EQ(result.findings.size(), 1u);
  EXPECT_EQ(result.findings[0].check.reason, Reason::kMalformed);
  EXPECT_TRUE(Contains(result.message, "sbom: no CycloneDX")) << result.message;
}

TEST_F(AttestationVerifierTest, WrongSubjectDigestIsIgnored) {
  const std::string other = testing::ImageDigest("another image");
  PushAttestationBundle(registry_, signer_, Statement(kCycloneDx, CycloneDxPredicate(), other), digest_, kCycloneDx);
  PushLegacyAttestations(registry_, digest_,
                         {Legacy(signer_, Statement(kCycloneDx, CycloneDxPredicate(), other), kCycloneDx)});
  AttestationRequirements sbom;
  sbom.sbom = true;
  const AttestationResult result = Verify(sbom);
  EXPECT_FALSE(result.satisfied);
  EXPECT_TRUE(result.statements.empty());
  ASSERT_EQ(result.findings.size(), 2u);
  for (const auto& finding : result.findings) EXPECT_EQ(finding.check.reason, Reason::kDigestMismatch);
  EXPECT_TRUE(Contains(result.message, "signature for a different digest")) << result.message;
}

TEST_F(AttestationVerifierTest, StaleVulnerabilityScanIsDenied) {
  PushLegacyAttestations(registry_, digest_, {Legacy(signer_, Statement(kVuln, VulnPredicate(kNow - 3 * 24 * 3600)))});
  AttestationRequirements vuln;
  vuln.vulnerabilities = VulnerabilityRequirement{};
  const AttestationResult result = Verify(vuln);
  EXPECT_FALSE(result.satisfied);
  EXPECT_TRUE(Contains(result.message, "the newest scan finished " + Rfc3339(kNow - 3 * 24 * 3600))) << result.message;
  EXPECT_TRUE(Contains(result.message, "at most 24 h")) << result.message;
}

TEST_F(AttestationVerifierTest, FindingAtOrAboveTheSeverityIsDenied) {
  PushLegacyAttestations(
      registry_, digest_,
      {Legacy(signer_,
              Statement(kVuln, VulnPredicate(kNow - 60, {{"CVE-2026-1111", "High"}, {"CVE-2026-2", "Low"}})))});
  AttestationRequirements vuln;
  vuln.vulnerabilities = VulnerabilityRequirement{};
  const AttestationResult result = Verify(vuln);
  EXPECT_FALSE(result.satisfied);
  EXPECT_TRUE(Contains(result.message, "1 finding at or above high: CVE-2026-1111")) << result.message;
  EXPECT_FALSE(Contains(result.message, "CVE-2026-2")) << result.message;
}

TEST_F(AttestationVerifierTest, AllowListedFindingPassesUntilItsWaiverExpires) {
  PushLegacyAttestations(registry_, digest_,
                         {Legacy(signer_, Statement(kVuln, VulnPredicate(kNow - 60, {{"CVE-2026-9", "Critical"}})))});
  AttestationRequirements vuln;
  vuln.vulnerabilities = VulnerabilityRequirement{};
  vuln.vulnerabilities->allowed = {{"CVE-2026-9", kNow + 600}};
  AttestationResult result = Verify(vuln);
  EXPECT_TRUE(result.satisfied) << result.message;
  ASSERT_TRUE(result.check.changes_at_unix_seconds.has_value());
  EXPECT_EQ(*result.check.changes_at_unix_seconds, kNow + 600);  // the waiver ends before the scan gets old
  result = Verify(vuln, kNow + 600);
  EXPECT_FALSE(result.satisfied);
  EXPECT_TRUE(Contains(result.message, "CVE-2026-9 (1 with an expired waiver)")) << result.message;
}

TEST_F(AttestationVerifierTest, MissingSbomIsDenied) {
  PushLegacyAttestations(registry_, digest_,
                         {Legacy(signer_, Statement(kVuln, VulnPredicate(kNow - 60))),
                          Legacy(signer_, Statement(kSlsa1, ProvenancePredicate()), kSlsa1)});
  const AttestationResult result = Verify();
  EXPECT_FALSE(result.satisfied);
  ASSERT_EQ(result.check.failures.size(), 1u);
  EXPECT_TRUE(Contains(result.check.failures[0], "sbom: no CycloneDX")) << result.message;
}

TEST_F(AttestationVerifierTest, ProvenanceBuilderAndRepositoryMismatchesAreDenied) {
  PushLegacyAttestations(
      registry_, digest_,
      {Legacy(signer_,
              Statement(kSlsa1, ProvenancePredicate("https://evil.example/builder", "https://github.com/evil/fork")),
              kSlsa1)});
  AttestationRequirements provenance;
  provenance.provenance = AllRequirements().provenance;
  const AttestationResult result = Verify(provenance);
  EXPECT_FALSE(result.satisfied);
  EXPECT_TRUE(Contains(result.message, "builder \"https://evil.example/builder\" is not a trusted builder"))
      << result.message;
  EXPECT_TRUE(Contains(result.message, "source repository \"https://github.com/evil/fork\" is not")) << result.message;
}

TEST_F(AttestationVerifierTest, NoAttestationsAtAllNamesEveryRequirement) {
  const AttestationResult result = Verify();
  EXPECT_FALSE(result.satisfied);
  EXPECT_EQ(result.check.failures.size(), 3u);
  EXPECT_TRUE(Contains(result.message, "0 verified attestation(s)")) << result.message;
}

TEST_F(AttestationVerifierTest, RegistryOutageFailsClosedAsTransient) {
  PushPassingLegacy();
  registry_.set_fault([](const std::string& method, const std::string& argument) -> std::optional<Status> {
    if (method == "GetManifest" && argument.find(".att") != std::string::npos) {
      return Status::Unavailable("connection refused");
    }
    return std::nullopt;
  });
  const AttestationResult result = Verify();
  EXPECT_FALSE(result.satisfied);
  EXPECT_EQ(result.reason, Reason::kRegistryUnreachable);
  EXPECT_TRUE(Contains(result.message, "attestations not checked: registry unreachable")) << result.message;
}

TEST_F(AttestationVerifierTest, DeadlineFailsClosed) {
  PushPassingLegacy();
  const AttestationResult result = verifier_->VerifyAttestations(registry_, image_, *keys_, AllRequirements(), kNow,
                                                                 std::chrono::steady_clock::now());
  EXPECT_FALSE(result.satisfied);
  EXPECT_EQ(result.reason, Reason::kTimedOut);
}

TEST_F(AttestationVerifierTest, OversizedEnvelopesAreNotFetched) {
  VerifierOptions options;
  options.max_attestation_bytes = 64;
  auto verifier = Verifier::Create(options);
  ASSERT_TRUE(verifier.ok());
  PushPassingLegacy();
  const AttestationResult result =
      verifier->VerifyAttestations(registry_, image_, *keys_, AllRequirements(), kNow, FarFuture());
  EXPECT_FALSE(result.satisfied);
  ASSERT_EQ(result.findings.size(), 3u);
  EXPECT_TRUE(Contains(result.findings[0].check.detail, "limited to 64 bytes")) << result.findings[0].check.detail;
  for (size_t limit : registry_.blob_limits()) EXPECT_LE(limit, 64u);

  options.max_attestation_bytes = 4u << 20;
  options.max_attestation_total_bytes = 1;  // nothing fits in the total budget
  verifier = Verifier::Create(options);
  ASSERT_TRUE(verifier.ok());
  const AttestationResult total =
      verifier->VerifyAttestations(registry_, image_, *keys_, AllRequirements(), kNow, FarFuture());
  EXPECT_FALSE(total.satisfied);
  EXPECT_TRUE(Contains(total.message, "exceed 1 bytes in total")) << total.message;
}

TEST_F(AttestationVerifierTest, TooManyLayersIsMalformed) {
  VerifierOptions options;
  options.max_signature_layers = 2;
  auto verifier = Verifier::Create(options);
  ASSERT_TRUE(verifier.ok());
  PushPassingLegacy();
  const AttestationResult result =
      verifier->VerifyAttestations(registry_, image_, *keys_, AllRequirements(), kNow, FarFuture());
  EXPECT_FALSE(result.satisfied);
  EXPECT_TRUE(Contains(result.message, "3 layers, more than the limit of 2")) << result.message;
}

TEST_F(AttestationVerifierTest, RequirementsFingerprintCoversEveryField) {
  const AttestationRequirements base = AllRequirements();
  std::vector<AttestationRequirements> variants(6, base);
  variants[0].sbom = false;
  variants[1].vulnerabilities->max_age_seconds = 3600;
  variants[2].vulnerabilities->fail_at = VulnerabilitySeverity::kCritical;
  variants[3].vulnerabilities->allowed = {{"CVE-1", 5}};
  variants[4].provenance->builder_ids[0].regex = true;
  variants[5].provenance->source_ref = StringMatcher{"refs/heads/main", false};
  std::vector<std::string> prints{AttestationRequirementsFingerprint(base)};
  for (const auto& variant : variants) prints.push_back(AttestationRequirementsFingerprint(variant));
  std::sort(prints.begin(), prints.end());
  EXPECT_TRUE(std::unique(prints.begin(), prints.end()) == prints.end()) << "two variants share a fingerprint";
  EXPECT_EQ(AttestationRequirementsFingerprint(base), AttestationRequirementsFingerprint(AllRequirements()));
}

// --- keyless ---

constexpr std::int64_t kSigningTime = 1785412560;  // inside the test Fulcio leaf's default validity

class KeylessAttestationTest : public AttestationVerifierTest {
 protected:
  void SetUp() override {
    AttestationVerifierTest::SetUp();
    auto root = TrustedRoot::Parse(fulcio_.TrustedRootJson());
    ASSERT_TRUE(root.ok()) << root.status().message();
    KeylessIdentity identity;
    identity.name = "release";
    identity.subject.regex = R"(https://github\.com/acme/pipelines/\.github/workflows/.*)";
    identity.issuer.exact = "https://token.actions.githubusercontent.com";
    auto identities = IdentityPolicy::Create({identity});
    ASSERT_TRUE(identities.ok());
    VerifierOptions options;
    options.keyless = std::make_shared<const KeylessVerification>(
        KeylessVerification{std::move(root).value(), std::move(identities).value(), true});
    auto verifier = Verifier::Create(options);
    ASSERT_TRUE(verifier.ok());
    verifier_ = std::make_unique<Verifier>(std::move(verifier).value());
  }

  testing::TestFulcio fulcio_;
};

TEST_F(KeylessAttestationTest, LegacyAndBundleKeylessAttestationsVerify) {
  const testing::IssuedLeaf leaf = fulcio_.Issue();
  PushLegacyAttestations(registry_, digest_,
                         {fulcio_.LegacyAttestation(leaf, Statement(kVuln, VulnPredicate(kNow - 60)), kSigningTime)});
  const std::string bundle =
      fulcio_.DsseBundle(leaf, digest_, kSigningTime, Statement(kCycloneDx, CycloneDxPredicate()));
  testing::PushBundle(registry_, bundle, digest_, "application/vnd.dev.sigstore.bundle.v0.3+json", kCycloneDx);
  AttestationRequirements requirements;
  requirements.vulnerabilities = VulnerabilityRequirement{};
  requirements.sbom = true;
  const AttestationResult result = Verify(requirements);
  EXPECT_TRUE(result.satisfied) << result.message;
  ASSERT_EQ(result.findings.size(), 2u);
  for (const auto& finding : result.findings) EXPECT_EQ(finding.check.key_name, "keyless identity 'release'");

  // The same attestations do not count when keyless signers are excluded (a profile's narrowed key set).
  const AttestationResult narrowed =
      verifier_->VerifyAttestations(registry_, image_, *keys_, requirements, kNow, FarFuture(), false);
  EXPECT_FALSE(narrowed.satisfied);
  EXPECT_TRUE(Contains(narrowed.message, "keyless signature not supported")) << narrowed.message;
}

TEST_F(KeylessAttestationTest, OtherIdentityIsIgnored) {
  testing::LeafOptions options;
  options.san_uri = "https://github.com/evil/fork/.github/workflows/release.yml@refs/heads/main";
  const testing::IssuedLeaf leaf = fulcio_.Issue(options);
  PushLegacyAttestations(registry_, digest_,
                         {fulcio_.LegacyAttestation(leaf, Statement(kVuln, VulnPredicate(kNow - 60)), kSigningTime)});
  AttestationRequirements requirements;
  requirements.vulnerabilities = VulnerabilityRequirement{};
  const AttestationResult result = Verify(requirements);
  EXPECT_FALSE(result.satisfied);
  ASSERT_EQ(result.findings.size(), 1u);
  EXPECT_EQ(result.findings[0].check.reason, Reason::kIdentityNotAllowed);
  EXPECT_TRUE(Contains(result.message, "signer identity not allowed")) << result.message;
}

}  // namespace
}  // namespace pipeguard::signatures
