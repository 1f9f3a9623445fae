// Per-signature checks on synthetic artifacts made exactly as cosign writes them, for every key type.
#include "pipeguard/signatures/checks.h"

#include <gtest/gtest.h>

#include "cosign_artifacts.h"
#include "pipeguard/signatures/crypto.h"

namespace pipeguard::signatures {
namespace {

using testing::DsseBundle;
using testing::ImageDigest;
using testing::InTotoStatement;
using testing::KeyKind;
using testing::SigningKey;
using testing::SimpleSigningPayload;

TrustedKeySet KeysOf(const std::vector<std::pair<std::string, const SigningKey*>>& keys) {
  std::vector<policy::TrustedKey> entries;
  for (const auto& [name, key] : keys) entries.push_back({name, "", key->public_pem()});
  auto set = TrustedKeySet::Load(entries);
  if (!set.ok()) throw std::runtime_error(set.status().message());
  return std::move(set).value();
}

std::string KindName(KeyKind kind) {
  switch (kind) {
    case KeyKind::kP256:
      return "P256";
    case KeyKind::kP384:
      return "P384";
    case KeyKind::kRsa2048:
      return "RsaPkcs1";
    case KeyKind::kRsa2048Pss:
      return "RsaPss";
    case KeyKind::kEd25519:
      return "Ed25519";
  }
  return "unknown";
}

class EveryKeyTypeTest : public ::testing::TestWithParam<KeyKind> {};

TEST_P(EveryKeyTypeTest, LegacySimpleSigningLayerVerifies) {
  const SigningKey signer = SigningKey::Generate(GetParam());
  const TrustedKeySet keys = KeysOf({{"release", &signer}});
  const std::string digest = ImageDigest("app");
  const std::string payload = SimpleSigningPayload(digest);
  const SimpleSigningLayer layer{payload, Base64Encode(signer.Sign(payload)), std::nullopt, std::nullopt};
  const SignatureCheck check = CheckSimpleSigning(layer, digest, keys, CheckOptions{});
  EXPECT_EQ(check.reason, Reason::kVerified) << check.detail;
  EXPECT_EQ(check.key_name, "release");
  EXPECT_EQ(CheckSimpleSigning(layer, ImageDigest("other"), keys, CheckOptions{}).reason, Reason::kDigestMismatch);
}

TEST_P(EveryKeyTypeTest, DsseBundleVerifies) {
  const SigningKey signer = SigningKey::Generate(GetParam());
  const TrustedKeySet keys = KeysOf({{"release", &signer}});
  const std::string digest = ImageDigest("app");
  const std::string bundle = DsseBundle(signer, InTotoStatement(digest));
  const SignatureCheck check = CheckBundle(bundle, digest, keys, CheckOptions{});
  EXPECT_EQ(check.reason, Reason::kVerified) << check.detail;
  EXPECT_EQ(check.key_name, "release");
  EXPECT_EQ(CheckBundle(bundle, ImageDigest("other"), keys, CheckOptions{}).reason, Reason::kDigestMismatch);
}

TEST_P(EveryKeyTypeTest, SignatureByAnotherKeyIsUntrusted) {
  const SigningKey trusted = SigningKey::Generate(GetParam());
  const SigningKey stranger = SigningKey::Generate(GetParam());
  const TrustedKeySet keys = KeysOf({{"release", &trusted}});
  const std::string digest = ImageDigest("app");
  const std::string payload = SimpleSigningPayload(digest);
  const SimpleSigningLayer layer{payload, Base64Encode(stranger.Sign(payload)), std::nullopt, std::nullopt};
  const SignatureCheck legacy = CheckSimpleSigning(layer, digest, keys, CheckOptions{});
  EXPECT_EQ(legacy.reason, Reason::kUntrustedKey);
  EXPECT_NE(legacy.detail.find("release"), std::string::npos);
  const SignatureCheck bundle =
      CheckBundle(DsseBundle(stranger, InTotoStatement(digest)), digest, keys, CheckOptions{});
  EXPECT_EQ(bundle.reason, Reason::kUntrustedKey);
  EXPECT_NE(bundle.detail.find(stranger.Hint()), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(AllKeyTypes, EveryKeyTypeTest,
                         ::testing::Values(KeyKind::kP256, KeyKind::kP384, KeyKind::kRsa2048, KeyKind::kRsa2048Pss,
                                           KeyKind::kEd25519),
                         [](const auto& info) { return KindName(info.param); });

class ChecksTest : public ::testing::Test {
 protected:
  SigningKey signer_ = SigningKey::Generate(KeyKind::kP256);
  SigningKey other_ = SigningKey::Generate(KeyKind::kP256);
  TrustedKeySet keys_ = KeysOf({{"release", &signer_}, {"backup", &other_}});
  std::string digest_ = ImageDigest("app");
};

TEST_F(ChecksTest, SecondTrustedKeyVerifies) {
  const std::string payload = SimpleSigningPayload(digest_);
  const SimpleSigningLayer layer{payload, Base64Encode(other_.Sign(payload)), std::nullopt, std::nullopt};
  EXPECT_EQ(CheckSimpleSigning(layer, digest_, keys_, CheckOptions{}).key_name, "backup");
}

TEST_F(ChecksTest, LegacyPayloadChecks) {
  auto check = [&](const std::string& payload) {
    return CheckSimpleSigning({payload, Base64Encode(signer_.Sign(payload)), std::nullopt, std::nullopt}, digest_,
                              keys_, CheckOptions{});
  };
  EXPECT_EQ(check(SimpleSigningPayload(digest_, "x", "cosign container image attestation")).reason,
            Reason::kNotAnImageSignature);
  EXPECT_EQ(check("{\"critical\":{\"type\":\"cosign container image signature\"}}").reason, Reason::kMalformed);
  EXPECT_EQ(check("not json").reason, Reason::kMalformed);
  EXPECT_EQ(check(std::string(100, '[')).reason, Reason::kMalformed);  // nesting limit
  const SignatureCheck other_digest = check(SimpleSigningPayload(ImageDigest("other")));
  EXPECT_EQ(other_digest.reason, Reason::kDigestMismatch);
  EXPECT_NE(other_digest.detail.find(ImageDigest("other")), std::string::npos);
  EXPECT_NE(other_digest.detail.find(digest_), std::string::npos);
}

TEST_F(ChecksTest, LegacyMalformedOrTamperedSignatures) {
  const std::string payload = SimpleSigningPayload(digest_);
  const std::string signature = Base64Encode(signer_.Sign(payload));
  EXPECT_EQ(CheckSimpleSigning({payload, std::nullopt, std::nullopt, std::nullopt}, digest_, keys_, {}).reason,
            Reason::kMalformed);
  EXPECT_EQ(CheckSimpleSigning({payload, "%%%not-base64", std::nullopt, std::nullopt}, digest_, keys_, {}).reason,
            Reason::kMalformed);
  // The payload altered after signing (e.g. pointed at another image): no trusted key verifies it.
  const std::string altered = SimpleSigningPayload(ImageDigest("evil"));
  EXPECT_EQ(CheckSimpleSigning({altered, signature, std::nullopt, std::nullopt}, ImageDigest("evil"), keys_, {}).reason,
            Reason::kUntrustedKey);
  // Keyless: a certificate annotation and no trusted key that verifies.
  const SignatureCheck keyless =
      CheckSimpleSigning({payload, Base64Encode(SigningKey::Generate(KeyKind::kP256).Sign(payload)),
                          "-----BEGIN CERTIFICATE-----", std::nullopt},
                         digest_, keys_, {});
  EXPECT_EQ(keyless.reason, Reason::kKeylessUnsupported);
  EXPECT_NE(keyless.detail.find("configure images.keys"), std::string::npos);
}

TEST_F(ChecksTest, BundleAttestationIsNotAnImageSignature) {
  for (const std::string predicate :
       {"https://slsa.dev/provenance/v1", "https://spdx.dev/Document", "https://cosign.sigstore.dev/attestation/v1"}) {
    const SignatureCheck check =
        CheckBundle(DsseBundle(signer_, InTotoStatement(digest_, predicate)), digest_, keys_, {});
    EXPECT_EQ(check.reason, Reason::kNotAnImageSignature) << predicate;
    EXPECT_NE(check.detail.find("attestation"), std::string::npos);
    EXPECT_NE(check.detail.find(predicate), std::string::npos);
  }
  // A DSSE envelope with another payload type.
  EXPECT_EQ(CheckBundle(DsseBundle(signer_, InTotoStatement(digest_), "application/json"), digest_, keys_, {}).reason,
            Reason::kNotAnImageSignature);
}

TEST_F(ChecksTest, BundleTamperedPayloadWithTrustedHintIsInvalid) {
  auto bundle = nlohmann::json::parse(DsseBundle(signer_, InTotoStatement(digest_)));
  bundle["dsseEnvelope"]["payload"] = Base64Encode(InTotoStatement(ImageDigest("evil")));
  const SignatureCheck check = CheckBundle(bundle.dump(), ImageDigest("evil"), keys_, {});
  EXPECT_EQ(check.reason, Reason::kInvalidSignature);
  EXPECT_NE(check.detail.find("release"), std::string::npos);
}

TEST_F(ChecksTest, BundleStructureErrorsAreMalformed) {
  const std::string good = DsseBundle(signer_, InTotoStatement(digest_));
  auto mutate = [&](const std::function<void(nlohmann::json&)>& change) {
    auto bundle = nlohmann::json::parse(good);
    change(bundle);
    return CheckBundle(bundle.dump(), digest_, keys_, {});
  };
  EXPECT_EQ(CheckBundle("{", digest_, keys_, {}).reason, Reason::kMalformed);
  EXPECT_EQ(CheckBundle("[]", digest_, keys_, {}).reason, Reason::kMalformed);
  EXPECT_EQ(mutate([](auto& b) { b["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.4+json"; }).reason,
            Reason::kMalformed);
  EXPECT_EQ(mutate([](auto& b) { b["dsseEnvelope"]["payload"] = "!!!"; }).reason, Reason::kMalformed);
  EXPECT_EQ(mutate([](auto& b) { b["dsseEnvelope"]["signatures"][0]["sig"] = "a b"; }).reason, Reason::kMalformed);
  EXPECT_EQ(
      mutate([](auto& b) { b["dsseEnvelope"]["signatures"].push_back(b["dsseEnvelope"]["signatures"][0]); }).reason,
      Reason::kMalformed);
  EXPECT_EQ(mutate([](auto& b) { b.erase("verificationMaterial"); }).reason, Reason::kMalformed);
  EXPECT_EQ(mutate([](auto& b) { b["messageSignature"] = nlohmann::json::object(); }).reason, Reason::kMalformed);
  EXPECT_EQ(mutate([](auto& b) { b.erase("dsseEnvelope"); }).reason, Reason::kMalformed);
  EXPECT_EQ(mutate([](auto& b) {
              b["verificationMaterial"]["certificate"] = {{"rawBytes", "AAAA"}};
            }).reason,
            Reason::kKeylessUnsupported);
  // Payload that is signed but not an in-toto statement.
  EXPECT_EQ(CheckBundle(DsseBundle(signer_, "{\"_type\":\"other\"}"), digest_, keys_, {}).reason, Reason::kMalformed);
  EXPECT_EQ(CheckBundle(DsseBundle(signer_, "not json"), digest_, keys_, {}).reason, Reason::kMalformed);
}

TEST_F(ChecksTest, BundleAcceptsSnakeCaseUrlSafeAndStringIntegers) {
  auto bundle = nlohmann::json::parse(DsseBundle(signer_, InTotoStatement(digest_)));
  nlohmann::json snake = {{"media_type", bundle["mediaType"]},
                          {"verification_material", {{"public_key", bundle["verificationMaterial"]["publicKey"]}}},
                          {"dsse_envelope",
                           {{"payload", bundle["dsseEnvelope"]["payload"]},
                            {"payload_type", bundle["dsseEnvelope"]["payloadType"]},
                            {"signatures", bundle["dsseEnvelope"]["signatures"]}}}};
  std::string url_safe = snake["dsse_envelope"]["payload"].get<std::string>();
  for (char& c : url_safe) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!url_safe.empty() && url_safe.back() == '=') url_safe.pop_back();
  snake["dsse_envelope"]["payload"] = url_safe;
  EXPECT_EQ(CheckBundle(snake.dump(), digest_, keys_, {}).reason, Reason::kVerified);
}

TEST_F(ChecksTest, BundleStatementWithManySubjectsMatchesAnyAndIsCapped) {
  nlohmann::json statement = nlohmann::json::parse(InTotoStatement(ImageDigest("first")));
  statement["subject"].push_back({{"name", "x"}, {"digest", {{"sha256", digest_.substr(7)}}}});
  EXPECT_EQ(CheckBundle(DsseBundle(signer_, statement.dump()), digest_, keys_, {}).reason, Reason::kVerified);
  CheckOptions capped;
  capped.max_statement_subjects = 1;
  EXPECT_EQ(CheckBundle(DsseBundle(signer_, statement.dump()), digest_, keys_, capped).reason, Reason::kMalformed);
}

TEST_F(ChecksTest, MessageSignatureBundleOverTheManifestDigest) {
  const std::string raw_digest = Sha256("image manifest app");
  ASSERT_EQ("sha256:" + HexEncode(raw_digest), digest_);
  nlohmann::json bundle = {{"mediaType", "application/vnd.dev.sigstore.bundle.v0.3+json"},
                           {"verificationMaterial", {{"publicKey", {{"hint", signer_.Hint()}}}}},
                           {"messageSignature",
                            {{"messageDigest", {{"algorithm", "SHA2_256"}, {"digest", Base64Encode(raw_digest)}}},
                             {"signature", Base64Encode(signer_.SignDigest(raw_digest))}}}};
  const SignatureCheck check = CheckBundle(bundle.dump(), digest_, keys_, {});
  EXPECT_EQ(check.reason, Reason::kVerified) << check.detail;
  EXPECT_EQ(CheckBundle(bundle.dump(), ImageDigest("other"), keys_, {}).reason, Reason::kDigestMismatch);
  bundle["messageSignature"]["messageDigest"]["algorithm"] = "SHA2_512";
  EXPECT_EQ(CheckBundle(bundle.dump(), digest_, keys_, {}).reason, Reason::kMalformed);
}

// A synthetic Rekor log: a P-256 key signing SETs over entries made like Rekor v1 makes them.
class SyntheticRekorTest : public ChecksTest {
 protected:
  void SetUp() override {
    auto logs = RekorKeySet::FromPem({log_key_.public_pem()});
    ASSERT_TRUE(logs.ok());
    logs_ = std::move(logs).value();
    log_id_ = logs_.keys()[0].log_id_hex;
  }

  RekorEntry SignedEntry(const nlohmann::json& body) const {
    RekorEntry entry;
    entry.body_base64 = Base64Encode(body.dump());
    entry.integrated_time = 1785412800;
    entry.log_index = 123456789;
    entry.log_id_hex = log_id_;
    entry.signed_entry_timestamp = log_key_.Sign(SignedEntryTimestampPayload(entry));
    return entry;
  }

  // The `dev.sigstore.cosign/bundle` annotation for a legacy signature.
  std::string LegacyAnnotation(const std::string& payload, const std::string& signature_b64,
                               const SigningKey& signer) const {
    const nlohmann::json body = {
        {"apiVersion", "0.0.1"},
        {"kind", "hashedrekord"},
        {"spec",
         {{"data", {{"hash", {{"algorithm", "sha256"}, {"value", Sha256Hex(payload)}}}}},
          {"signature",
           {{"content", signature_b64}, {"publicKey", {{"content", Base64Encode(signer.public_pem())}}}}}}}};
    const RekorEntry entry = SignedEntry(body);
    return nlohmann::json{{"SignedEntryTimestamp", Base64Encode(entry.signed_entry_timestamp)},
                          {"Payload",
                           {{"body", entry.body_base64},
                            {"integratedTime", entry.integrated_time},
                            {"logIndex", entry.log_index},
                            {"logID", entry.log_id_hex}}}}
        .dump();
  }

  SigningKey log_key_ = SigningKey::Generate(KeyKind::kP256);
  RekorKeySet logs_;
  std::string log_id_;
};

TEST_F(SyntheticRekorTest, LegacySetVerifiesAndBindsTheSignature) {
  const std::string payload = SimpleSigningPayload(digest_);
  const std::string signature = Base64Encode(signer_.Sign(payload));
  CheckOptions options;
  options.rekor = &logs_;
  options.require_tlog = true;
  const SignatureCheck check = CheckSimpleSigning(
      {payload, signature, std::nullopt, LegacyAnnotation(payload, signature, signer_)}, digest_, keys_, options);
  EXPECT_EQ(check.reason, Reason::kVerified) << check.detail;
  EXPECT_TRUE(check.tlog_verified);

  // Required but absent.
  EXPECT_EQ(CheckSimpleSigning({payload, signature, std::nullopt, std::nullopt}, digest_, keys_, options).reason,
            Reason::kInvalidSignature);
  // Entry for another key (the SET is genuine, the binding is not).
  const SignatureCheck wrong_key = CheckSimpleSigning(
      {payload, signature, std::nullopt, LegacyAnnotation(payload, signature, other_)}, digest_, keys_, options);
  EXPECT_EQ(wrong_key.reason, Reason::kInvalidSignature);
  EXPECT_NE(wrong_key.detail.find("different public key"), std::string::npos);
  // Tampered SET.
  auto annotation = nlohmann::json::parse(LegacyAnnotation(payload, signature, signer_));
  annotation["Payload"]["logIndex"] = 1;
  EXPECT_EQ(CheckSimpleSigning({payload, signature, std::nullopt, annotation.dump()}, digest_, keys_, options).reason,
            Reason::kInvalidSignature);
  // Malformed annotation JSON with log checks on.
  EXPECT_EQ(CheckSimpleSigning({payload, signature, std::nullopt, "{not json"}, digest_, keys_, options).reason,
            Reason::kMalformed);
  // Without log checks configured, tlog data is ignored.
  EXPECT_EQ(CheckSimpleSigning({payload, signature, std::nullopt, "{not json"}, digest_, keys_, {}).reason,
            Reason::kVerified);
}

TEST_F(SyntheticRekorTest, LegacyUnverifiedSignatureExplainedByItsLogEntry) {
  const std::string payload = SimpleSigningPayload(digest_);
  const std::string signature = Base64Encode(signer_.Sign(payload));
  // Payload altered after signing: the log entry names the trusted key, so the signature is invalid.
  const std::string altered = SimpleSigningPayload(ImageDigest("evil"));
  const SignatureCheck tampered = CheckSimpleSigning(
      {altered, signature, std::nullopt, LegacyAnnotation(payload, signature, signer_)}, digest_, keys_, {});
  EXPECT_EQ(tampered.reason, Reason::kInvalidSignature);
  EXPECT_NE(tampered.detail.find("'release'"), std::string::npos);
  // Signed by a stranger whose key the log entry names.
  const SigningKey stranger = SigningKey::Generate(KeyKind::kP256);
  const std::string stranger_signature = Base64Encode(stranger.Sign(payload));
  EXPECT_EQ(CheckSimpleSigning(
                {payload, stranger_signature, std::nullopt, LegacyAnnotation(payload, stranger_signature, stranger)},
                digest_, keys_, {})
                .reason,
            Reason::kUntrustedKey);
}

TEST_F(SyntheticRekorTest, BundleDsseEntryVerifiesAndUnknownLogsAreSkipped) {
  const std::string statement = InTotoStatement(digest_);
  auto bundle = nlohmann::json::parse(DsseBundle(signer_, statement));
  const std::string sig_b64 = bundle["dsseEnvelope"]["signatures"][0]["sig"];
  const nlohmann::json body = {
      {"apiVersion", "0.0.1"},
      {"kind", "dsse"},
      {"spec",
       {{"payloadHash", {{"algorithm", "sha256"}, {"value", Sha256Hex(statement)}}},
        {"signatures", {{{"signature", sig_b64}, {"verifier", Base64Encode(signer_.public_pem())}}}}}}};
  const RekorEntry entry = SignedEntry(body);
  auto tlog_entry = [&](const std::string& log_id_hex, const std::string& set) {
    std::string raw_log_id;
    for (size_t i = 0; i < log_id_hex.size(); i += 2) {
      raw_log_id.push_back(static_cast<char>(std::stoi(log_id_hex.substr(i, 2), nullptr, 16)));
    }
    return nlohmann::json{{"logIndex", std::to_string(entry.log_index)},
                          {"logId", {{"keyId", Base64Encode(raw_log_id)}}},
                          {"kindVersion", {{"kind", "dsse"}, {"version", "0.0.1"}}},
                          {"integratedTime", std::to_string(entry.integrated_time)},
                          {"inclusionPromise", {{"signedEntryTimestamp", Base64Encode(set)}}},
                          {"canonicalizedBody", entry.body_base64}};
  };
  CheckOptions options;
  options.rekor = &logs_;
  options.require_tlog = true;

  bundle["verificationMaterial"]["tlogEntries"] = {tlog_entry(log_id_, entry.signed_entry_timestamp)};
  SignatureCheck check = CheckBundle(bundle.dump(), digest_, keys_, options);
  EXPECT_EQ(check.reason, Reason::kVerified) << check.detail;
  EXPECT_TRUE(check.tlog_verified);

  // An entry from an unknown log is skipped: fine when not required, a failure when required.
  const std::string unknown(64, 'b');
  bundle["verificationMaterial"]["tlogEntries"] = {tlog_entry(unknown, entry.signed_entry_timestamp)};
  EXPECT_EQ(CheckBundle(bundle.dump(), digest_, keys_, options).reason, Reason::kInvalidSignature);
  options.require_tlog = false;
  check = CheckBundle(bundle.dump(), digest_, keys_, options);
  EXPECT_EQ(check.reason, Reason::kVerified);
  EXPECT_FALSE(check.tlog_verified);

  // A forged SET from the trusted log is rejected even when the log is optional.
  bundle["verificationMaterial"]["tlogEntries"] = {tlog_entry(log_id_, other_.Sign("x"))};
  EXPECT_EQ(CheckBundle(bundle.dump(), digest_, keys_, options).reason, Reason::kInvalidSignature);
}

}  // namespace
}  // namespace pipeguard::signatures
