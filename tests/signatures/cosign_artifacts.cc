#include "cosign_artifacts.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <stdexcept>

#include "pipeguard/signatures/checks.h"
#include "pipeguard/signatures/crypto.h"
#include "pipeguard/signatures/rekor.h"

namespace pipeguard::signatures::testing {
namespace {

constexpr char kBundleType[] = "application/vnd.dev.sigstore.bundle.v0.3+json";
constexpr char kEmptyType[] = "application/vnd.oci.empty.v1+json";
constexpr char kEmptyDigest[] = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

void Check(bool ok, const char* what) {
  if (!ok) {
    ERR_print_errors_fp(stderr);
    throw std::runtime_error(std::string("OpenSSL failure in test support: ") + what);
  }
}

}  // namespace

SigningKey SigningKey::Generate(KeyKind kind) {
  EVP_PKEY* raw = nullptr;
  switch (kind) {
    case KeyKind::kP256:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case KeyKind::kP384:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
      break;
    case KeyKind::kRsa2048:
    case KeyKind::kRsa2048Pss:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
      break;
    case KeyKind::kEd25519:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
  }
  Check(raw != nullptr, "keygen");
  SigningKey key;
  key.key_.reset(raw, EVP_PKEY_free);
  key.kind_ = kind;
  BIO* bio = BIO_new(BIO_s_mem());
  Check(bio != nullptr && PEM_write_bio_PUBKEY(bio, raw) == 1, "PEM_write_bio_PUBKEY");
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  key.public_pem_.assign(data, static_cast<size_t>(length));
  BIO_free(bio);
  return key;
}

std::string SigningKey::Sign(const std::string& message) const {
  const EVP_MD* md = nullptr;
  switch (kind_) {
    case KeyKind::kP256:
    case KeyKind::kRsa2048:
    case KeyKind::kRsa2048Pss:
      md = EVP_sha256();
      break;
    case KeyKind::kP384:
      md = EVP_sha384();
      break;
    case KeyKind::kEd25519:
      md = nullptr;
      break;
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  Check(EVP_DigestSignInit(ctx, &pctx, md, nullptr, key_.get()) == 1, "DigestSignInit");
  if (kind_ == KeyKind::kRsa2048Pss) {
    Check(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1, "pss");
    Check(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1, "saltlen");
  }
  size_t length = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(message.data());
  Check(EVP_DigestSign(ctx, nullptr, &length, data, message.size()) == 1, "DigestSign size");
  std::string signature(length, '\0');
  Check(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &length, data, message.size()) == 1,
        "DigestSign");
  signature.resize(length);
  EVP_MD_CTX_free(ctx);
  return signature;
}

std::string SigningKey::SignDigest(const std::string& digest) const {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key_.get(), nullptr);
  Check(ctx != nullptr && EVP_PKEY_sign_init(ctx) == 1 && EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1,
        "sign_init");
  if (kind_ == KeyKind::kRsa2048Pss) Check(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1, "pss");
  size_t length = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(digest.data());
  Check(EVP_PKEY_sign(ctx, nullptr, &length, data, digest.size()) == 1, "sign size");
  std::string signature(length, '\0');
  Check(EVP_PKEY_sign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &length, data, digest.size()) == 1,
        "sign");
  signature.resize(length);
  EVP_PKEY_CTX_free(ctx);
  return signature;
}

std::string SigningKey::Hint() const {
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(key_.get(), &der);
  Check(length > 0, "i2d_PUBKEY");
  std::string spki(reinterpret_cast<const char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return Base64Encode(Sha256(spki));
}

std::string ImageDigest(const std::string& seed) { return "sha256:" + Sha256Hex("image manifest " + seed); }

std::string SimpleSigningPayload(const std::string& digest, const std::string& docker_reference,
                                 const std::string& type) {
  // Go's encoding/json of payload.Cosign: struct field order, compact, "optional":null.
  return "{\"critical\":{\"identity\":{\"docker-reference\":\"" + docker_reference +
         "\"},\"image\":{\"docker-manifest-digest\":\"" + digest + "\"},\"type\":\"" + type + "\"},\"optional\":null}";
}

nlohmann::json SimpleSigningLayer(const std::string& payload, const std::string& signature_b64) {
  return {{"mediaType", "application/vnd.dev.cosign.simplesigning.v1+json"},
          {"size", payload.size()},
          {"digest", "sha256:" + Sha256Hex(payload)},
          {"annotations", {{"dev.cosignproject.cosign/signature", signature_b64}}}};
}

std::string SignatureManifest(const std::vector<nlohmann::json>& layers) {
  nlohmann::json manifest = {{"schemaVersion", 2},
                             {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                             {"config",
                              {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                               {"size", 233},
                               {"digest", "sha256:" + Sha256Hex("dummy config")}}},
                             {"layers", layers}};
  return manifest.dump();
}

std::string InTotoStatement(const std::string& digest, const std::string& predicate_type) {
  nlohmann::json statement = {{"_type", "https://in-toto.io/Statement/v1"},
                              {"subject", {{{"digest", {{"sha256", digest.substr(7)}}}}}},
                              {"predicateType", predicate_type},
                              {"predicate", nlohmann::json::object()}};
  return statement.dump();
}

std::string DsseBundle(const SigningKey& key, const std::string& payload, const std::string& payload_type) {
  const std::string signature = key.Sign(DssePae(payload_type, payload));
  nlohmann::json bundle = {{"mediaType", kBundleType},
                           {"verificationMaterial", {{"publicKey", {{"hint", key.Hint()}}}}},
                           {"dsseEnvelope",
                            {{"payload", Base64Encode(payload)},
                             {"payloadType", payload_type},
                             {"signatures", {{{"sig", Base64Encode(signature)}}}}}}};
  return bundle.dump();
}

std::string BundleReferrerManifest(const std::string& bundle_digest, size_t bundle_size,
                                   const std::string& subject_digest, const std::string& predicate_type) {
  nlohmann::json manifest = {
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
      {"config", {{"mediaType", kEmptyType}, {"size", 2}, {"digest", kEmptyDigest}, {"artifactType", kBundleType}}},
      {"layers", {{{"mediaType", kBundleType}, {"size", bundle_size}, {"digest", bundle_digest}}}},
      {"annotations",
       {{"dev.sigstore.bundle.content", "dsse-envelope"},
        {"dev.sigstore.bundle.predicateType", predicate_type},
        {"org.opencontainers.image.created", "2026-07-30T12:00:00Z"}}},
      {"subject",
       {{"mediaType", "application/vnd.oci.image.index.v1+json"}, {"size", 9125}, {"digest", subject_digest}}},
      {"artifactType", kBundleType}};
  return manifest.dump();
}

std::string PushLegacySignature(FakeRegistry& registry, const SigningKey& key, const std::string& digest) {
  const std::string payload = SimpleSigningPayload(digest);
  registry.PutBlob(payload);
  registry.PutManifest(SignatureManifest({SimpleSigningLayer(payload, Base64Encode(key.Sign(payload)))}),
                       "sha256-" + digest.substr(7) + ".sig");
  return payload;
}

std::string LegacyRekorAnnotation(const SigningKey& log_key, const std::string& payload,
                                  const std::string& signature_b64, const SigningKey& signer, bool forge_set) {
  const nlohmann::json body = {
      {"apiVersion", "0.0.1"},
      {"kind", "hashedrekord"},
      {"spec",
       {{"data", {{"hash", {{"algorithm", "sha256"}, {"value", Sha256Hex(payload)}}}}},
        {"signature", {{"content", signature_b64}, {"publicKey", {{"content", Base64Encode(signer.public_pem())}}}}}}}};
  RekorEntry entry;
  entry.body_base64 = Base64Encode(body.dump());
  entry.integrated_time = 1785412800;
  entry.log_index = 123456789;
  entry.log_id_hex = PublicKey::FromPem(log_key.public_pem())->Sha256HexId();
  const SigningKey& set_signer = forge_set ? signer : log_key;
  entry.signed_entry_timestamp = set_signer.Sign(SignedEntryTimestampPayload(entry));
  return nlohmann::json{{"SignedEntryTimestamp", Base64Encode(entry.signed_entry_timestamp)},
                        {"Payload",
                         {{"body", entry.body_base64},
                          {"integratedTime", entry.integrated_time},
                          {"logIndex", entry.log_index},
                          {"logID", entry.log_id_hex}}}}
      .dump();
}

std::string PushLegacySignatureWithSet(FakeRegistry& registry, const SigningKey& key, const std::string& digest,
                                       const SigningKey& log_key, bool forge_set) {
  const std::string payload = SimpleSigningPayload(digest);
  registry.PutBlob(payload);
  const std::string signature = Base64Encode(key.Sign(payload));
  nlohmann::json layer = SimpleSigningLayer(payload, signature);
  layer["annotations"]["dev.sigstore.cosign/bundle"] =
      LegacyRekorAnnotation(log_key, payload, signature, key, forge_set);
  registry.PutManifest(SignatureManifest({layer}), "sha256-" + digest.substr(7) + ".sig");
  return payload;
}

std::string PushBundle(FakeRegistry& registry, const std::string& bundle_json, const std::string& subject_digest,
                       const std::string& descriptor_artifact_type, const std::string& predicate_type) {
  const std::string bundle_digest = registry.PutBlob(bundle_json);
  registry.PutBlob("{}");
  return registry.PushReferrer(
      BundleReferrerManifest(bundle_digest, bundle_json.size(), subject_digest, predicate_type), subject_digest,
      descriptor_artifact_type);
}

std::string AttestationStatement(const std::string& digest, const std::string& predicate_type,
                                 const nlohmann::json& predicate, const std::string& subject_name) {
  nlohmann::json statement = {{"_type", "https://in-toto.io/Statement/v0.1"},
                              {"predicateType", predicate_type},
                              {"subject", {{{"name", subject_name}, {"digest", {{"sha256", digest.substr(7)}}}}}},
                              {"predicate", predicate}};
  return statement.dump();
}

std::string DsseEnvelopeJson(const SigningKey& key, const std::string& payload) {
  const std::string payload_type = "application/vnd.in-toto+json";
  nlohmann::json envelope = {
      {"payloadType", payload_type},
      {"payload", Base64Encode(payload)},
      {"signatures", {{{"keyid", ""}, {"sig", Base64Encode(key.Sign(DssePae(payload_type, payload)))}}}}};
  return envelope.dump();
}

nlohmann::json AttestationLayer(const std::string& envelope, const std::string& predicate_type) {
  return {{"mediaType", "application/vnd.dsse.envelope.v1+json"},
          {"size", envelope.size()},
          {"digest", "sha256:" + Sha256Hex(envelope)},
          {"annotations", {{"dev.cosignproject.cosign/signature", ""}, {"predicateType", predicate_type}}}};
}

void PushLegacyAttestations(FakeRegistry& registry, const std::string& digest,
                            const std::vector<std::pair<std::string, nlohmann::json>>& envelopes_and_layers) {
  std::vector<nlohmann::json> layers;
  for (const auto& item : envelopes_and_layers) {
    registry.PutBlob(item.first);
    layers.push_back(item.second);
  }
  registry.PutBlob("dummy config");
  registry.PutManifest(SignatureManifest(layers), "sha256-" + digest.substr(7) + ".att");
}

std::string PushAttestationBundle(FakeRegistry& registry, const SigningKey& key, const std::string& statement,
                                  const std::string& digest, const std::string& predicate_type) {
  return PushBundle(registry, DsseBundle(key, statement), digest, "application/vnd.dev.sigstore.bundle.v0.3+json",
                    predicate_type);
}

}  // namespace pipeguard::signatures::testing
