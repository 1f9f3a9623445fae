// Test support: signing keys generated with OpenSSL, and signature artifacts built exactly as cosign writes them
// (cosign-signatures.md §2.2-§2.4 legacy, §3.1 and §3.3-§3.4 bundle), pushed into a FakeRegistry.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fake_registry.h"

struct evp_pkey_st;

namespace pipeguard::signatures::testing {

enum class KeyKind { kP256, kP384, kRsa2048, kRsa2048Pss, kEd25519 };

// A private key for signing test artifacts. RSA-PSS signs RSA keys with PSS padding.
class SigningKey {
 public:
  static SigningKey Generate(KeyKind kind);

  // PEM "PUBLIC KEY" of the key.
  const std::string& public_pem() const { return public_pem_; }
  // Signs `message` the way cosign does for this key type (ECDSA DER with the curve's hash, RSA SHA-256,
  // Ed25519 pure).
  std::string Sign(const std::string& message) const;
  // Signs a precomputed SHA-256 digest (messageSignature); ECDSA and RSA only.
  std::string SignDigest(const std::string& digest) const;
  // base64(SHA-256(SPKI DER)), cosign's publicKey.hint.
  std::string Hint() const;
  // The OpenSSL key, for building test certificates (test_fulcio.h).
  evp_pkey_st* pkey() const { return key_.get(); }

 private:
  std::shared_ptr<evp_pkey_st> key_;
  KeyKind kind_ = KeyKind::kP256;
  std::string public_pem_;
};

// A digest for a made-up image manifest (distinct per seed).
std::string ImageDigest(const std::string& seed);

// The simple-signing payload exactly as cosign marshals it (Go encoding/json, compact, struct field order).
std::string SimpleSigningPayload(const std::string& digest,
                                 const std::string& docker_reference = "registry.example.com/team/app",
                                 const std::string& type = "cosign container image signature");

// One legacy `.sig` layer descriptor for `payload` with the given signature annotation (base64).
nlohmann::json SimpleSigningLayer(const std::string& payload, const std::string& signature_b64);

// A legacy `.sig` manifest (OCI media types) holding `layers`; `config_digest` points at a dummy config.
std::string SignatureManifest(const std::vector<nlohmann::json>& layers);

// The in-toto statement cosign v3 `sign` writes (protojson), for `digest`, with a predicate type.
std::string InTotoStatement(const std::string& digest,
                            const std::string& predicate_type = "https://sigstore.dev/cosign/sign/v1");

// A v0.3 bundle as `cosign sign --key k --use-signing-config=false --tlog-upload=false` writes it: publicKey.hint and
// a DSSE envelope whose single signature covers PAE(payloadType, payload).
std::string DsseBundle(const SigningKey& key, const std::string& payload,
                       const std::string& payload_type = "application/vnd.in-toto+json");

// The OCI 1.1 artifact manifest cosign v3 pushes for a bundle blob, with `subject` = the image.
// `predicate_type` is the (unsigned) dev.sigstore.bundle.predicateType annotation cosign sets.
std::string BundleReferrerManifest(const std::string& bundle_digest, size_t bundle_size,
                                   const std::string& subject_digest,
                                   const std::string& predicate_type = "https://sigstore.dev/cosign/sign/v1");

// Pushes a legacy signature by `key` for `digest` (payload blob + `.sig` manifest tag). Returns the payload.
std::string PushLegacySignature(FakeRegistry& registry, const SigningKey& key, const std::string& digest);

// The `dev.sigstore.cosign/bundle` annotation cosign v2 stores for a legacy signature logged in Rekor v1: a
// hashedrekord entry recording the payload hash, the signature and `signer`'s public key, with a signed entry
// timestamp (SET) by `log_key`. With `forge_set`, the SET is made by another key (the log ID stays `log_key`'s).
std::string LegacyRekorAnnotation(const SigningKey& log_key, const std::string& payload,
                                  const std::string& signature_b64, const SigningKey& signer, bool forge_set = false);

// PushLegacySignature with the Rekor annotation above on the layer. Returns the payload.
std::string PushLegacySignatureWithSet(FakeRegistry& registry, const SigningKey& key, const std::string& digest,
                                       const SigningKey& log_key, bool forge_set = false);

// Pushes a bundle (blob + referrer manifest) for `subject_digest`; returns the referrer manifest digest.
// `descriptor_artifact_type` is what the fallback index records (cosign <= 3.0.6 wrote the empty type).
std::string PushBundle(FakeRegistry& registry, const std::string& bundle_json, const std::string& subject_digest,
                       const std::string& descriptor_artifact_type = "application/vnd.dev.sigstore.bundle.v0.3+json",
                       const std::string& predicate_type = "https://sigstore.dev/cosign/sign/v1");

// --- Attestations (cosign attest) ---

// The in-toto statement `cosign attest --type T` writes (in-toto v0.1 statement, subject named after the image
// repository, the image digest) with `predicate`.
std::string AttestationStatement(const std::string& digest, const std::string& predicate_type,
                                 const nlohmann::json& predicate,
                                 const std::string& subject_name = "registry.example.com/team/app");

// The DSSE envelope blob of a legacy `.att` layer as cosign writes it:
// {"payloadType":"application/vnd.in-toto+json","payload":b64,"signatures":[{"keyid":"","sig":b64}]}.
std::string DsseEnvelopeJson(const SigningKey& key, const std::string& payload);

// One legacy `.att` layer descriptor for `envelope` (media type application/vnd.dsse.envelope.v1+json, an empty
// dev.cosignproject.cosign/signature annotation and the predicateType annotation).
nlohmann::json AttestationLayer(const std::string& envelope, const std::string& predicate_type);

// Pushes the envelopes' blobs and the `sha256-<hex>.att` manifest holding `layers` for `digest`.
void PushLegacyAttestations(FakeRegistry& registry, const std::string& digest,
                            const std::vector<std::pair<std::string, nlohmann::json>>& envelopes_and_layers);

// Pushes `statement` signed by `key` as a v0.3 bundle referrer of `digest` (annotation predicateType).
std::string PushAttestationBundle(FakeRegistry& registry, const SigningKey& key, const std::string& statement,
                                  const std::string& digest, const std::string& predicate_type);

}  // namespace pipeguard::signatures::testing
