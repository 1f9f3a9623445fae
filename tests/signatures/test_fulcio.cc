#include "test_fulcio.h"

#include <openssl/ct.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdexcept>

#include "pipeguard/signatures/checks.h"
#include "pipeguard/signatures/crypto.h"
#include "pipeguard/signatures/rekor.h"

namespace pipeguard::signatures::testing {
namespace {

void Require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test_fulcio: ") + what);
}

std::string Der(X509* cert) {
  unsigned char* der = nullptr;
  const int length = i2d_X509(cert, &der);
  Require(length > 0, "i2d_X509");
  std::string bytes(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return bytes;
}

X509* Parse(const std::string& der) {
  const unsigned char* cursor = reinterpret_cast<const unsigned char*>(der.data());
  return d2i_X509(nullptr, &cursor, static_cast<long>(der.size()));
}

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  Require(extension != nullptr && X509_add_ext(cert, extension, -1) == 1, "add extension");
  X509_EXTENSION_free(extension);
}

// Extension 1.3.6.1.4.1.57264.1.<arc> holding `value` as a DER UTF8String (arc >= 8) or raw bytes.
void AddFulcioExtension(X509* cert, int arc, const std::string& value) {
  std::string contents = value;
  if (arc >= 8) contents = std::string("\x0c") + static_cast<char>(value.size()) + value;  // short values only
  ASN1_OBJECT* oid = OBJ_txt2obj(("1.3.6.1.4.1.57264.1." + std::to_string(arc)).c_str(), 1);
  ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
  ASN1_OCTET_STRING_set(data, reinterpret_cast<const unsigned char*>(contents.data()),
                        static_cast<int>(contents.size()));
  X509_EXTENSION* extension = X509_EXTENSION_create_by_OBJ(nullptr, oid, 0, data);
  Require(extension != nullptr && X509_add_ext(cert, extension, -1) == 1, "add Fulcio extension");
  X509_EXTENSION_free(extension);
  ASN1_OCTET_STRING_free(data);
  ASN1_OBJECT_free(oid);
}

X509* NewCertificate(const SigningKey& subject_key, const std::string& common_name, int64_t not_before,
                     int64_t not_after, long serial) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  ASN1_TIME_set(X509_getm_notBefore(cert), static_cast<time_t>(not_before));
  ASN1_TIME_set(X509_getm_notAfter(cert), static_cast<time_t>(not_after));
  X509_set_pubkey(cert, subject_key.pkey());
  if (!common_name.empty()) {
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("sigstore.test"), -1, -1,
                               0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()),
                               -1, -1, 0);
  }
  return cert;
}

std::string Spki(const SigningKey& key) {
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(key.pkey(), &der);
  std::string bytes(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return bytes;
}

void PutUint(std::string& out, uint64_t value, int bytes) {
  for (int shift = (bytes - 1) * 8; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
}

std::string Pem(const std::string& der) {
  X509* cert = Parse(der);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(length));
  BIO_free(bio);
  X509_free(cert);
  return pem;
}

nlohmann::json LogEntry(const SigningKey& rekor_key, const std::string& body, int64_t integrated_time) {
  RekorEntry entry;
  entry.body_base64 = Base64Encode(body);
  entry.integrated_time = integrated_time;
  entry.log_index = 4242;
  entry.log_id_hex = Sha256Hex(Spki(rekor_key));
  const std::string set = rekor_key.Sign(SignedEntryTimestampPayload(entry));
  // A one-leaf tree: the root is the leaf hash and the audit path is empty.
  const std::string root = Sha256(std::string(1, '\0') + body);
  const std::string note = "rekor.test - 1\n1\n" + Base64Encode(root) + "\n";
  const std::string note_signature = Sha256(Spki(rekor_key)).substr(0, 4) + rekor_key.Sign(note);
  const std::string checkpoint = note + "\n\xe2\x80\x94 rekor.test " + Base64Encode(note_signature) + "\n";
  return {{"logIndex", "4242"},
          {"logId", {{"keyId", Base64Encode(Sha256(Spki(rekor_key)))}}},
          {"kindVersion", {{"kind", "dsse"}, {"version", "0.0.1"}}},
          {"integratedTime", std::to_string(integrated_time)},
          {"inclusionPromise", {{"signedEntryTimestamp", Base64Encode(set)}}},
          {"inclusionProof",
           {{"logIndex", "0"},
            {"rootHash", Base64Encode(root)},
            {"treeSize", "1"},
            {"hashes", nlohmann::json::array()},
            {"checkpoint", {{"envelope", checkpoint}}}}},
          {"canonicalizedBody", Base64Encode(body)}};
}

}  // namespace

TestFulcio::TestFulcio()
    : root_key_(SigningKey::Generate(KeyKind::kP384)),
      intermediate_key_(SigningKey::Generate(KeyKind::kP384)),
      ct_key_(SigningKey::Generate(KeyKind::kP256)),
      rekor_key_(SigningKey::Generate(KeyKind::kP256)) {
  constexpr int64_t kFrom = 1577836800;  // 2020-01-01
  constexpr int64_t kTo = 2208988800;    // 2040-01-01
  X509* root = NewCertificate(root_key_, "sigstore-test-root", kFrom, kTo, 1);
  X509_set_issuer_name(root, X509_get_subject_name(root));
  AddExtension(root, nullptr, NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(root, nullptr, NID_key_usage, "critical,keyCertSign,cRLSign");
  AddExtension(root, nullptr, NID_subject_key_identifier, "hash");
  Require(X509_sign(root, root_key_.pkey(), EVP_sha384()) > 0, "sign root");
  X509* intermediate = NewCertificate(intermediate_key_, "sigstore-test-intermediate", kFrom, kTo, 2);
  X509_set_issuer_name(intermediate, X509_get_subject_name(root));
  AddExtension(intermediate, root, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  AddExtension(intermediate, root, NID_key_usage, "critical,keyCertSign,cRLSign");
  AddExtension(intermediate, root, NID_ext_key_usage, "codeSigning");
  AddExtension(intermediate, root, NID_subject_key_identifier, "hash");
  AddExtension(intermediate, root, NID_authority_key_identifier, "keyid:always");
  Require(X509_sign(intermediate, root_key_.pkey(), EVP_sha384()) > 0, "sign intermediate");
  root_der_ = Der(root);
  intermediate_der_ = Der(intermediate);
  X509_free(root);
  X509_free(intermediate);
}

IssuedLeaf TestFulcio::Issue(const LeafOptions& options) const {
  IssuedLeaf leaf{SigningKey::Generate(KeyKind::kP256), "", ""};
  X509* issuer = Parse(intermediate_der_);
  X509* cert = NewCertificate(leaf.key, "", options.not_before, options.not_before + options.lifetime_seconds, 7);
  X509_set_issuer_name(cert, X509_get_subject_name(issuer));
  AddExtension(cert, issuer, NID_key_usage, "critical,digitalSignature");
  if (options.code_signing) {
    AddExtension(cert, issuer, NID_ext_key_usage, "codeSigning");
  } else {
    AddExtension(cert, issuer, NID_ext_key_usage, "serverAuth");
  }
  AddExtension(cert, issuer, NID_subject_key_identifier, "hash");
  AddExtension(cert, issuer, NID_authority_key_identifier, "keyid:always");
  AddExtension(cert, issuer, NID_subject_alt_name, ("critical,URI:" + options.san_uri).c_str());
  AddFulcioExtension(cert, 1, options.issuer);
  AddFulcioExtension(cert, 8, options.issuer);
  for (const auto& [arc, value] : options.extensions) AddFulcioExtension(cert, arc, value);
  Require(X509_sign(cert, intermediate_key_.pkey(), EVP_sha384()) > 0, "sign leaf");
  if (options.embed_sct) {
    // The CT log signs the precertificate TBS (the certificate as it is now, without the SCT list).
    unsigned char* tbs = nullptr;
    const int tbs_length = i2d_re_X509_tbs(cert, &tbs);
    Require(tbs_length > 0, "i2d_re_X509_tbs");
    const uint64_t timestamp_ms = static_cast<uint64_t>(options.not_before) * 1000 + 1500;
    std::string signed_data;
    PutUint(signed_data, 0, 1);
    PutUint(signed_data, 0, 1);
    PutUint(signed_data, timestamp_ms, 8);
    PutUint(signed_data, 1, 2);
    signed_data += Sha256(Spki(intermediate_key_));
    PutUint(signed_data, static_cast<uint64_t>(tbs_length), 3);
    signed_data.append(reinterpret_cast<char*>(tbs), static_cast<size_t>(tbs_length));
    PutUint(signed_data, 0, 2);
    OPENSSL_free(tbs);
    const std::string signature = ct_key_.Sign(signed_data);
    const std::string log_id = Sha256(Spki(ct_key_));
    SCT* sct = SCT_new();
    SCT_set_version(sct, SCT_VERSION_V1);
    SCT_set_log_entry_type(sct, CT_LOG_ENTRY_TYPE_PRECERT);
    SCT_set1_log_id(sct, reinterpret_cast<const unsigned char*>(log_id.data()), log_id.size());
    SCT_set_timestamp(sct, timestamp_ms);
    SCT_set_signature_nid(sct, NID_ecdsa_with_SHA256);
    SCT_set1_signature(sct, reinterpret_cast<const unsigned char*>(signature.data()), signature.size());
    STACK_OF(SCT)* list = sk_SCT_new_null();
    sk_SCT_push(list, sct);
    Require(X509_add1_ext_i2d(cert, NID_ct_precert_scts, list, 0, X509V3_ADD_DEFAULT) == 1, "add SCT list");
    SCT_LIST_free(list);
    Require(X509_sign(cert, intermediate_key_.pkey(), EVP_sha384()) > 0, "re-sign leaf");
  }
  leaf.der = Der(cert);
  leaf.pem = Pem(leaf.der);
  X509_free(cert);
  X509_free(issuer);
  return leaf;
}

std::string TestFulcio::TrustedRootJson() const {
  const auto log = [](const SigningKey& key, const char* url) {
    return nlohmann::json{{"baseUrl", url},
                          {"hashAlgorithm", "SHA2_256"},
                          {"publicKey",
                           {{"rawBytes", Base64Encode(Spki(key))},
                            {"keyDetails", "PKIX_ECDSA_P256_SHA_256"},
                            {"validFor", {{"start", "2020-01-01T00:00:00Z"}}}}},
                          {"logId", {{"keyId", Base64Encode(Sha256(Spki(key)))}}}};
  };
  return nlohmann::json{
      {"mediaType", "application/vnd.dev.sigstore.trustedroot+json;version=0.1"},
      {"tlogs", {log(rekor_key_, "https://rekor.test")}},
      {"ctlogs", {log(ct_key_, "https://ctfe.test")}},
      {"certificateAuthorities",
       {{{"subject", {{"organization", "sigstore.test"}, {"commonName", "sigstore-test"}}},
         {"uri", "https://fulcio.test"},
         {"certChain",
          {{"certificates",
            {{{"rawBytes", Base64Encode(intermediate_der_)}}, {{"rawBytes", Base64Encode(root_der_)}}}}}},
         {"validFor", {{"start", "2020-01-01T00:00:00Z"}}}}}}}
      .dump();
}

std::string TestFulcio::DsseBundle(const IssuedLeaf& leaf, const std::string& digest, int64_t integrated_time,
                                   const std::string& statement) const {
  const std::string payload = statement.empty() ? InTotoStatement(digest) : statement;
  const std::string payload_type = "application/vnd.in-toto+json";
  const std::string signature = leaf.key.Sign(DssePae(payload_type, payload));
  const nlohmann::json body = {
      {"apiVersion", "0.0.1"},
      {"kind", "dsse"},
      {"spec",
       {{"envelopeHash", {{"algorithm", "sha256"}, {"value", Sha256Hex("envelope")}}},
        {"payloadHash", {{"algorithm", "sha256"}, {"value", Sha256Hex(payload)}}},
        {"signatures", {{{"signature", Base64Encode(signature)}, {"verifier", Base64Encode(leaf.pem)}}}}}}};
  return nlohmann::json{{"mediaType", "application/vnd.dev.sigstore.bundle.v0.3+json"},
                        {"verificationMaterial",
                         {{"certificate", {{"rawBytes", Base64Encode(leaf.der)}}},
                          {"tlogEntries", {LogEntry(rekor_key_, body.dump(), integrated_time)}}}},
                        {"dsseEnvelope",
                         {{"payload", Base64Encode(payload)},
                          {"payloadType", payload_type},
                          {"signatures", {{{"sig", Base64Encode(signature)}, {"keyid", ""}}}}}}}
      .dump();
}

nlohmann::json TestFulcio::LegacyLayer(const IssuedLeaf& leaf, const std::string& payload,
                                       int64_t integrated_time) const {
  const std::string signature = Base64Encode(leaf.key.Sign(payload));
  const nlohmann::json body = {
      {"apiVersion", "0.0.1"},
      {"kind", "hashedrekord"},
      {"spec",
       {{"data", {{"hash", {{"algorithm", "sha256"}, {"value", Sha256Hex(payload)}}}}},
        {"signature", {{"content", signature}, {"publicKey", {{"content", Base64Encode(leaf.pem)}}}}}}}};
  RekorEntry entry;
  entry.body_base64 = Base64Encode(body.dump());
  entry.integrated_time = integrated_time;
  entry.log_index = 4242;
  entry.log_id_hex = Sha256Hex(Spki(rekor_key_));
  const std::string set = rekor_key_.Sign(SignedEntryTimestampPayload(entry));
  nlohmann::json layer = SimpleSigningLayer(payload, signature);
  layer["annotations"]["dev.sigstore.cosign/certificate"] = leaf.pem;
  layer["annotations"]["dev.sigstore.cosign/chain"] = Pem(intermediate_der_) + Pem(root_der_);
  layer["annotations"]["dev.sigstore.cosign/bundle"] = nlohmann::json{
      {"SignedEntryTimestamp", Base64Encode(set)},
      {"Payload",
       {{"body", entry.body_base64},
        {"integratedTime", entry.integrated_time},
        {"logIndex", entry.log_index},
        {"logID", entry.log_id_hex}}}}.dump();
  return layer;
}

std::pair<std::string, nlohmann::json> TestFulcio::LegacyAttestation(const IssuedLeaf& leaf,
                                                                     const std::string& statement,
                                                                     int64_t integrated_time) const {
  const std::string payload_type = "application/vnd.in-toto+json";
  const std::string signature = leaf.key.Sign(DssePae(payload_type, statement));
  const std::string envelope = nlohmann::json{{"payloadType", payload_type},
                                              {"payload", Base64Encode(statement)},
                                              {"signatures", {{{"keyid", ""}, {"sig", Base64Encode(signature)}}}}}
                                   .dump();
  const nlohmann::json body = {
      {"apiVersion", "0.0.2"},
      {"kind", "intoto"},
      {"spec",
       {{"content",
         {{"envelope",
           {{"payloadType", payload_type},
            {"signatures", {{{"sig", Base64Encode(Base64Encode(signature))}, {"publicKey", Base64Encode(leaf.pem)}}}}}},
          {"hash", {{"algorithm", "sha256"}, {"value", Sha256Hex(envelope)}}},
          {"payloadHash", {{"algorithm", "sha256"}, {"value", Sha256Hex(statement)}}}}}}}};
  RekorEntry entry;
  entry.body_base64 = Base64Encode(body.dump());
  entry.integrated_time = integrated_time;
  entry.log_index = 4243;
  entry.log_id_hex = Sha256Hex(Spki(rekor_key_));
  const std::string set = rekor_key_.Sign(SignedEntryTimestampPayload(entry));
  nlohmann::json layer = AttestationLayer(envelope, "https://cosign.sigstore.dev/attestation/vuln/v1");
  layer["annotations"]["dev.sigstore.cosign/certificate"] = leaf.pem;
  layer["annotations"]["dev.sigstore.cosign/chain"] = Pem(intermediate_der_) + Pem(root_der_);
  layer["annotations"]["dev.sigstore.cosign/bundle"] = nlohmann::json{
      {"SignedEntryTimestamp", Base64Encode(set)},
      {"Payload",
       {{"body", entry.body_base64},
        {"integratedTime", entry.integrated_time},
        {"logIndex", entry.log_index},
        {"logID", entry.log_id_hex}}}}.dump();
  return {envelope, layer};
}

}  // namespace pipeguard::signatures::testing
