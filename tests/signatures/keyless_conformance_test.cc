// Runs every bundle case of the sigstore-conformance suite (data/sigstore-conformance, see its README) through the
// offline verifier: a case named *_fail must fail, any other must verify. For each failing case the test also
// asserts which check rejects it, so a case cannot pass "for the wrong reason".
// Rekor v1 (SET) and Rekor v2 (inclusion proof + RFC 3161 timestamp) entries are both covered.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pipeguard/signatures/checks.h"
#include "pipeguard/signatures/crypto.h"
#include "pipeguard/signatures/identity.h"
#include "pipeguard/signatures/keyless.h"
#include "pipeguard/signatures/rekor.h"
#include "pipeguard/signatures/trusted_keys.h"
#include "pipeguard/signatures/trusted_root.h"

namespace pipeguard::signatures {
namespace {

namespace fs = std::filesystem;

const fs::path kSuite = fs::path(PIPEGUARD_TEST_DATA) / "signatures/data/sigstore-conformance/bundle-verify";
const fs::path kPublicGoodRoot = fs::path(PIPEGUARD_TEST_DATA) / "signatures/data/trusted_root_pgi_2026.json";
constexpr std::string_view kDefaultIdentity =
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/"
    "extremely-dangerous-oidc-beacon.yml@refs/heads/main";
constexpr std::string_view kDefaultIssuer = "https://token.actions.githubusercontent.com";

std::string Read(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

std::string Trimmed(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(kSuite)) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct Outcome {
  SignatureCheck check;
  std::string setup_error;  // the case could not even be set up (e.g. its trusted root is rejected)
};

// Verifies one case the way the conformance CLI protocol describes (verify-bundle with --certificate-identity and
// --certificate-oidc-issuer, or --key; --trusted-root when the case has one).
Outcome RunCase(const std::string& name) {
  const fs::path dir = kSuite / name;
  Outcome outcome;
  const fs::path root_path = fs::exists(dir / "trusted_root.json") ? dir / "trusted_root.json" : kPublicGoodRoot;
  auto root = TrustedRoot::Parse(Read(root_path));
  if (!root.ok()) {
    outcome.setup_error = root.status().message();
    return outcome;
  }
  const std::string artifact = Read(fs::exists(dir / "artifact") ? dir / "artifact" : kSuite / "a.txt");
  const std::string digest = "sha256:" + Sha256Hex(artifact);
  const std::string bundle = Read(dir / "bundle.sigstore.json");
  CheckOptions options;
  options.image_signature_predicate_types.clear();  // a blob's statement: any predicate type

  if (fs::exists(dir / "key.pub")) {
    auto keys = TrustedKeySet::Load({policy::TrustedKey{"conformance", "", Read(dir / "key.pub")}});
    auto logs = RekorKeySet::FromTrustedRoot(Read(root_path));
    if (!keys.ok() || !logs.ok()) {
      outcome.setup_error = !keys.ok() ? keys.status().message() : logs.status().message();
      return outcome;
    }
    options.rekor = &*logs;
    options.require_tlog = true;
    outcome.check = CheckBundle(bundle, digest, *keys, options);
    return outcome;
  }
  KeylessIdentity identity;
  identity.name = "conformance";
  identity.subject.exact = fs::exists(dir / "identity") ? Trimmed(Read(dir / "identity")) : kDefaultIdentity;
  identity.issuer.exact = fs::exists(dir / "issuer") ? Trimmed(Read(dir / "issuer")) : kDefaultIssuer;
  auto identities = IdentityPolicy::Create({identity});
  if (!identities.ok()) {
    outcome.setup_error = identities.status().message();
    return outcome;
  }
  KeylessTrust trust;
  trust.root = &*root;
  trust.identities = &*identities;
  outcome.check = CheckKeylessBundle(bundle, digest, trust, options);
  return outcome;
}

// The check that must reject each *_fail case ("setup": the case's trusted root or key is itself refused).
const std::map<std::string, std::string>& ExpectedFailures() {
  static const std::map<std::string, std::string> kExpected = {
      {"bundle-empty-certificate-chain_fail", "bundle"},
      {"bundle-from-wrong-instance_fail", "tlog"},
      {"bundle-invalid-base64-signature_fail", "bundle"},
      {"bundle-malformed-json_fail", "bundle"},
      {"bundle-negative-log-index_fail", "tlog"},  // the altered index breaks the SET
      {"bundle-unknown-version_fail", "bundle"},
      {"bundle-with-root-cert_fail", "bundle"},
      {"checkpoint-bad-keyhint_fail", "tlog"},
      {"checkpoint-wrong-roothash_fail", "tlog"},
      {"dsse-invalid-sig_fail", "signature"},
      {"dsse-mismatch-envelope_fail", "tlog"},
      {"dsse-mismatch-sig_fail", "tlog"},
      {"inclusion-proof-corrupted-hash_fail", "tlog"},
      {"incorrect-public-key_fail", "tlog"},
      {"integrated-time-in-future_fail", "signing-time"},
      {"intoto-expired-certificate_fail", "signing-time"},
      {"intoto-log-entry-mismatch_fail", "tlog"},
      {"intoto-missing-inclusion-proof_fail", "tlog"},
      {"intoto-set-outside-signing-cert-validity_fail", "signing-time"},
      {"intoto-tsa-timestamp-outside-cert-validity_fail", "signing-time"},  // its RFC 3161 timestamp
      {"invalid-checkpoint-signature_fail", "tlog"},
      {"invalid-ct-key_fail", "sct"},
      {"invalid-inclusion-proof_fail", "tlog"},
      {"managed-key-no-key_fail", "certificate"},
      {"rekor2-checkpoint-missing-log-signature_fail", "tlog"},
      {"rekor2-checkpoint-missing-origin_fail", "tlog"},
      {"rekor2-checkpoint-missing-root-hash_fail", "tlog"},
      {"rekor2-checkpoint-missing-size_fail", "tlog"},
      {"rekor2-checkpoint-no-matching-signature_fail", "tlog"},
      {"rekor2-dsse-invalid-sig_fail", "signature"},
      {"rekor2-dsse-mismatch-envelope_fail", "tlog"},
      {"rekor2-dsse-mismatch-sig_fail", "tlog"},
      {"rekor2-no-inclusion-proof_fail", "tlog"},
      {"rekor2-no-timestamp_fail", "signing-time"},  // nothing proves the signing time
      {"rekor2-timestamp-outside-trust-root-tsa-validity_fail", "timestamp"},
      {"rekor2-timestamp-outside-tsa-cert-validity_fail", "timestamp"},
      {"rekor2-timestamp-payload-mismatch_fail", "timestamp"},
      {"rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail", "timestamp"},
      {"rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail", "timestamp"},
      {"rekor2-timestamp-with-incorrect-time_fail", "signing-time"},  // the timestamp is after the certificate
      {"managed-key-wrong-key_fail", "setup"},                        // its key.pub is not a valid key
      {"message-digest-mismatch_fail", "artifact"},
      {"set-invalid-signature_fail", "tlog"},
      {"signature-mismatch_fail", "signature"},
      {"trust-root-tlog-missing-validity-start_fail", "setup"},
      {"wrong-hashedrekord-artifact_fail", "tlog"},
      {"wrong-hashedrekord-cert-and-sig_fail", "tlog"},
      {"wrong-hashedrekord-entry_fail", "tlog"},
      {"wrong-material_fail", "artifact"},
  };
  return kExpected;
}

bool ShouldFail(const std::string& name) { return name.size() >= 5 && name.substr(name.size() - 5) == "_fail"; }

class ConformanceCase : public ::testing::TestWithParam<std::string> {};

TEST_P(ConformanceCase, MatchesTheSuiteExpectation) {
  const std::string& name = GetParam();
  const Outcome outcome = RunCase(name);
  const std::string failed = outcome.setup_error.empty() ? outcome.check.failed_check : "setup";
  const std::string why = outcome.setup_error.empty() ? outcome.check.detail : outcome.setup_error;
  if (!ShouldFail(name)) {
    EXPECT_TRUE(outcome.setup_error.empty()) << outcome.setup_error;
    EXPECT_TRUE(outcome.check.verified()) << ReasonId(outcome.check.reason) << " at " << failed << ": " << why;
    return;
  }
  EXPECT_FALSE(outcome.setup_error.empty() && outcome.check.verified()) << "accepted a case that must fail";
  const auto expected = ExpectedFailures().find(name);
  ASSERT_NE(expected, ExpectedFailures().end())
      << "new failing case; add its expected check (got " << failed << ": " << why << ")";
  EXPECT_EQ(failed, expected->second) << why;
}

TEST(SigstoreConformanceSuite, AlteredRfc3161TimestampIsRejected) {
  const fs::path dir = kSuite / "intoto-with-custom-trust-root";
  auto root = TrustedRoot::Parse(Read(dir / "trusted_root.json"));
  ASSERT_TRUE(root.ok());
  auto bundle = nlohmann::json::parse(Read(dir / "bundle.sigstore.json"));
  auto& timestamp = bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0];
  std::string der = *Base64Decode(timestamp["signedTimestamp"].get<std::string>());
  der[der.size() - 10] ^= 0x01;  // inside the TSA's signature
  timestamp["signedTimestamp"] = Base64Encode(der);
  KeylessIdentity identity;
  identity.name = "conformance";
  identity.subject.exact = std::string(kDefaultIdentity);
  identity.issuer.exact = std::string(kDefaultIssuer);
  auto identities = IdentityPolicy::Create({identity});
  ASSERT_TRUE(identities.ok());
  CheckOptions options;
  options.image_signature_predicate_types.clear();
  const KeylessTrust trust{&*root, &*identities};
  const std::string digest = "sha256:" + Sha256Hex(Read(dir / "artifact"));
  ASSERT_TRUE(CheckKeylessBundle(Read(dir / "bundle.sigstore.json"), digest, trust, options).verified());
  const SignatureCheck check = CheckKeylessBundle(bundle.dump(), digest, trust, options);
  EXPECT_EQ(check.failed_check, "timestamp") << check.detail;
  EXPECT_EQ(check.reason, Reason::kInvalidSignature);
}

TEST(SigstoreConformanceSuite, RekorV2LogMustBeValidAtTheTimestamp) {
  const fs::path dir = kSuite / "rekor2-happy-path";
  auto root_json = nlohmann::json::parse(Read(dir / "trusted_root.json"));
  for (auto& log : root_json["tlogs"]) {
    if (log["publicKey"]["keyDetails"] == "PKIX_ED25519") log["publicKey"]["validFor"]["end"] = "2025-05-01T00:00:00Z";
  }
  auto root = TrustedRoot::Parse(root_json.dump());
  ASSERT_TRUE(root.ok()) << root.status().message();
  KeylessIdentity identity;
  identity.name = "conformance";
  identity.subject.exact = std::string(kDefaultIdentity);
  identity.issuer.exact = std::string(kDefaultIssuer);
  auto identities = IdentityPolicy::Create({identity});
  ASSERT_TRUE(identities.ok());
  const KeylessTrust trust{&*root, &*identities};
  const SignatureCheck check = CheckKeylessBundle(Read(dir / "bundle.sigstore.json"),
                                                  "sha256:" + Sha256Hex(Read(kSuite / "a.txt")), trust, CheckOptions{});
  EXPECT_EQ(check.failed_check, "tlog") << check.detail;
  EXPECT_NE(check.detail.find("outside the trusted validity of log"), std::string::npos) << check.detail;
}

TEST(SigstoreConformanceSuite, HasAllSeventyCases) {
  const auto names = CaseNames();
  EXPECT_EQ(names.size(), 70u);
  EXPECT_EQ(std::count_if(names.begin(), names.end(), ShouldFail), 49);
}

INSTANTIATE_TEST_SUITE_P(SigstoreConformance, ConformanceCase, ::testing::ValuesIn(CaseNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

}  // namespace
}  // namespace pipeguard::signatures
