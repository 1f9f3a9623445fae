// Keyless verification: the real public-good vectors (data/real_*.json with the pinned 2026 trusted root), each
// denial reason on a real bundle, the identity policy, trusted_root.json parsing, and the Verifier and legacy
// `.sig` plumbing with a miniature Sigstore (test_fulcio.h).
#include "pipeguard/signatures/keyless.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fake_registry.h"
#include "pipeguard/signatures/fulcio_certificate.h"
#include "pipeguard/signatures/identity.h"
#include "pipeguard/signatures/trusted_root.h"
#include "pipeguard/signatures/verifier.h"
#include "test_fulcio.h"

namespace pipeguard::signatures {
namespace {

using testing::FakeRegistry;
using testing::IssuedLeaf;
using testing::LeafOptions;
using testing::TestFulcio;

std::string ReadData(const std::string& name) {
  std::ifstream file(std::string(PIPEGUARD_TEST_DATA) + "/signatures/data/" + name, std::ios::binary);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

KeylessIdentity Exact(std::string name, std::string subject, std::string issuer) {
  KeylessIdentity identity;
  identity.name = std::move(name);
  identity.subject.exact = std::move(subject);
  identity.issuer.exact = std::move(issuer);
  return identity;
}

IdentityPolicy Policy(std::vector<KeylessIdentity> identities) {
  auto policy = IdentityPolicy::Create(std::move(identities));
  if (!policy.ok()) throw std::runtime_error(policy.status().message());
  return std::move(policy).value();
}

TrustedRoot Root(const std::string& json) {
  auto root = TrustedRoot::Parse(json);
  if (!root.ok()) throw std::runtime_error(root.status().message());
  return std::move(root).value();
}

CheckOptions AnyPredicate() {
  CheckOptions options;
  options.image_signature_predicate_types.clear();
  return options;
}

// ---- Real public-good vectors -------------------------------------------------------------------------------

constexpr std::string_view kDsseSubject = "sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4";
constexpr std::string_view kLegacyDigest = "sha256:a9d3ea83979bfa3522d59064c32473ed3bac88f62c36b3dd243fefe95dec6da0";
constexpr std::string_view kMinderWorkflow =
    "https://github.com/stacklok/minder/.github/workflows/chart-publish.yml@refs/heads/main";

class RealKeylessVectors : public ::testing::Test {
 protected:
  RealKeylessVectors()
      : root_(Root(ReadData("trusted_root_pgi_2026.json"))),
        dsse_bundle_(ReadData("real_v03_dsse_fulcio_rekorv1.sigstore.json")),
        legacy_bundle_(ReadData("real_legacy_hashedrekord_as_v01_bundle.json")),
        email_(Policy({Exact("cody", "cody@soyland.com", "https://github.com/login/oauth")})),
        minder_(
            Policy({Exact("minder", std::string(kMinderWorkflow), "https://token.actions.githubusercontent.com")})) {}

  SignatureCheck Dsse(const std::string& bundle, const IdentityPolicy& identities,
                      std::string_view digest = kDsseSubject, const TrustedRoot* root = nullptr,
                      bool require_sct = true) const {
    KeylessTrust trust;
    trust.root = root != nullptr ? root : &root_;
    trust.identities = &identities;
    trust.require_sct = require_sct;
    return CheckKeylessBundle(bundle, digest, trust, AnyPredicate());
  }

  TrustedRoot root_;
  std::string dsse_bundle_;
  std::string legacy_bundle_;
  IdentityPolicy email_;
  IdentityPolicy minder_;
};

TEST_F(RealKeylessVectors, V03DsseBundleVerifiesWithEmailIdentity) {
  const SignatureCheck check = Dsse(dsse_bundle_, email_);
  EXPECT_TRUE(check.verified()) << check.failed_check << ": " << check.detail;
  EXPECT_EQ(check.key_name, "keyless identity 'cody'");
  EXPECT_TRUE(check.tlog_verified);
  EXPECT_TRUE(check.failed_check.empty());
}

TEST_F(RealKeylessVectors, LegacyHashedRekordV01BundleVerifiesWithWorkflowIdentity) {
  const SignatureCheck check = Dsse(legacy_bundle_, minder_, kLegacyDigest);
  EXPECT_TRUE(check.verified()) << check.failed_check << ": " << check.detail;
}

TEST_F(RealKeylessVectors, ImageSignaturePredicateTypesApplyToKeylessDsse) {
  // The real statement is a cosign attestation (predicate https://cosign.sigstore.dev/attestation/v1), so an image
  // verifier that accepts only the cosign sign predicate rejects it.
  KeylessTrust trust{&root_, &email_};
  const SignatureCheck check = CheckKeylessBundle(dsse_bundle_, kDsseSubject, trust, CheckOptions{});
  EXPECT_EQ(check.reason, Reason::kNotAnImageSignature);
  EXPECT_EQ(check.failed_check, "artifact");
}

TEST_F(RealKeylessVectors, WrongIdentityIsDeniedNamingTheCertificateClaims) {
  const IdentityPolicy other = Policy({Exact("release", "someone@example.com", "https://github.com/login/oauth")});
  const SignatureCheck check = Dsse(dsse_bundle_, other);
  EXPECT_EQ(check.reason, Reason::kIdentityNotAllowed);
  EXPECT_EQ(check.failed_check, "identity");
  EXPECT_EQ(check.detail.rfind("keyless identity check: certificate subject 'cody@soyland.com'", 0), 0u)
      << check.detail;
  EXPECT_NE(check.detail.find("identity 'release': subject does not match"), std::string::npos) << check.detail;
}

TEST_F(RealKeylessVectors, WrongIssuerIsDenied) {
  const IdentityPolicy other = Policy({Exact("cody", "cody@soyland.com", "https://accounts.google.com")});
  const SignatureCheck check = Dsse(dsse_bundle_, other);
  EXPECT_EQ(check.failed_check, "identity");
  EXPECT_NE(check.detail.find("issuer does not match"), std::string::npos) << check.detail;
}

TEST_F(RealKeylessVectors, WrongArtifactIsDenied) {
  const SignatureCheck check = Dsse(dsse_bundle_, email_, "sha256:" + std::string(64, 'a'));
  EXPECT_EQ(check.reason, Reason::kDigestMismatch);
  EXPECT_EQ(check.failed_check, "artifact");
}

TEST_F(RealKeylessVectors, TamperedSignatureIsDenied) {
  auto bundle = nlohmann::json::parse(dsse_bundle_);
  std::string sig = *Base64Decode(bundle["dsseEnvelope"]["signatures"][0]["sig"].get<std::string>());
  sig[sig.size() - 3] ^= 0x01;
  bundle["dsseEnvelope"]["signatures"][0]["sig"] = Base64Encode(sig);
  const SignatureCheck check = Dsse(bundle.dump(), email_);
  EXPECT_EQ(check.reason, Reason::kInvalidSignature);
  EXPECT_EQ(check.failed_check, "signature");
}

TEST_F(RealKeylessVectors, AlteredIntegratedTimeBreaksTheSet) {
  auto bundle = nlohmann::json::parse(dsse_bundle_);
  bundle["verificationMaterial"]["tlogEntries"][0]["integratedTime"] = "1740770300";
  const SignatureCheck check = Dsse(bundle.dump(), email_);
  EXPECT_EQ(check.reason, Reason::kInvalidSignature);
  EXPECT_EQ(check.failed_check, "tlog");
}

TEST_F(RealKeylessVectors, RootWithoutTheFulcioCaDeniesTheChain) {
  auto json = nlohmann::json::parse(ReadData("trusted_root_pgi_2026.json"));
  json["certificateAuthorities"].erase(1);  // keep only the 2021-2022 CA, which did not issue this certificate
  const TrustedRoot root = Root(json.dump());
  const SignatureCheck check = Dsse(dsse_bundle_, email_, kDsseSubject, &root);
  EXPECT_EQ(check.reason, Reason::kUntrustedCertificate);
  EXPECT_EQ(check.failed_check, "certificate-chain");
}

TEST_F(RealKeylessVectors, RootWithoutCtLogsDeniesTheSctUnlessDisabled) {
  auto json = nlohmann::json::parse(ReadData("trusted_root_pgi_2026.json"));
  json.erase("ctlogs");
  const TrustedRoot root = Root(json.dump());
  const SignatureCheck check = Dsse(dsse_bundle_, email_, kDsseSubject, &root);
  EXPECT_EQ(check.reason, Reason::kUntrustedCertificate);
  EXPECT_EQ(check.failed_check, "sct");
  EXPECT_TRUE(Dsse(dsse_bundle_, email_, kDsseSubject, &root, /*require_sct=*/false).verified());
}

TEST_F(RealKeylessVectors, RekorLogOutsideItsValidityWindowIsDenied) {
  auto json = nlohmann::json::parse(ReadData("trusted_root_pgi_2026.json"));
  json["tlogs"][0]["publicKey"]["validFor"]["end"] = "2024-01-01T00:00:00Z";
  const TrustedRoot root = Root(json.dump());
  const SignatureCheck check = Dsse(dsse_bundle_, email_, kDsseSubject, &root);
  EXPECT_EQ(check.failed_check, "tlog");
  EXPECT_NE(check.detail.find("outside the trusted validity"), std::string::npos) << check.detail;
}

TEST_F(RealKeylessVectors, KeyBasedBundleIsLeftToTheKeyVerifier) {
  auto bundle = nlohmann::json::parse(dsse_bundle_);
  bundle["verificationMaterial"].erase("certificate");
  bundle["verificationMaterial"]["publicKey"] = {{"hint", "abc"}};
  const SignatureCheck check = Dsse(bundle.dump(), email_);
  EXPECT_EQ(check.reason, Reason::kUntrustedKey);
  EXPECT_EQ(check.failed_check, "certificate");
}

TEST_F(RealKeylessVectors, MutatedMaterialNeverVerifies) {
  // Hostile input: single-byte flips and truncations across the certificate, signature, SET and checkpoint. Every
  // variant must be rejected with a reason (and, under the sanitizers, without a memory error).
  const auto original = nlohmann::json::parse(dsse_bundle_);
  const auto mutate = [&](const nlohmann::json::json_pointer& field, bool base64, size_t position, bool truncate) {
    nlohmann::json bundle = original;
    std::string bytes = base64 ? *Base64Decode(bundle[field].get<std::string>()) : bundle[field].get<std::string>();
    if (bytes.empty()) return;
    size_t at = position % bytes.size();
    if (truncate) {
      if (!base64) {
        while (at > 0 && (static_cast<unsigned char>(bytes[at]) & 0xc0) == 0x80) --at;  // whole characters only
      }
      bytes.resize(at);
    } else {
      // Text fields stay valid UTF-8 (ASCII flips only); decoded fields take any byte.
      if (!base64 && (static_cast<unsigned char>(bytes[at]) & 0x80) != 0) return;
      bytes[at] = static_cast<char>(bytes[at] ^ (base64 ? 0x5a : 0x01));
    }
    bundle[field] = base64 ? Base64Encode(bytes) : bytes;
    const SignatureCheck check = Dsse(bundle.dump(), email_);
    EXPECT_FALSE(check.verified()) << field.to_string() << " byte " << at << (truncate ? " truncated" : " flipped");
    EXPECT_FALSE(check.failed_check.empty());
  };
  const std::vector<std::pair<std::string, bool>> fields = {
      {"/verificationMaterial/certificate/rawBytes", true},
      {"/dsseEnvelope/signatures/0/sig", true},
      {"/dsseEnvelope/payload", true},
      {"/verificationMaterial/tlogEntries/0/inclusionPromise/signedEntryTimestamp", true},
      {"/verificationMaterial/tlogEntries/0/canonicalizedBody", true},
      {"/verificationMaterial/tlogEntries/0/inclusionProof/checkpoint/envelope", false},
  };
  for (const auto& [field, base64] : fields) {
    for (size_t position = 0; position < 4000; position += 37) {
      mutate(nlohmann::json::json_pointer(field), base64, position, false);
    }
    for (size_t position = 1; position < 800; position += 97) {
      mutate(nlohmann::json::json_pointer(field), base64, position, true);
    }
  }
}

TEST_F(RealKeylessVectors, CertificateClaimsAreRead) {
  const auto bundle = nlohmann::json::parse(legacy_bundle_);
  const std::string der = *Base64Decode(
      bundle["verificationMaterial"]["x509CertificateChain"]["certificates"][0]["rawBytes"].get<std::string>());
  auto cert = FulcioCertificate::FromDer(der);
  ASSERT_TRUE(cert.ok()) << cert.status().message();
  const CertificateIdentity& identity = cert->identity();
  EXPECT_EQ(identity.san_uris, std::vector<std::string>{std::string(kMinderWorkflow)});
  EXPECT_EQ(identity.issuer, "https://token.actions.githubusercontent.com");
  EXPECT_EQ(identity.extensions.at("githubWorkflowTrigger"), "push");  // deprecated raw form
  EXPECT_EQ(identity.extensions.at("githubWorkflowRepository"), "stacklok/minder");
  EXPECT_EQ(identity.extensions.at("sourceRepositoryUri"), "https://github.com/stacklok/minder");  // DER form
  EXPECT_EQ(identity.extensions.at("sourceRepositoryRef"), "refs/heads/main");
  EXPECT_EQ(identity.extensions.at("sourceRepositoryIdentifier"), "624056558");
  EXPECT_EQ(identity.extensions.at("runnerEnvironment"), "github-hosted");
  EXPECT_EQ(identity.extensions.at("buildTrigger"), "push");
  EXPECT_EQ(identity.extensions.at("sourceRepositoryVisibilityAtSigning"), "public");
  EXPECT_EQ(identity.extensions.count("deploymentEnvironment"), 0u);
  EXPECT_TRUE(cert->code_signing());
  EXPECT_FALSE(cert->is_ca());
  EXPECT_EQ(cert->not_after() - cert->not_before(), 600);
}

// ---- A real local Sigstore: Fulcio (kubernetes issuer), Rekor v2, timestamp authority ------------------------
// real_local_k8s_rekorv2.sigstore.json was written by the real cosign v3.1.3 against the servers of
// scripts/sigstore/start.sh (Fulcio v1.8.8 with an ephemeral CA trusting a kube-apiserver's service-account
// issuer, rekor-tiles v2.3.0, timestamp-authority v2.1.3), signed with a token of ServiceAccount etl/release;
// trusted_root_local_k8s_rekorv2.json is what start.sh wrote for them (cosign trusted-root create). It is the first
// entry of its log, so protojson omitted logIndex (0), and the log's base URL has a port that its checkpoint
// origin (the host name) does not.

constexpr std::string_view kLocalDigest = "sha256:d332ce1db96a2321df0d6ee2fadca3417fa164e020406dc630c7528b76b899a5";
constexpr std::string_view kLocalIssuer = "https://127.0.0.1:27247";
constexpr std::string_view kLocalSubject = "https://kubernetes.io/namespaces/etl/serviceaccounts/release";

class LocalSigstoreVector : public ::testing::Test {
 protected:
  LocalSigstoreVector()
      : root_json_(ReadData("trusted_root_local_k8s_rekorv2.json")),
        bundle_(ReadData("real_local_k8s_rekorv2.sigstore.json")),
        release_(Policy({Exact("etl-release", std::string(kLocalSubject), std::string(kLocalIssuer))})) {}

  SignatureCheck Check(const std::string& bundle, const std::string& root_json) const {
    const TrustedRoot root = Root(root_json);
    KeylessTrust trust;
    trust.root = &root;
    trust.identities = &release_;
    trust.require_sct = false;  // a Fulcio without a CT log
    return CheckKeylessBundle(bundle, kLocalDigest, trust, CheckOptions{});
  }

  std::string root_json_;
  std::string bundle_;
  IdentityPolicy release_;
};

TEST_F(LocalSigstoreVector, Rekorv2BundleOfAServiceAccountVerifies) {
  const auto bundle = nlohmann::json::parse(bundle_);
  const auto& entry = bundle["verificationMaterial"]["tlogEntries"][0];
  ASSERT_FALSE(entry.contains("logIndex"));  // what makes this vector a regression test
  ASSERT_FALSE(entry["inclusionProof"].contains("logIndex"));
  const SignatureCheck check = Check(bundle_, root_json_);
  EXPECT_TRUE(check.verified()) << check.failed_check << ": " << check.detail;
  EXPECT_EQ(check.key_name, "keyless identity 'etl-release'");
  EXPECT_TRUE(check.tlog_verified);
}

TEST_F(LocalSigstoreVector, AnExplicitZeroLogIndexIsTheSameAndAMalformedOneIsRejected) {
  auto bundle = nlohmann::json::parse(bundle_);
  bundle["verificationMaterial"]["tlogEntries"][0]["logIndex"] = "0";
  bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["logIndex"] = "0";
  SignatureCheck check = Check(bundle.dump(), root_json_);
  EXPECT_TRUE(check.verified()) << check.failed_check << ": " << check.detail;
  bundle["verificationMaterial"]["tlogEntries"][0]["logIndex"] = "zero";
  check = Check(bundle.dump(), root_json_);
  EXPECT_FALSE(check.verified());
  EXPECT_NE(check.detail.find("logIndex"), std::string::npos) << check.detail;
}

TEST_F(LocalSigstoreVector, CheckpointOriginIsTheBaseUrlsHostName) {
  auto root = nlohmann::json::parse(root_json_);
  const std::string base_url = root["tlogs"][0]["baseUrl"].get<std::string>();
  ASSERT_EQ(base_url.rfind("http://127.0.0.1:", 0), 0u) << base_url;
  for (const std::string other : {"http://rekor.example.com:8080", "http://127.0.0.2", "http://[::1]:3000"}) {
    root["tlogs"][0]["baseUrl"] = other;
    const SignatureCheck check = Check(bundle_, root.dump());
    EXPECT_FALSE(check.verified()) << other;
    EXPECT_EQ(check.failed_check, "tlog") << other;
  }
  for (const std::string same : {"http://127.0.0.1", "https://127.0.0.1/api", "http://user@127.0.0.1:1/"}) {
    root["tlogs"][0]["baseUrl"] = same;
    const SignatureCheck check = Check(bundle_, root.dump());
    EXPECT_TRUE(check.verified()) << same << ": " << check.detail;
  }
}

TEST_F(LocalSigstoreVector, AnotherServiceAccountIsNotAllowed) {
  const TrustedRoot root = Root(root_json_);
  const IdentityPolicy intern = Policy(
      {Exact("etl-intern", "https://kubernetes.io/namespaces/etl/serviceaccounts/intern", std::string(kLocalIssuer))});
  KeylessTrust trust;
  trust.root = &root;
  trust.identities = &intern;
  trust.require_sct = false;
  const SignatureCheck check = CheckKeylessBundle(bundle_, kLocalDigest, trust, CheckOptions{});
  EXPECT_FALSE(check.verified());
  EXPECT_EQ(check.failed_check, "identity");
  EXPECT_NE(check.detail.find(std::string(kLocalSubject)), std::string::npos) << check.detail;
}

TEST_F(LocalSigstoreVector, WithoutSctRequirementDisabledTheMissingSctDenies) {
  const TrustedRoot root = Root(root_json_);
  KeylessTrust trust;
  trust.root = &root;
  trust.identities = &release_;
  const SignatureCheck check = CheckKeylessBundle(bundle_, kLocalDigest, trust, CheckOptions{});
  EXPECT_FALSE(check.verified());
  EXPECT_EQ(check.failed_check, "sct");
}

// ---- Identity policy -----------------------------------------------------------------------------------------

CertificateIdentity GithubIdentity() {
  CertificateIdentity identity;
  identity.san_uris = {"https://github.com/acme/pipelines/.github/workflows/release.yml@refs/tags/v1.2.3"};
  identity.issuer = "https://token.actions.githubusercontent.com";
  identity.extensions = {{"sourceRepositoryUri", "https://github.com/acme/pipelines"},
                         {"sourceRepositoryRef", "refs/tags/v1.2.3"},
                         {"buildTrigger", "push"}};
  return identity;
}

KeylessIdentity RegexIdentity(std::string subject_regex) {
  KeylessIdentity identity;
  identity.name = "release";
  identity.subject.regex = std::move(subject_regex);
  identity.issuer.exact = "https://token.actions.githubusercontent.com";
  return identity;
}

TEST(IdentityPolicyTest, ExactSubjectAndIssuerMatch) {
  const auto policy = Policy({Exact("r", GithubIdentity().san_uris[0], "https://token.actions.githubusercontent.com")});
  const IdentityMatch match = policy.Match(GithubIdentity());
  EXPECT_TRUE(match.matched);
  EXPECT_EQ(match.identity_name, "r");
}

TEST(IdentityPolicyTest, RegularExpressionsAreAnchored) {
  const CertificateIdentity identity = GithubIdentity();
  EXPECT_TRUE(Policy({RegexIdentity(
                         R"(https://github\.com/acme/pipelines/\.github/workflows/release\.yml@refs/tags/v[0-9.]+)")})
                  .Match(identity)
                  .matched);
  // A prefix or a suffix alone does not match the whole value.
  EXPECT_FALSE(Policy({RegexIdentity(R"(https://github\.com/acme/)")}).Match(identity).matched);
  EXPECT_FALSE(Policy({RegexIdentity(R"(release\.yml@refs/tags/v1\.2\.3)")}).Match(identity).matched);
  CertificateIdentity fork = identity;
  fork.san_uris = {"https://github.com/acme/pipelines-evil/.github/workflows/release.yml@refs/tags/v1"};
  EXPECT_FALSE(Policy({RegexIdentity(R"(https://github\.com/acme/pipelines/.*)")}).Match(fork).matched);
}

TEST(IdentityPolicyTest, IssuerRegexAndAnySanValue) {
  KeylessIdentity identity = Exact("mail", "ops@example.com", "");
  identity.issuer.regex = R"(https://accounts\.google\.com|https://github\.com/login/oauth)";
  CertificateIdentity cert;
  cert.san_uris = {"https://example.com/other"};
  cert.san_emails = {"ops@example.com"};
  cert.issuer = "https://github.com/login/oauth";
  EXPECT_TRUE(Policy({identity}).Match(cert).matched);
  cert.issuer = "https://github.com/login/oauth.evil";
  EXPECT_FALSE(Policy({identity}).Match(cert).matched);
}

TEST(IdentityPolicyTest, ExtensionsMustMatchExactly) {
  KeylessIdentity identity = RegexIdentity(R"(https://github\.com/acme/.*)");
  identity.extensions = {{"sourceRepositoryUri", "https://github.com/acme/pipelines"}, {"buildTrigger", "push"}};
  EXPECT_TRUE(Policy({identity}).Match(GithubIdentity()).matched);

  identity.extensions["sourceRepositoryRef"] = "refs/heads/main";
  const IdentityMatch wrong_ref = Policy({identity}).Match(GithubIdentity());
  EXPECT_FALSE(wrong_ref.matched);
  EXPECT_NE(wrong_ref.detail.find("extension sourceRepositoryRef is 'refs/tags/v1.2.3', not 'refs/heads/main'"),
            std::string::npos)
      << wrong_ref.detail;

  identity.extensions = {{"deploymentEnvironment", "production"}};
  const IdentityMatch missing = Policy({identity}).Match(GithubIdentity());
  EXPECT_FALSE(missing.matched);
  EXPECT_NE(missing.detail.find("has no extension deploymentEnvironment"), std::string::npos) << missing.detail;
}

TEST(IdentityPolicyTest, AnyIdentityMayMatchAndFailuresAreListedPerIdentity) {
  const auto policy = Policy({Exact("a", "x@example.com", "https://token.actions.githubusercontent.com"),
                              RegexIdentity(R"(https://github\.com/acme/pipelines/.*)")});
  const IdentityMatch match = policy.Match(GithubIdentity());
  EXPECT_TRUE(match.matched);
  EXPECT_EQ(match.identity_name, "release");
  CertificateIdentity other = GithubIdentity();
  other.san_uris = {"https://github.com/other/repo/.github/workflows/x.yml@refs/heads/main"};
  const IdentityMatch none = policy.Match(other);
  EXPECT_FALSE(none.matched);
  EXPECT_NE(none.detail.find("identity 'a': subject does not match; identity 'release': subject does not match"),
            std::string::npos)
      << none.detail;
}

TEST(IdentityPolicyTest, InvalidConfigurationsAreRefusedWithTheIdentityNamed) {
  EXPECT_FALSE(IdentityPolicy::Create({}).ok());
  KeylessIdentity both = Exact("both", "a", "b");
  both.subject.regex = "a.*";
  auto status = IdentityPolicy::Create({both}).status();
  EXPECT_NE(status.message().find("'both' subject: set exactly one"), std::string::npos) << status.message();
  KeylessIdentity no_issuer = Exact("noiss", "a", "");
  EXPECT_FALSE(IdentityPolicy::Create({no_issuer}).ok());
  status = IdentityPolicy::Create({RegexIdentity("(unclosed")}).status();
  EXPECT_NE(status.message().find("does not compile"), std::string::npos) << status.message();
  KeylessIdentity unknown = Exact("u", "a", "b");
  unknown.extensions = {{"sourceRepo", "x"}};
  status = IdentityPolicy::Create({unknown}).status();
  EXPECT_NE(status.message().find("unknown certificate extension 'sourceRepo'"), std::string::npos);
  EXPECT_NE(status.message().find("sourceRepositoryUri"), std::string::npos);
}

TEST(IdentityPolicyTest, FingerprintChangesWithAnyMatcher) {
  const auto a = Policy({Exact("a", "x", "y")});
  EXPECT_EQ(a.fingerprint(), Policy({Exact("a", "x", "y")}).fingerprint());
  EXPECT_NE(a.fingerprint(), Policy({Exact("a", "x", "z")}).fingerprint());
  KeylessIdentity with_extension = Exact("a", "x", "y");
  with_extension.extensions = {{"buildTrigger", "push"}};
  EXPECT_NE(a.fingerprint(), Policy({with_extension}).fingerprint());
}

// ---- trusted_root.json ---------------------------------------------------------------------------------------

TEST(TrustedRootTest, ParsesThePublicGoodRoot) {
  const TrustedRoot root = Root(ReadData("trusted_root_pgi_2026.json"));
  ASSERT_EQ(root.certificate_authorities().size(), 2u);
  EXPECT_EQ(root.certificate_authorities()[1].chain_der.size(), 2u);
  EXPECT_FALSE(root.certificate_authorities()[1].valid_for.end.has_value());
  EXPECT_EQ(root.certificate_authorities()[0].valid_for.end, 1672531199);  // 2022-12-31T23:59:59.999Z
  ASSERT_EQ(root.tlogs().size(), 2u);
  EXPECT_EQ(root.tlogs()[0].log_id_hex, "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d");
  EXPECT_EQ(root.ctlogs().size(), 2u);
  EXPECT_EQ(root.ctlogs()[1].log_id_hex, "dd3d306ac6c7113263191e1c99673702a24a5eb8de3cadff878a72802f29ee8e");
  EXPECT_EQ(root.timestamp_authorities().size(), 1u);
  EXPECT_EQ(root.fingerprint().size(), 64u);
}

TEST(TrustedRootTest, ValidityEndsAreInclusive) {
  ValidityWindow window{100, 200};
  EXPECT_TRUE(window.Contains(100));
  EXPECT_TRUE(window.Contains(200));
  EXPECT_FALSE(window.Contains(99));
  EXPECT_FALSE(window.Contains(201));
  EXPECT_TRUE((ValidityWindow{100, std::nullopt}.Contains(1LL << 40)));
}

TEST(TrustedRootTest, ErrorsNameTheEntryAndField) {
  auto json = nlohmann::json::parse(ReadData("trusted_root_pgi_2026.json"));
  json["tlogs"][1]["publicKey"]["validFor"].erase("start");
  auto status = TrustedRoot::Parse(json.dump()).status();
  EXPECT_EQ(status.message(), "tlogs[1].publicKey.validFor.start is missing");
  json = nlohmann::json::parse(ReadData("trusted_root_pgi_2026.json"));
  json["certificateAuthorities"][0]["certChain"]["certificates"][0]["rawBytes"] = "%%%";
  status = TrustedRoot::Parse(json.dump()).status();
  EXPECT_NE(status.message().find("certificateAuthorities[0].certChain.certificates[0].rawBytes"), std::string::npos);
  EXPECT_FALSE(TrustedRoot::Parse("{}").ok());
  EXPECT_FALSE(TrustedRoot::Parse("not json").ok());
  EXPECT_EQ(TrustedRoot::Load("/nonexistent/trusted_root.json").status().code(), StatusCode::kNotFound);
}

// ---- Miniature Sigstore: certificate rules, Verifier plumbing, legacy .sig -----------------------------------

constexpr int64_t kSigningTime = 1785412560;  // inside LeafOptions' default validity

class MiniSigstore : public ::testing::Test {
 protected:
  MiniSigstore()
      : root_(Root(fulcio_.TrustedRootJson())), identities_(Policy({[] {
          KeylessIdentity identity = RegexIdentity(R"(https://github\.com/acme/pipelines/\.github/workflows/.*)");
          identity.extensions = {{"sourceRepositoryRef", "refs/heads/main"}};
          return identity;
        }()})) {}

  SignatureCheck CheckDsse(const IssuedLeaf& leaf, int64_t integrated_time = kSigningTime) const {
    KeylessTrust trust{&root_, &identities_};
    const std::string digest = testing::ImageDigest("app");
    return CheckKeylessBundle(fulcio_.DsseBundle(leaf, digest, integrated_time), digest, trust, CheckOptions{});
  }

  VerifierOptions KeylessOptions() const {
    VerifierOptions options;
    options.keyless = std::make_shared<const KeylessVerification>(KeylessVerification{root_, identities_, true});
    return options;
  }

  TestFulcio fulcio_;
  TrustedRoot root_;
  IdentityPolicy identities_;
};

TEST_F(MiniSigstore, AllowedWorkflowVerifies) {
  const SignatureCheck check = CheckDsse(fulcio_.Issue());
  EXPECT_TRUE(check.verified()) << check.failed_check << ": " << check.detail;
  EXPECT_EQ(check.key_name, "keyless identity 'release'");
}

TEST_F(MiniSigstore, CertificateExpiredAtTheSigningTimeIsDenied) {
  const SignatureCheck check = CheckDsse(fulcio_.Issue(), kSigningTime + 3600);
  EXPECT_EQ(check.reason, Reason::kUntrustedCertificate);
  EXPECT_EQ(check.failed_check, "signing-time");
}

TEST_F(MiniSigstore, IntegratedTimeInTheFutureIsDenied) {
  LeafOptions options;
  options.not_before = 4102444800;  // 2100
  const IssuedLeaf leaf = fulcio_.Issue(options);
  const SignatureCheck check = CheckDsse(leaf, options.not_before + 60);
  EXPECT_EQ(check.failed_check, "signing-time");
  EXPECT_NE(check.detail.find("in the future"), std::string::npos) << check.detail;
}

TEST_F(MiniSigstore, NonCodeSigningCertificateIsDenied) {
  LeafOptions options;
  options.code_signing = false;
  const SignatureCheck check = CheckDsse(fulcio_.Issue(options));
  EXPECT_EQ(check.reason, Reason::kUntrustedCertificate);
  EXPECT_EQ(check.failed_check, "certificate");
}

TEST_F(MiniSigstore, CertificateWithoutSctIsDenied) {
  LeafOptions options;
  options.embed_sct = false;
  const SignatureCheck check = CheckDsse(fulcio_.Issue(options));
  EXPECT_EQ(check.failed_check, "sct");
  EXPECT_NE(check.detail.find("no embedded SCT"), std::string::npos) << check.detail;
}

TEST_F(MiniSigstore, CertificateFromAnotherFulcioIsDenied) {
  const TestFulcio other;
  const SignatureCheck check = CheckDsse(other.Issue());
  EXPECT_EQ(check.reason, Reason::kUntrustedCertificate);
  EXPECT_EQ(check.failed_check, "certificate-chain");
}

TEST_F(MiniSigstore, OtherBranchIsDeniedByTheExtensionRule) {
  LeafOptions options;
  options.san_uri = "https://github.com/acme/pipelines/.github/workflows/release.yml@refs/heads/dev";
  options.extensions[14] = "refs/heads/dev";
  const SignatureCheck check = CheckDsse(fulcio_.Issue(options));
  EXPECT_EQ(check.reason, Reason::kIdentityNotAllowed);
  EXPECT_NE(check.detail.find("sourceRepositoryRef is 'refs/heads/dev'"), std::string::npos) << check.detail;
}

TEST_F(MiniSigstore, VerifierAcceptsAKeylessBundleReferrer) {
  FakeRegistry registry;
  const std::string digest = registry.PutManifest(R"({"schemaVersion":2,"layers":[]})", "1.0");
  testing::PushBundle(registry, fulcio_.DsseBundle(fulcio_.Issue(), digest, kSigningTime), digest);
  auto verifier = Verifier::Create(KeylessOptions());
  ASSERT_TRUE(verifier.ok()) << verifier.status().message();
  const registry::ImageReference image{"registry.example.com", "team/app", "1.0", ""};
  const auto deadline = registry::Deadline::clock::now() + std::chrono::seconds(10);
  const VerificationResult result = verifier->Verify(registry, image, TrustedKeySet::None(), deadline);
  EXPECT_TRUE(result.verified) << result.message;
  EXPECT_EQ(result.key_name, "keyless identity 'release'");
  EXPECT_EQ(result.format, SignatureFormat::kSigstoreBundle);

  // A caller that narrowed the trusted keys (a profile's subset) does not accept keyless signers.
  const VerificationResult narrowed = verifier->Verify(registry, image, TrustedKeySet::None(), deadline, false);
  EXPECT_FALSE(narrowed.verified);
  EXPECT_EQ(narrowed.reason, Reason::kKeylessUnsupported);
  // Without keyless configuration the result is the previous refusal.
  auto key_only = Verifier::Create(VerifierOptions{});
  EXPECT_EQ(key_only->Verify(registry, image, TrustedKeySet::None(), deadline).reason, Reason::kKeylessUnsupported);
  EXPECT_NE(key_only->fingerprint(), verifier->fingerprint());
}

TEST_F(MiniSigstore, VerifierDeniesAnotherIdentityWithTheReason) {
  FakeRegistry registry;
  const std::string digest = registry.PutManifest(R"({"schemaVersion":2,"layers":[]})", "1.0");
  LeafOptions options;
  options.san_uri = "https://github.com/mallory/fork/.github/workflows/release.yml@refs/heads/main";
  testing::PushBundle(registry, fulcio_.DsseBundle(fulcio_.Issue(options), digest, kSigningTime), digest);
  auto verifier = Verifier::Create(KeylessOptions());
  const registry::ImageReference image{"registry.example.com", "team/app", "1.0", ""};
  const VerificationResult result = verifier->Verify(registry, image, TrustedKeySet::None(),
                                                     registry::Deadline::clock::now() + std::chrono::seconds(10));
  EXPECT_FALSE(result.verified);
  EXPECT_EQ(result.reason, Reason::kIdentityNotAllowed);
  EXPECT_NE(result.message.find("mallory/fork"), std::string::npos) << result.message;
}

TEST_F(MiniSigstore, LegacySigWithCertificateAnnotationsVerifies) {
  const IssuedLeaf leaf = fulcio_.Issue();
  FakeRegistry registry;
  const std::string digest = registry.PutManifest(R"({"schemaVersion":2,"layers":[1]})", "1.0");
  const std::string payload = testing::SimpleSigningPayload(digest);
  const nlohmann::json layer = fulcio_.LegacyLayer(leaf, payload, kSigningTime);
  const auto annotation = [&](const char* key) { return layer["annotations"][key].get<std::string>(); };
  SimpleSigningLayer input{payload, annotation("dev.cosignproject.cosign/signature"),
                           annotation("dev.sigstore.cosign/certificate"), annotation("dev.sigstore.cosign/bundle")};
  KeylessTrust trust{&root_, &identities_};
  SignatureCheck check = CheckKeylessSimpleSigning(input, digest, trust, CheckOptions{});
  EXPECT_TRUE(check.verified()) << check.failed_check << ": " << check.detail;

  check = CheckKeylessSimpleSigning(input, testing::ImageDigest("other"), trust, CheckOptions{});
  EXPECT_EQ(check.reason, Reason::kDigestMismatch);
  EXPECT_EQ(check.failed_check, "artifact");

  SimpleSigningLayer no_log = input;
  no_log.rekor_bundle.reset();
  check = CheckKeylessSimpleSigning(no_log, digest, trust, CheckOptions{});
  EXPECT_EQ(check.failed_check, "tlog");

  // Through the registry: the legacy `.sig` tag.
  registry.PutBlob(payload);
  registry.PutManifest(testing::SignatureManifest({layer}), "sha256-" + digest.substr(7) + ".sig");
  auto verifier = Verifier::Create(KeylessOptions());
  const registry::ImageReference image{"registry.example.com", "team/app", "1.0", ""};
  const VerificationResult result = verifier->Verify(registry, image, TrustedKeySet::None(),
                                                     registry::Deadline::clock::now() + std::chrono::seconds(10));
  EXPECT_TRUE(result.verified) << result.message;
  EXPECT_EQ(result.format, SignatureFormat::kSimpleSigning);
}

TEST_F(MiniSigstore, KeylessVerificationLoadsFromConfiguration) {
  const std::string path = ::testing::TempDir() + "/pipeguard-keyless-root.json";
  std::ofstream(path) << fulcio_.TrustedRootJson();
  policy::KeylessConfig config;
  config.trusted_root_file = path;
  config.identities = {{"release",
                        "",
                        R"(https://github\.com/acme/.*)",
                        "https://token.actions.githubusercontent.com",
                        "",
                        {{"sourceRepositoryUri", "https://github.com/acme/pipelines"}}}};
  auto loaded = KeylessVerification::Load(config);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const std::string digest = testing::ImageDigest("app");
  EXPECT_TRUE(CheckKeylessBundle(fulcio_.DsseBundle(fulcio_.Issue(), digest, kSigningTime), digest, loaded->Trust(),
                                 CheckOptions{})
                  .verified());
  config.identities[0].extensions = {{"noSuchClaim", "x"}};
  auto bad = KeylessVerification::Load(config);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("images.keyless.identities"), std::string::npos);
  config.trusted_root_file = "/nonexistent/root.json";
  EXPECT_EQ(KeylessVerification::Load(config).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace pipeguard::signatures
