// The two real public-good artifacts from ../shared/reference/sigstore-vectors (copied to data/): what a key-based
// verifier can check of them. Both are keyless (Fulcio) signatures, so the tests extract the certificate's public
// key and use it as a "trusted key" to exercise the DSSE/message signature and Rekor SET code on real bytes.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pipeguard/signatures/checks.h"
#include "pipeguard/signatures/crypto.h"
#include "pipeguard/signatures/rekor.h"
#include "pipeguard/signatures/trusted_keys.h"

namespace pipeguard::signatures {
namespace {

std::string ReadData(const std::string& name) {
  std::ifstream file(std::string(PIPEGUARD_TEST_DATA) + "/signatures/data/" + name, std::ios::binary);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

std::string B64(const nlohmann::json& value) { return Base64Decode(value.get<std::string>()).value_or(""); }

// PEM PUBLIC KEY of the certificate in DER `certificate`.
std::string CertificatePublicKeyPem(const std::string& certificate) {
  const unsigned char* cursor = reinterpret_cast<const unsigned char*>(certificate.data());
  X509* cert = d2i_X509(nullptr, &cursor, static_cast<long>(certificate.size()));
  if (cert == nullptr) return "";
  EVP_PKEY* key = X509_get0_pubkey(cert);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(length));
  BIO_free(bio);
  X509_free(cert);
  return pem;
}

RekorEntry EntryFrom(const nlohmann::json& tlog_entry) {
  RekorEntry entry;
  entry.body_base64 = tlog_entry["canonicalizedBody"].get<std::string>();
  entry.integrated_time = std::stoll(tlog_entry["integratedTime"].get<std::string>());
  entry.log_index = std::stoll(tlog_entry["logIndex"].get<std::string>());
  entry.log_id_hex = HexEncode(B64(tlog_entry["logId"]["keyId"]));
  entry.signed_entry_timestamp = B64(tlog_entry["inclusionPromise"]["signedEntryTimestamp"]);
  return entry;
}

class RealVectorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto logs = RekorKeySet::FromTrustedRoot(ReadData("trusted_root_pgi_2026.json"));
    ASSERT_TRUE(logs.ok()) << logs.status().message();
    rekor_ = std::move(logs).value();
  }
  RekorKeySet rekor_;
};

TEST_F(RealVectorsTest, TrustedRootYieldsThePublicGoodRekorV1Key) {
  ASSERT_EQ(rekor_.keys().size(), 1u);  // the Ed25519 Rekor v2 log issues no SETs and is skipped
  EXPECT_EQ(rekor_.keys()[0].log_id_hex, "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d");
  EXPECT_NE(rekor_.Find("C0D23D6AD406973F9559F3BA2D1CA01F84147D8FFC5B8445C224F98B9591801D"), nullptr);
}

TEST_F(RealVectorsTest, V03DsseBundleSignatureAndSetVerify) {
  const auto bundle = nlohmann::json::parse(ReadData("real_v03_dsse_fulcio_rekorv1.sigstore.json"));
  const auto& envelope = bundle["dsseEnvelope"];
  const std::string payload = B64(envelope["payload"]);
  const std::string signature = B64(envelope["signatures"][0]["sig"]);
  const std::string pem = CertificatePublicKeyPem(B64(bundle["verificationMaterial"]["certificate"]["rawBytes"]));
  auto key = PublicKey::FromPem(pem);
  ASSERT_TRUE(key.ok()) << key.status().message();
  EXPECT_TRUE(key->Verify(DssePae(envelope["payloadType"].get<std::string>(), payload), signature));
  EXPECT_FALSE(key->Verify(DssePae("application/json", payload), signature));
  EXPECT_TRUE(DssePae("application/vnd.in-toto+json", payload).rfind("DSSEv1 28 application/vnd.in-toto+json ", 0) ==
              0);

  const RekorEntry entry = EntryFrom(bundle["verificationMaterial"]["tlogEntries"][0]);
  EXPECT_TRUE(VerifySignedEntryTimestamp(rekor_, entry).ok());
  RekorEntry tampered = entry;
  tampered.log_index += 1;
  EXPECT_EQ(VerifySignedEntryTimestamp(rekor_, tampered).code(), StatusCode::kInvalidArgument);
  RekorEntry unknown_log = entry;
  unknown_log.log_id_hex = std::string(64, 'a');
  EXPECT_EQ(VerifySignedEntryTimestamp(rekor_, unknown_log).code(), StatusCode::kNotFound);

  // The dsse entry body binds the payload hash and signature, but records the certificate, not a bare key.
  const Status body = CheckEntryBody(entry, SignatureBinding{Sha256Hex(payload), signature, &*key});
  ASSERT_FALSE(body.ok());
  EXPECT_NE(body.message().find("certificate"), std::string::npos);
  EXPECT_FALSE(CheckEntryBody(entry, SignatureBinding{Sha256Hex(payload + "x"), signature, &*key}).ok());
}

TEST_F(RealVectorsTest, V03BundleIsRejectedAsKeylessAndAsAnAttestation) {
  const std::string text = ReadData("real_v03_dsse_fulcio_rekorv1.sigstore.json");
  auto bundle = nlohmann::json::parse(text);
  const std::string pem = CertificatePublicKeyPem(B64(bundle["verificationMaterial"]["certificate"]["rawBytes"]));
  auto keys = TrustedKeySet::Load({{"fulcio-leaf", "", pem}});
  ASSERT_TRUE(keys.ok());
  const std::string digest = "sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4";

  const SignatureCheck keyless = CheckBundle(text, digest, *keys, CheckOptions{});
  EXPECT_EQ(keyless.reason, Reason::kKeylessUnsupported);
  EXPECT_NE(keyless.detail.find("keyless signatures are not supported; configure images.keys"), std::string::npos);

  // As if it were key-signed: the real signature verifies, but it is a cosign attestation, not a signature.
  bundle["verificationMaterial"].erase("certificate");
  bundle["verificationMaterial"]["publicKey"] = {{"hint", keys->keys()[0].hint}};
  const SignatureCheck attestation = CheckBundle(bundle.dump(), digest, *keys, CheckOptions{});
  EXPECT_EQ(attestation.reason, Reason::kNotAnImageSignature);
  EXPECT_EQ(attestation.key_name, "fulcio-leaf");
  EXPECT_NE(attestation.detail.find("https://cosign.sigstore.dev/attestation/v1"), std::string::npos);
  EXPECT_NE(attestation.detail.find("not an image signature"), std::string::npos);

  // Accepting that predicate type makes the claims pass; the real Rekor entry then verifies (SET) but names the
  // certificate rather than a trusted key, so a tlog-checking configuration rejects it.
  CheckOptions lenient;
  lenient.image_signature_predicate_types = {"https://cosign.sigstore.dev/attestation/v1"};
  EXPECT_EQ(CheckBundle(bundle.dump(), digest, *keys, lenient).reason, Reason::kVerified);
  EXPECT_EQ(CheckBundle(bundle.dump(), "sha256:" + std::string(64, '0'), *keys, lenient).reason,
            Reason::kDigestMismatch);
  lenient.rekor = &rekor_;
  const SignatureCheck with_log = CheckBundle(bundle.dump(), digest, *keys, lenient);
  EXPECT_EQ(with_log.reason, Reason::kInvalidSignature);
  EXPECT_NE(with_log.detail.find("certificate"), std::string::npos);
}

TEST_F(RealVectorsTest, LegacyHashedrekordSignatureAndSetVerify) {
  const auto bundle = nlohmann::json::parse(ReadData("real_legacy_hashedrekord_as_v01_bundle.json"));
  const auto& message = bundle["messageSignature"];
  const std::string digest = B64(message["messageDigest"]["digest"]);  // sha256 of the simple-signing payload
  const std::string signature = B64(message["signature"]);
  const std::string pem = CertificatePublicKeyPem(
      B64(bundle["verificationMaterial"]["x509CertificateChain"]["certificates"][0]["rawBytes"]));
  auto key = PublicKey::FromPem(pem);
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(key->VerifySha256Digest(digest, signature));
  EXPECT_FALSE(key->VerifySha256Digest(Sha256("other"), signature));

  const RekorEntry entry = EntryFrom(bundle["verificationMaterial"]["tlogEntries"][0]);
  EXPECT_TRUE(VerifySignedEntryTimestamp(rekor_, entry).ok());
  EXPECT_EQ(SignedEntryTimestampPayload(entry).substr(0, 9), "{\"body\":\"");
  RekorEntry tampered = entry;
  tampered.integrated_time += 1;
  EXPECT_FALSE(VerifySignedEntryTimestamp(rekor_, tampered).ok());
  const Status body = CheckEntryBody(entry, SignatureBinding{HexEncode(digest), signature, &*key});
  ASSERT_FALSE(body.ok());  // hashedrekord with a certificate: keyless
  EXPECT_NE(body.message().find("certificate"), std::string::npos);
}

TEST_F(RealVectorsTest, LegacyVectorAsBundleIsKeylessAndItsMessageSignatureChecksTheDigest) {
  const std::string text = ReadData("real_legacy_hashedrekord_as_v01_bundle.json");
  auto bundle = nlohmann::json::parse(text);
  const std::string pem = CertificatePublicKeyPem(
      B64(bundle["verificationMaterial"]["x509CertificateChain"]["certificates"][0]["rawBytes"]));
  auto keys = TrustedKeySet::Load({{"leaf", "", pem}});
  ASSERT_TRUE(keys.ok());
  const std::string signed_digest = "sha256:" + HexEncode(B64(bundle["messageSignature"]["messageDigest"]["digest"]));
  EXPECT_EQ(CheckBundle(text, signed_digest, *keys, CheckOptions{}).reason, Reason::kKeylessUnsupported);

  bundle["verificationMaterial"].erase("x509CertificateChain");
  EXPECT_EQ(CheckBundle(bundle.dump(), signed_digest, *keys, CheckOptions{}).reason, Reason::kVerified);
  EXPECT_EQ(CheckBundle(bundle.dump(), "sha256:" + std::string(64, '1'), *keys, CheckOptions{}).reason,
            Reason::kDigestMismatch);
  CheckOptions with_log;
  with_log.rekor = &rekor_;
  EXPECT_EQ(CheckBundle(bundle.dump(), signed_digest, *keys, with_log).reason, Reason::kInvalidSignature);
}

}  // namespace
}  // namespace pipeguard::signatures
