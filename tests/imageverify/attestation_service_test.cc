// ImageVerificationService with images.attestations: an image is verified only when its signature verifies AND its
// verified attestations meet the requirements; the requirements are part of the cache key; a verdict that depends
// on a vulnerability scan's age is never cached (or served stale) past the time the scan becomes too old.
#include <gtest/gtest.h>

#include <fstream>

#include "cosign_artifacts.h"
#include "counting_registry.h"
#include "fake_registry.h"
#include "pipeguard/base/time.h"
#include "pipeguard/imageverify/service.h"
#include "test_fulcio.h"

namespace pipeguard::imageverify {
namespace {

using nlohmann::json;
using signatures::Reason;
using signatures::testing::AttestationLayer;
using signatures::testing::AttestationStatement;
using signatures::testing::DsseEnvelopeJson;
using signatures::testing::KeyKind;
using signatures::testing::PushLegacyAttestations;
using signatures::testing::PushLegacySignature;
using signatures::testing::SigningKey;
using testing::CountingRegistry;
using testing::FakeClock;
using namespace std::chrono_literals;

constexpr std::int64_t kStart = 1796601600;  // 2026-12-07T00:00:00Z, the wall clock when the test clock starts
constexpr char kVuln[] = "https://cosign.sigstore.dev/attestation/vuln/v1";
constexpr char kCycloneDx[] = "https://cyclonedx.org/bom";

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
constexpr auto Rfc3339 = pipeguard::base::FormatTimestamp;

json VulnPredicate(std::int64_t finished, const std::string& severity = "") {
  json matches = json::array();
  if (!severity.empty()) matches.push_back({{"vulnerability", {{"id", "CVE-2026-4242"}, {"severity", severity}}}});
  return {{"scanner",
           {{"uri", "https://github.com/anchore/grype"}, {"version", "0.74.0"}, {"result", {{"matches", matches}}}}},
          {"metadata", {{"scanStartedOn", Rfc3339(finished - 60)}, {"scanFinishedOn", Rfc3339(finished)}}}};
}

class AttestationServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = std::make_shared<CountingRegistry>(fake_);
    digest_ = fake_.PutManifest(R"({"schemaVersion":2,"layers":[]})", "1.0");
    image_ = "registry.example.com/team/app@" + digest_;
    PushLegacySignature(fake_, signer_, digest_);
  }

  std::int64_t UnixNow() const {
    return kStart + std::chrono::duration_cast<std::chrono::seconds>(clock_.Now() - start_).count();
  }

  policy::ImagesConfig Config(int max_age_hours = 24) const {
    policy::ImagesConfig config;
    config.keys = {{"release", "", signer_.public_pem()}};
    config.deadline = 4s;
    policy::VulnerabilityRequirementConfig vulnerabilities;
    vulnerabilities.max_age_hours = max_age_hours;
    config.attestations.vulnerabilities = vulnerabilities;
    return config;
  }

  std::unique_ptr<ImageVerificationService> Service(const policy::ImagesConfig& config,
                                                    std::shared_ptr<VerificationCache> cache = nullptr) {
    ServiceOptions options;
    options.registry = registry_;
    options.clock = clock_.AsClock();
    options.unix_clock = [this] { return UnixNow(); };
    options.cache = std::move(cache);
    auto service = ImageVerificationService::Create(config, std::move(options));
    EXPECT_TRUE(service.ok()) << service.status().message();
    return service.ok() ? std::move(service).value() : nullptr;
  }

  void Attest(const SigningKey& key, const std::string& type, const json& predicate) {
    const std::string envelope = DsseEnvelopeJson(key, AttestationStatement(digest_, type, predicate));
    attestations_.emplace_back(envelope, AttestationLayer(envelope, type));
    PushLegacyAttestations(fake_, digest_, attestations_);
  }

  ImageOutcome Verify(ImageVerificationService& service) { return service.Verify(image_, clock_.Now() + 1h); }

  signatures::testing::FakeRegistry fake_;
  std::shared_ptr<CountingRegistry> registry_;
  FakeClock clock_;
  const TimePoint start_ = clock_.Now();
  SigningKey signer_ = SigningKey::Generate(KeyKind::kP256);
  std::string digest_;
  std::string image_;
  std::vector<std::pair<std::string, json>> attestations_;
};

TEST_F(AttestationServiceTest, SignedImageWithoutTheAttestationIsDeniedNamingIt) {
  auto service = Service(Config());
  const ImageOutcome outcome = Verify(*service);
  EXPECT_FALSE(outcome.verdict.verified);
  EXPECT_EQ(outcome.reason, Reason::kAttestationsNotSatisfied);
  EXPECT_TRUE(Contains(outcome.message, "image " + image_ +
                                            " is not verified: attestations not satisfied: "
                                            "vulnerability scan: no attestation of type " +
                                            std::string(kVuln)))
      << outcome.message;
  EXPECT_TRUE(Contains(outcome.verdict.reason, "attestations not satisfied")) << outcome.verdict.reason;
}

TEST_F(AttestationServiceTest, CriticalFindingIsDenied) {
  Attest(signer_, kVuln, VulnPredicate(UnixNow() - 60, "Critical"));
  auto service = Service(Config());
  const ImageOutcome outcome = Verify(*service);
  EXPECT_FALSE(outcome.verdict.verified);
  EXPECT_TRUE(Contains(outcome.message, "1 finding at or above high: CVE-2026-4242")) << outcome.message;
}

TEST_F(AttestationServiceTest, AttestationByAnUntrustedKeyDoesNotCount) {
  Attest(SigningKey::Generate(KeyKind::kP256), kVuln, VulnPredicate(UnixNow() - 60));
  auto service = Service(Config());
  const ImageOutcome outcome = Verify(*service);
  EXPECT_FALSE(outcome.verdict.verified);
  EXPECT_TRUE(Contains(outcome.message, "not signed by a trusted key")) << outcome.message;
}

TEST_F(AttestationServiceTest, PositiveVerdictIsCachedOnlyUntilTheScanGetsTooOld) {
  // The scan finished 23 h 55 min ago: it is too old in 5 minutes, well inside the 15-minute positive TTL.
  Attest(signer_, kVuln, VulnPredicate(UnixNow() - (24 * 3600 - 300)));
  auto service = Service(Config());
  const ImageOutcome first = Verify(*service);
  ASSERT_TRUE(first.verdict.verified) << first.message;
  EXPECT_TRUE(Contains(first.attestations, "attestations satisfy the requirements")) << first.attestations;
  EXPECT_TRUE(Contains(first.message, "1 verified attestation(s): " + std::string(kVuln))) << first.message;

  clock_.Advance(4min);
  EXPECT_EQ(Verify(*service).source, VerdictSource::kCache);
  clock_.Advance(2min);  // the scan is now older than 24 h
  const ImageOutcome stale = Verify(*service);
  EXPECT_EQ(stale.source, VerdictSource::kVerification);
  EXPECT_FALSE(stale.verdict.verified);
  EXPECT_TRUE(Contains(stale.message, "at most 24 h")) << stale.message;
}

TEST_F(AttestationServiceTest, AnExpiredFreshnessIsNotServedStaleDuringAnOutage) {
  Attest(signer_, kVuln, VulnPredicate(UnixNow() - (24 * 3600 - 300)));
  auto service = Service(Config());
  ASSERT_TRUE(Verify(*service).verdict.verified);
  clock_.Advance(6min);
  registry_->SetOutage(Status::Unavailable("connection refused"));
  const ImageOutcome outage = Verify(*service);
  EXPECT_FALSE(outage.verdict.verified);
  EXPECT_EQ(outage.reason, Reason::kRegistryUnreachable);
}

TEST_F(AttestationServiceTest, AFreshScanIsCachedForThePositiveTtlAndServedStaleWithinTheGrace) {
  Attest(signer_, kVuln, VulnPredicate(UnixNow() - 60));
  auto service = Service(Config());
  ASSERT_TRUE(Verify(*service).verdict.verified);
  const int referrer_calls = registry_->verifications();
  clock_.Advance(14min);
  EXPECT_EQ(Verify(*service).source, VerdictSource::kCache);
  EXPECT_EQ(registry_->verifications(), referrer_calls);
  clock_.Advance(2min);
  registry_->SetOutage(Status::Unavailable("connection refused"));
  const ImageOutcome stale = Verify(*service);
  EXPECT_TRUE(stale.verdict.verified) << stale.message;
  EXPECT_EQ(stale.source, VerdictSource::kStaleCache);
}

TEST_F(AttestationServiceTest, RequirementsArePartOfTheCacheKey) {
  Attest(signer_, kVuln, VulnPredicate(UnixNow() - 60));
  auto cache = std::make_shared<VerificationCache>();
  auto lenient = Service(Config(), cache);
  ASSERT_TRUE(Verify(*lenient).verdict.verified);

  policy::ImagesConfig strict = Config();
  strict.attestations.sbom = true;
  auto strict_service = Service(strict, cache);
  EXPECT_NE(strict_service->fingerprint(), lenient->fingerprint());
  const ImageOutcome denied = Verify(*strict_service);
  EXPECT_EQ(denied.source, VerdictSource::kVerification);
  EXPECT_FALSE(denied.verdict.verified);
  EXPECT_TRUE(Contains(denied.message, "sbom: no CycloneDX")) << denied.message;

  Attest(signer_, kCycloneDx, {{"bomFormat", "CycloneDX"}});
  clock_.Advance(31s);  // past the negative TTL
  EXPECT_TRUE(Verify(*strict_service).verdict.verified);
  // Without requirements the fingerprint is the one of a signature-only service.
  policy::ImagesConfig none = Config();
  none.attestations = {};
  auto plain = Service(none, cache);
  EXPECT_NE(plain->fingerprint(), lenient->fingerprint());
}

TEST_F(AttestationServiceTest, UnsignedImageIsDeniedForItsSignatureFirst) {
  const std::string other = fake_.PutManifest(R"({"schemaVersion":2,"layers":[],"annotations":{"x":"y"}})", "2.0");
  auto service = Service(Config());
  const ImageOutcome outcome = service->Verify("registry.example.com/team/app@" + other, clock_.Now() + 1h);
  EXPECT_EQ(outcome.reason, Reason::kNoSignature);
}

TEST_F(AttestationServiceTest, CreateRejectsAnInvalidRequirementNamingIt) {
  policy::ImagesConfig config = Config();
  config.attestations.provenance = policy::ProvenanceRequirementConfig{};
  config.attestations.provenance->source_ref = policy::StringMatchConfig{"(unclosed", true};
  ServiceOptions options;
  options.registry = registry_;
  auto service = ImageVerificationService::Create(config, std::move(options));
  ASSERT_FALSE(service.ok());
  EXPECT_TRUE(Contains(service.status().message(), "images.attestations.provenance.sourceRef.regexp"))
      << service.status().message();
}

TEST_F(AttestationServiceTest, AProfilesAttestationsHoldOnTopOfTheConfigurationsAndAreNamed) {
  Attest(signer_, kVuln, VulnPredicate(UnixNow() - 60));
  auto service = Service(Config());
  policy::KeyScope scope;
  policy::AttestationsConfig sbom;
  sbom.sbom = true;
  scope.attestations = {{"etl/payments", sbom}};
  EXPECT_TRUE(Verify(*service).verdict.verified);  // the configuration's requirement alone is met
  const ImageOutcome scoped = service->Verify(image_, clock_.Now() + 1h, scope);
  EXPECT_FALSE(scoped.verdict.verified);
  EXPECT_TRUE(scoped.verdict.signature_verified);
  EXPECT_EQ(scoped.source, VerdictSource::kVerification) << "a profile's requirements are a different cache key";
  EXPECT_TRUE(Contains(scoped.message, "attestations not satisfied: profile etl/payments: sbom: no CycloneDX"))
      << scoped.message;

  // A profile's scan requirement is checked against the same attestations, with its own freshness.
  policy::AttestationsConfig strict_scan;
  strict_scan.vulnerabilities = policy::VulnerabilityRequirementConfig{};
  strict_scan.vulnerabilities->max_age_hours = 1;
  policy::KeyScope strict;
  strict.attestations = {{"etl/payments", strict_scan}};
  const ImageOutcome fresh = service->Verify(image_, clock_.Now() + 1h, strict);
  EXPECT_TRUE(fresh.verdict.verified) << fresh.message;
  EXPECT_TRUE(Contains(fresh.attestations, "profile etl/payments: vulnerability scan")) << fresh.attestations;
  clock_.Advance(61min);  // older than the profile's 1 h, still fresh for the configuration's 24 h
  EXPECT_TRUE(Verify(*service).verdict.verified);
  const ImageOutcome old = service->Verify(image_, clock_.Now() + 1h, strict);
  EXPECT_FALSE(old.verdict.verified);
  EXPECT_EQ(old.source, VerdictSource::kVerification) << "the 1 h freshness capped the cached verdict";
  EXPECT_TRUE(Contains(old.message, "profile etl/payments: vulnerability scan: the newest scan finished"))
      << old.message;
}

TEST_F(AttestationServiceTest, AProfilesKeylessIdentitiesAreTheOnlyKeylessSignersThatCount) {
  const signatures::testing::TestFulcio fulcio;
  const std::string root_path = ::testing::TempDir() + "/pipeguard-attestation-keyless-root.json";
  std::ofstream(root_path) << fulcio.TrustedRootJson();
  policy::ImagesConfig config;
  config.deadline = 4s;
  config.keys = {{"release", "", signer_.public_pem()}};
  config.keyless.trusted_root_file = root_path;
  config.keyless.identities = {
      {"acme", "", R"(https://github\.com/acme/pipelines/.*)", "https://token.actions.githubusercontent.com", "", {}},
      {"other-team", "", R"(https://github\.com/other/.*)", "https://token.actions.githubusercontent.com", "", {}}};
  auto service = Service(config);
  ASSERT_NE(service, nullptr);
  const std::string digest = fake_.PutManifest(R"({"schemaVersion":2,"layers":[],"annotations":{"k":"1"}})", "k1");
  signatures::testing::PushBundle(fake_, fulcio.DsseBundle(fulcio.Issue(), digest, 1785412560), digest);
  const std::string image = "registry.example.com/team/app@" + digest;

  policy::KeyScope acme;  // a profile naming only the acme identity: no key, that identity
  acme.keys = std::vector<std::string>{};
  acme.keyless_identities = std::vector<std::string>{"acme"};
  acme.profiles = {"etl/payments"};
  const ImageOutcome admitted = service->Verify(image, clock_.Now() + 1h, acme);
  EXPECT_TRUE(admitted.verdict.verified) << admitted.message;
  EXPECT_EQ(admitted.key_name, "keyless identity 'acme'");

  policy::KeyScope other;
  other.keys = std::vector<std::string>{"release"};
  other.keyless_identities = std::vector<std::string>{"other-team"};
  other.profiles = {"etl/other"};
  const ImageOutcome denied = service->Verify(image, clock_.Now() + 1h, other);
  EXPECT_FALSE(denied.verdict.verified);
  EXPECT_EQ(denied.reason, Reason::kIdentityNotAllowed) << denied.message;
  EXPECT_TRUE(Contains(denied.message, "identity 'other-team'")) << denied.message;
  EXPECT_FALSE(Contains(denied.message, "identity 'acme'")) << denied.message;
}

}  // namespace
}  // namespace pipeguard::imageverify
