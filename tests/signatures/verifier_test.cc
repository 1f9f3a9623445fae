// End-to-end discovery and verification against an in-process registry holding artifacts made as cosign makes them.
#include "pipeguard/signatures/verifier.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "cosign_artifacts.h"
#include "fake_registry.h"
#include "pipeguard/signatures/crypto.h"

namespace pipeguard::signatures {
namespace {

using testing::DsseBundle;
using testing::FakeRegistry;
using testing::ImageDigest;
using testing::InTotoStatement;
using testing::KeyKind;
using testing::PushBundle;
using testing::PushLegacySignature;
using testing::SigningKey;
using testing::SimpleSigningPayload;

constexpr char kBundleType[] = "application/vnd.dev.sigstore.bundle.v0.3+json";

registry::Deadline FarFuture() { return std::chrono::steady_clock::now() + std::chrono::hours(1); }

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

size_t CountCalls(const FakeRegistry& registry, const std::string& prefix) {
  return static_cast<size_t>(std::count_if(registry.calls().begin(), registry.calls().end(),
                                           [&](const std::string& call) { return call.rfind(prefix, 0) == 0; }));
}

class VerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    image_digest_ = registry_.PutManifest("{\"schemaVersion\":2,\"layers\":[]}", "1.0");
    auto keys = TrustedKeySet::Load({{"release", "", signer_.public_pem()}});
    ASSERT_TRUE(keys.ok());
    keys_ = std::make_unique<TrustedKeySet>(std::move(keys).value());
    auto verifier = Verifier::Create(VerifierOptions{});
    ASSERT_TRUE(verifier.ok());
    verifier_ = std::make_unique<Verifier>(std::move(verifier).value());
  }

  VerificationResult Verify(registry::Deadline deadline = FarFuture()) {
    return verifier_->Verify(registry_, image_, *keys_, deadline);
  }
  VerificationResult VerifyWith(const VerifierOptions& options, registry::Deadline deadline = FarFuture()) {
    auto verifier = Verifier::Create(options);
    EXPECT_TRUE(verifier.ok());
    return verifier->Verify(registry_, image_, *keys_, deadline);
  }

  std::string SignedBundle(const SigningKey& key, const std::string& digest,
                           const std::string& predicate = "https://sigstore.dev/cosign/sign/v1") {
    return DsseBundle(key, InTotoStatement(digest, predicate));
  }

  FakeRegistry registry_;
  registry::ImageReference image_{"registry.example.com", "team/app", "1.0", ""};
  std::string image_digest_;
  SigningKey signer_ = SigningKey::Generate(KeyKind::kP256);
  std::unique_ptr<TrustedKeySet> keys_;
  std::unique_ptr<Verifier> verifier_;
};

TEST_F(VerifierTest, LegacySignatureVerifiesAfterResolvingTheTag) {
  PushLegacySignature(registry_, signer_, image_digest_);
  const VerificationResult result = Verify();
  EXPECT_TRUE(result.verified) << result.message;
  EXPECT_EQ(result.reason, Reason::kVerified);
  EXPECT_EQ(result.digest, image_digest_);
  EXPECT_EQ(result.key_name, "release");
  EXPECT_EQ(result.format, SignatureFormat::kSimpleSigning);
  EXPECT_EQ(result.signature_location, "sha256-" + image_digest_.substr(7) + ".sig layer 0");
  EXPECT_TRUE(Contains(result.message, "registry.example.com/team/app:1.0"));
  EXPECT_TRUE(Contains(result.message, image_digest_));
  EXPECT_TRUE(Contains(result.message, "'release'"));
  EXPECT_EQ(registry_.calls().front(), "ResolveDigest 1.0");
  EXPECT_EQ(registry_.blob_limits(), std::vector<size_t>{VerifierOptions{}.max_payload_bytes});
}

TEST_F(VerifierTest, ReferenceWithDigestIsNotResolvedAgain) {
  PushLegacySignature(registry_, signer_, image_digest_);
  image_.digest = image_digest_;
  const VerificationResult result = Verify();
  EXPECT_TRUE(result.verified) << result.message;
  EXPECT_EQ(CountCalls(registry_, "ResolveDigest"), 0u);
  image_.digest = "sha512:abc";
  const VerificationResult bad = Verify();
  EXPECT_EQ(bad.reason, Reason::kMalformed);
  EXPECT_TRUE(Contains(bad.message, "not a sha256 digest"));
}

class VerifierKeyTypeTest : public VerifierTest, public ::testing::WithParamInterface<KeyKind> {};

TEST_P(VerifierKeyTypeTest, BothFormatsVerifyWithEveryKeyType) {
  const SigningKey key = SigningKey::Generate(GetParam());
  auto keys = TrustedKeySet::Load({{"k", "", key.public_pem()}});
  ASSERT_TRUE(keys.ok());

  PushBundle(registry_, SignedBundle(key, image_digest_), image_digest_);
  VerificationResult result = verifier_->Verify(registry_, image_, *keys, FarFuture());
  EXPECT_TRUE(result.verified) << result.message;
  EXPECT_EQ(result.format, SignatureFormat::kSigstoreBundle);
  EXPECT_EQ(result.key_name, "k");

  FakeRegistry legacy_only;
  const std::string digest = legacy_only.PutManifest("{}", "1.0");
  PushLegacySignature(legacy_only, key, digest);
  result = verifier_->Verify(legacy_only, image_, *keys, FarFuture());
  EXPECT_TRUE(result.verified) << result.message;
  EXPECT_EQ(result.format, SignatureFormat::kSimpleSigning);
}

INSTANTIATE_TEST_SUITE_P(AllKeyTypes, VerifierKeyTypeTest,
                         ::testing::Values(KeyKind::kP256, KeyKind::kP384, KeyKind::kRsa2048, KeyKind::kRsa2048Pss,
                                           KeyKind::kEd25519));

TEST_F(VerifierTest, BundleFoundThroughReferrersApiSkipsLegacyLookup) {
  const std::string referrer = PushBundle(registry_, SignedBundle(signer_, image_digest_), image_digest_);
  const VerificationResult result = Verify();
  EXPECT_TRUE(result.verified) << result.message;
  EXPECT_EQ(result.signature_location, "referrer " + referrer);
  EXPECT_EQ(CountCalls(registry_, "GetManifest sha256-"), 0u);  // neither the fallback tag nor .sig
  EXPECT_EQ(registry_.blob_limits(), std::vector<size_t>{VerifierOptions{}.max_bundle_bytes});
}

TEST_F(VerifierTest, NoReferrersApiFallsBackToTheTagSchema) {
  registry_.set_referrers_api(false);
  PushBundle(registry_, SignedBundle(signer_, image_digest_), image_digest_);
  const VerificationResult result = Verify();
  EXPECT_TRUE(result.verified) << result.message;
  EXPECT_EQ(result.format, SignatureFormat::kSigstoreBundle);
  EXPECT_EQ(CountCalls(registry_, "GetManifest sha256-" + image_digest_.substr(7)), 1u);
}

TEST_F(VerifierTest, FallbackDescriptorsWithTheEmptyArtifactTypeAreOpened) {
  // cosign <= 3.0.6 recorded the config media type as the descriptor's artifactType (the Kyverno trap).
  registry_.set_referrers_api(false);
  PushBundle(registry_, SignedBundle(signer_, image_digest_), image_digest_, "application/vnd.oci.empty.v1+json");
  EXPECT_TRUE(Verify().verified);
}

TEST_F(VerifierTest, DescriptorTypesDoNotDecideEachReferrerManifestIsOpened) {
  // The index claims an SBOM, the manifest holds a bundle: opened (after likelier candidates) and verified.
  PushBundle(registry_, SignedBundle(signer_, image_digest_), image_digest_, "application/spdx+json");
  EXPECT_TRUE(Verify().verified);
}

TEST_F(VerifierTest, UnsignedImage) {
  const VerificationResult result = Verify();
  EXPECT_FALSE(result.verified);
  EXPECT_EQ(result.reason, Reason::kNoSignature);
  EXPECT_EQ(result.digest, image_digest_);
  EXPECT_TRUE(result.findings.empty());
  EXPECT_TRUE(Contains(result.message, "registry.example.com/team/app:1.0"));
  EXPECT_TRUE(Contains(result.message, image_digest_));
  EXPECT_TRUE(Contains(result.message, "no signature found"));
}

TEST_F(VerifierTest, NonSignatureReferrersAreIgnored) {
  const std::string sbom = registry_.PutBlob("{\"spdxVersion\":\"SPDX-2.3\"}");
  nlohmann::json manifest = {
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
      {"artifactType", "application/spdx+json"},
      {"config",
       {{"mediaType", "application/vnd.oci.empty.v1+json"}, {"size", 2}, {"digest", "sha256:" + Sha256Hex("{}")}}},
      {"layers", {{{"mediaType", "application/spdx+json"}, {"size", 25}, {"digest", sbom}}}},
      {"subject", {{"digest", image_digest_}}}};
  registry_.PushReferrer(manifest.dump(), image_digest_, "application/spdx+json");
  const VerificationResult result = Verify();
  EXPECT_EQ(result.reason, Reason::kNoSignature);
  EXPECT_EQ(CountCalls(registry_, "GetBlob"), 0u);
}

TEST_F(VerifierTest, SignatureByUntrustedKey) {
  const SigningKey stranger = SigningKey::Generate(KeyKind::kP256);
  PushLegacySignature(registry_, stranger, image_digest_);
  VerificationResult result = Verify();
  EXPECT_EQ(result.reason, Reason::kUntrustedKey);
  EXPECT_TRUE(Contains(result.message, "not signed by a trusted key"));
  EXPECT_TRUE(Contains(result.message, image_digest_));

  PushBundle(registry_, SignedBundle(stranger, image_digest_), image_digest_);
  result = Verify();
  EXPECT_EQ(result.reason, Reason::kUntrustedKey);
  EXPECT_EQ(result.findings.size(), 2u);  // the bundle and the legacy layer were both examined
}

TEST_F(VerifierTest, SignatureForADifferentDigest) {
  // Sign image A, copy its .sig to image B's signature tag.
  const std::string other_digest = registry_.PutManifest("{\"other\":true}", "2.0");
  const std::string payload = SimpleSigningPayload(other_digest);
  registry_.PutBlob(payload);
  registry_.PutManifest(
      testing::SignatureManifest({testing::SimpleSigningLayer(payload, Base64Encode(signer_.Sign(payload)))}),
      "sha256-" + image_digest_.substr(7) + ".sig");
  VerificationResult result = Verify();
  EXPECT_EQ(result.reason, Reason::kDigestMismatch);
  EXPECT_TRUE(Contains(result.message, other_digest));

  PushBundle(registry_, SignedBundle(signer_, other_digest), image_digest_);
  result = Verify();
  EXPECT_EQ(result.reason, Reason::kDigestMismatch);
  EXPECT_EQ(result.findings.size(), 2u);
}

TEST_F(VerifierTest, TamperedBundlePayloadIsAnInvalidSignature) {
  auto bundle = nlohmann::json::parse(SignedBundle(signer_, ImageDigest("original")));
  bundle["dsseEnvelope"]["payload"] = Base64Encode(InTotoStatement(image_digest_));
  PushBundle(registry_, bundle.dump(), image_digest_);
  const VerificationResult result = Verify();
  EXPECT_EQ(result.reason, Reason::kInvalidSignature);
  EXPECT_TRUE(Contains(result.message, "signature invalid"));
}

TEST_F(VerifierTest, TamperedLegacyPayloadDoesNotVerify) {
  // The attacker rewrites the payload for this image and republishes it under its new digest.
  const std::string original = SimpleSigningPayload(ImageDigest("original"));
  const std::string signature = Base64Encode(signer_.Sign(original));
  const std::string forged = SimpleSigningPayload(image_digest_);
  registry_.PutBlob(forged);
  registry_.PutManifest(testing::SignatureManifest({testing::SimpleSigningLayer(forged, signature)}),
                        "sha256-" + image_digest_.substr(7) + ".sig");
  const VerificationResult result = Verify();
  EXPECT_FALSE(result.verified);
  EXPECT_EQ(result.reason, Reason::kUntrustedKey);
  EXPECT_TRUE(Contains(result.message, "altered"));
}

TEST_F(VerifierTest, CorruptedBlobOrManifestFailsItsDigest) {
  PushLegacySignature(registry_, signer_, image_digest_);
  const std::string referrer = PushBundle(registry_, SignedBundle(signer_, image_digest_), image_digest_);
  registry_.CorruptManifest(referrer, "{\"schemaVersion\":2}");
  // The referrer fails its digest; the legacy signature still verifies.
  VerificationResult result = Verify();
  EXPECT_TRUE(result.verified) << result.message;
  ASSERT_GE(result.findings.size(), 1u);
  EXPECT_EQ(result.findings[0].check.reason, Reason::kMalformed);
  EXPECT_TRUE(Contains(result.findings[0].check.detail, "does not match its digest"));
}

TEST_F(VerifierTest, MissingReferrerManifestOrBlobIsMalformedNotAnOutage) {
  PushLegacySignature(registry_, signer_, image_digest_);
  // A referrer whose bundle blob is missing (manifest pushed without its blob).
  const std::string absent_blob = "sha256:" + Sha256Hex("never pushed");
  const std::string referrer = registry_.PushReferrer(testing::BundleReferrerManifest(absent_blob, 12, image_digest_),
                                                      image_digest_, kBundleType);
  VerificationResult result = Verify();
  EXPECT_TRUE(result.verified) << result.message;
  ASSERT_EQ(result.findings.size(), 2u);
  EXPECT_EQ(result.findings[0].location, "referrer " + referrer);
  EXPECT_EQ(result.findings[0].check.reason, Reason::kMalformed);
  EXPECT_TRUE(Contains(result.findings[0].check.detail, "cannot fetch its blob"));
  // A registry answering NotFound for the referrers endpoint is treated as having no referrers API.
  registry_.set_fault([](const std::string& method, const std::string&) -> std::optional<Status> {
    if (method == "GetReferrers") return Status::NotFound("404 page not found");
    return std::nullopt;
  });
  result = Verify();
  EXPECT_TRUE(result.verified) << result.message;
  const std::string fallback_call = "GetManifest sha256-" + image_digest_.substr(7);
  EXPECT_EQ(std::count(registry_.calls().begin(), registry_.calls().end(), fallback_call), 1);
}

TEST_F(VerifierTest, AttestationIsNotAnImageSignature) {
  PushBundle(registry_, SignedBundle(signer_, image_digest_, "https://slsa.dev/provenance/v1"), image_digest_);
  VerificationResult result = Verify();
  EXPECT_FALSE(result.verified);
  EXPECT_EQ(result.reason, Reason::kNotAnImageSignature);
  EXPECT_TRUE(Contains(result.message, "attestation"));
  EXPECT_TRUE(Contains(result.message, "https://slsa.dev/provenance/v1"));
  // An attestation next to a real signature does not get in the way.
  PushBundle(registry_, SignedBundle(signer_, image_digest_), image_digest_);
  result = Verify();
  EXPECT_TRUE(result.verified) << result.message;
}

TEST_F(VerifierTest, MalformedSignatureMaterial) {
  // .sig manifest that is not JSON.
  registry_.PutManifest("{oops", "sha256-" + image_digest_.substr(7) + ".sig");
  EXPECT_EQ(Verify().reason, Reason::kMalformed);
  // Signature annotation that is not base64.
  const std::string payload = SimpleSigningPayload(image_digest_);
  registry_.PutBlob(payload);
  registry_.PutManifest(testing::SignatureManifest({testing::SimpleSigningLayer(payload, "***")}),
                        "sha256-" + image_digest_.substr(7) + ".sig");
  VerificationResult result = Verify();
  EXPECT_EQ(result.reason, Reason::kMalformed);
  EXPECT_TRUE(Contains(result.message, "base64"));
  // Bundle blob that is not JSON.
  PushBundle(registry_, "{\"mediaType\":", image_digest_);
  result = Verify();
  EXPECT_EQ(result.reason, Reason::kMalformed);
  EXPECT_EQ(result.findings.size(), 2u);
}

TEST_F(VerifierTest, TooManyLayersRejectsTheManifestWithoutFetching) {
  const std::string payload = SimpleSigningPayload(image_digest_);
  registry_.PutBlob(payload);
  std::vector<nlohmann::json> layers(65, testing::SimpleSigningLayer(payload, Base64Encode(signer_.Sign(payload))));
  registry_.PutManifest(testing::SignatureManifest(layers), "sha256-" + image_digest_.substr(7) + ".sig");
  const VerificationResult result = Verify();
  EXPECT_EQ(result.reason, Reason::kMalformed);
  EXPECT_TRUE(Contains(result.message, "65 layers"));
  EXPECT_EQ(CountCalls(registry_, "GetBlob"), 0u);

  // Layers sharing one payload blob fetch it once.
  layers.resize(3);
  layers[0]["annotations"]["dev.cosignproject.cosign/signature"] = Base64Encode("bogus");
  layers[1]["annotations"]["dev.cosignproject.cosign/signature"] = Base64Encode("bogus2");
  registry_.PutManifest(testing::SignatureManifest(layers), "sha256-" + image_digest_.substr(7) + ".sig");
  const VerificationResult shared = Verify();
  EXPECT_TRUE(shared.verified) << shared.message;
  EXPECT_EQ(CountCalls(registry_, "GetBlob"), 1u);
  EXPECT_EQ(shared.signature_location, "sha256-" + image_digest_.substr(7) + ".sig layer 2");
}

TEST_F(VerifierTest, OversizedBlobs) {
  VerifierOptions options;
  options.max_bundle_bytes = 512;
  // A bundle larger than the limit, declared honestly: refused before fetching.
  std::string big = SignedBundle(signer_, image_digest_);
  auto padded = nlohmann::json::parse(big);
  padded["padding"] = std::string(1024, 'x');
  PushBundle(registry_, padded.dump(), image_digest_);
  VerificationResult result = VerifyWith(options);
  EXPECT_EQ(result.reason, Reason::kMalformed);
  EXPECT_TRUE(Contains(result.message, "limited to 512 bytes"));
  EXPECT_EQ(CountCalls(registry_, "GetBlob"), 0u);

  // Declared small, served large: the limit is passed to the registry, whose refusal is reported.
  FakeRegistry liar;
  const std::string digest = liar.PutManifest("{}", "1.0");
  const std::string bundle_digest = liar.PutBlob(padded.dump());
  liar.PushReferrer(testing::BundleReferrerManifest(bundle_digest, 100, digest), digest, kBundleType);
  auto verifier = Verifier::Create(options);
  ASSERT_TRUE(verifier.ok());
  result = verifier->Verify(liar, image_, *keys_, FarFuture());
  EXPECT_EQ(result.reason, Reason::kMalformed);
  EXPECT_EQ(liar.blob_limits(), std::vector<size_t>{512});
  // A registry client that ignores the limit is caught by the verifier's own check.
  liar.set_ignore_max_bytes(true);
  result = verifier->Verify(liar, image_, *keys_, FarFuture());
  EXPECT_EQ(result.reason, Reason::kMalformed);
  EXPECT_TRUE(Contains(result.message, "not the declared 100"));
}

TEST_F(VerifierTest, RegistryUnavailable) {
  PushLegacySignature(registry_, signer_, image_digest_);
  registry_.set_fault([](const std::string&, const std::string&) -> std::optional<Status> {
    return Status::Unavailable("connection refused to registry.example.com:443");
  });
  const VerificationResult result = Verify();
  EXPECT_FALSE(result.verified);
  EXPECT_EQ(result.reason, Reason::kRegistryUnreachable);
  EXPECT_TRUE(Contains(result.message, "registry unreachable"));
  EXPECT_TRUE(Contains(result.message, "connection refused"));
  EXPECT_TRUE(Contains(result.message, "registry.example.com/team/app:1.0"));
}

TEST_F(VerifierTest, OutageOnOnePathDoesNotHideAValidSignatureOnTheOther) {
  PushLegacySignature(registry_, signer_, image_digest_);
  registry_.set_fault([](const std::string& method, const std::string&) -> std::optional<Status> {
    if (method == "GetReferrers") return Status::Unavailable("503 from referrers endpoint");
    return std::nullopt;
  });
  EXPECT_TRUE(Verify().verified);
}

TEST_F(VerifierTest, OutageOutranksSignatureFailuresBecauseTheVerdictIsIncomplete) {
  PushLegacySignature(registry_, SigningKey::Generate(KeyKind::kP256), image_digest_);
  registry_.set_fault([](const std::string& method, const std::string&) -> std::optional<Status> {
    if (method == "GetReferrers") return Status::Unavailable("503");
    return std::nullopt;
  });
  const VerificationResult result = Verify();
  EXPECT_EQ(result.reason, Reason::kRegistryUnreachable);
  EXPECT_EQ(result.findings.size(), 1u);
  EXPECT_EQ(result.findings[0].check.reason, Reason::kUntrustedKey);
}

TEST_F(VerifierTest, RegistryDeniesCredentials) {
  registry_.set_fault([](const std::string&, const std::string&) -> std::optional<Status> {
    return Status::PermissionDenied("401 UNAUTHORIZED");
  });
  EXPECT_EQ(Verify().reason, Reason::kRegistryDenied);
}

TEST_F(VerifierTest, ImageNotFound) {
  image_.tag = "missing";
  const VerificationResult result = Verify();
  EXPECT_EQ(result.reason, Reason::kImageNotFound);
  EXPECT_TRUE(result.digest.empty());
  EXPECT_TRUE(Contains(result.message, "registry.example.com/team/app:missing"));
}

TEST_F(VerifierTest, RegistryReportsDeadlineExceeded) {
  PushLegacySignature(registry_, signer_, image_digest_);
  registry_.set_fault([](const std::string& method, const std::string&) -> std::optional<Status> {
    if (method == "GetBlob" || method == "GetReferrers") return Status::DeadlineExceeded("request timed out");
    return std::nullopt;
  });
  const VerificationResult result = Verify();
  EXPECT_FALSE(result.verified);
  EXPECT_EQ(result.reason, Reason::kTimedOut);
  EXPECT_TRUE(Contains(result.message, "timed out"));
}

TEST_F(VerifierTest, DeadlineAlreadyPassedMakesNoRegistryCalls) {
  PushLegacySignature(registry_, signer_, image_digest_);
  const VerificationResult result = Verify(std::chrono::steady_clock::now() - std::chrono::seconds(1));
  EXPECT_EQ(result.reason, Reason::kTimedOut);
  EXPECT_TRUE(registry_.calls().empty());
}

TEST_F(VerifierTest, DeadlinePassingMidwayStopsAtTheNextCall) {
  PushLegacySignature(registry_, signer_, image_digest_);
  // An injected clock that advances one second per reading; the deadline allows two readings.
  auto now = std::make_shared<registry::Deadline>(registry::Deadline{});
  VerifierOptions options;
  options.clock = [now] {
    *now += std::chrono::seconds(1);
    return *now;
  };
  const VerificationResult result = VerifyWith(options, registry::Deadline{} + std::chrono::milliseconds(2500));
  EXPECT_EQ(result.reason, Reason::kTimedOut);
  EXPECT_EQ(registry_.calls().size(), 2u);  // ResolveDigest, GetReferrers; then out of time
}

TEST_F(VerifierTest, LegacyLayersPushedAsOciReferrerVerify) {
  // COSIGN_EXPERIMENTAL=1 --registry-referrers-mode=oci-1-1: legacy layers in a referrer artifact.
  const std::string payload = SimpleSigningPayload(image_digest_);
  registry_.PutBlob(payload);
  auto manifest = nlohmann::json::parse(
      testing::SignatureManifest({testing::SimpleSigningLayer(payload, Base64Encode(signer_.Sign(payload)))}));
  manifest["artifactType"] = "application/vnd.dev.cosign.artifact.sig.v1+json";
  manifest["subject"] = {{"digest", image_digest_}};
  const std::string referrer =
      registry_.PushReferrer(manifest.dump(), image_digest_, "application/vnd.dev.cosign.artifact.sig.v1+json");
  const VerificationResult result = Verify();
  EXPECT_TRUE(result.verified) << result.message;
  EXPECT_EQ(result.format, SignatureFormat::kSimpleSigning);
  EXPECT_EQ(result.signature_location, "referrer " + referrer + " layer 0");
}

TEST_F(VerifierTest, ReferrerCountIsCapped) {
  VerifierOptions options;
  options.max_referrers = 2;
  for (int i = 0; i < 3; ++i)
    PushBundle(registry_, SignedBundle(signer_, ImageDigest(std::to_string(i))), image_digest_);
  PushBundle(registry_, SignedBundle(signer_, image_digest_), image_digest_);  // the fourth: never opened
  const VerificationResult result = VerifyWith(options);
  EXPECT_FALSE(result.verified);
  EXPECT_EQ(CountCalls(registry_, "GetManifest sha256:"), 2u);
}

TEST_F(VerifierTest, CreateValidatesOptionsAndFingerprintTracksThem) {
  VerifierOptions needs_log;
  needs_log.require_tlog = true;
  EXPECT_FALSE(Verifier::Create(needs_log).ok());
  VerifierOptions zero;
  zero.max_referrers = 0;
  EXPECT_FALSE(Verifier::Create(zero).ok());
  VerifierOptions attestations;
  attestations.image_signature_predicate_types.push_back("https://slsa.dev/provenance/v1");
  auto a = Verifier::Create(VerifierOptions{});
  auto b = Verifier::Create(VerifierOptions{});
  auto c = Verifier::Create(attestations);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->fingerprint(), b->fingerprint());
  EXPECT_NE(a->fingerprint(), c->fingerprint());
}

TEST_F(VerifierTest, RekorSetRequiredForLegacySignatures) {
  const SigningKey log_key = SigningKey::Generate(KeyKind::kP256);
  auto logs = RekorKeySet::FromPem({log_key.public_pem()});
  ASSERT_TRUE(logs.ok());
  VerifierOptions options;
  options.rekor = *logs;
  options.require_tlog = true;
  PushLegacySignature(registry_, signer_, image_digest_);  // no dev.sigstore.cosign/bundle annotation
  const VerificationResult result = VerifyWith(options);
  EXPECT_EQ(result.reason, Reason::kInvalidSignature);
  EXPECT_TRUE(Contains(result.message, "transparency log"));
}

}  // namespace
}  // namespace pipeguard::signatures
