// Helpers shared by the per-format checks (private header).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "pipeguard/signatures/checks.h"

namespace pipeguard::signatures {

inline SignatureCheck Fail(Reason reason, std::string detail, std::string key_name = {}) {
  SignatureCheck check;
  check.reason = reason;
  check.detail = std::move(detail);
  check.key_name = std::move(key_name);
  return check;
}

// The trusted key among `candidates` whose signature over `message` verifies, or nullptr.
inline const TrustedPublicKey* FindSigner(const std::vector<const TrustedPublicKey*>& candidates,
                                          std::string_view message, std::string_view signature) {
  for (const TrustedPublicKey* key : candidates) {
    if (key->key.Verify(message, signature)) return key;
  }
  return nullptr;
}

inline std::vector<const TrustedPublicKey*> AllKeys(const TrustedKeySet& keys) {
  std::vector<const TrustedPublicKey*> all;
  for (const auto& key : keys.keys()) all.push_back(&key);
  return all;
}

// Applies CheckOptions' transparency-log policy to the entries carried by one signature whose cryptographic
// signature was verified by `signer`. Returns kVerified with tlog_verified set as appropriate, or a failure.
SignatureCheck CheckTlogEntries(const std::vector<RekorEntry>& entries, const SignatureBinding& binding,
                                const std::string& key_name, const CheckOptions& options);

// verificationMaterial.tlogEntries[] of a bundle as RekorEntry values (with inclusion proofs when present).
StatusOr<std::vector<RekorEntry>> ParseTlogEntries(const nlohmann::json& material);

// The in-toto statement claims of a DSSE payload: an accepted predicate type (options.image_signature_predicate_types;
// empty accepts any) and a subject whose digest.sha256 is the hex of `artifact_digest` ("sha256:<hex>").
SignatureCheck CheckStatement(std::string_view statement_bytes, std::string_view artifact_digest,
                              const std::string& key_name, const CheckOptions& options);

// A DSSE envelope's parts, decoded (not yet verified).
struct DsseEnvelope {
  std::string payload_type;
  std::string payload;
  std::string signature;
};

// Reads {payloadType, payload, signatures:[{sig}]} with exactly one signature (a Sigstore bundle's rule, applied to
// legacy `.att` envelopes too). InvalidArgument naming the field otherwise.
StatusOr<DsseEnvelope> ParseDsseEnvelope(const nlohmann::json& envelope);

// Parses the legacy `dev.sigstore.cosign/bundle` annotation: {"SignedEntryTimestamp": b64, "Payload": {"body": b64,
// "integratedTime": n, "logIndex": n, "logID": hex}}.
StatusOr<RekorEntry> ParseRekorAnnotation(const std::string& annotation);

// The simple-signing payload claims: critical.type is a cosign container image signature and
// critical.image.docker-manifest-digest == image_digest. kVerified with key_name = signer_name, or the failure.
SignatureCheck CheckSimpleSigningClaims(std::string_view payload_bytes, std::string_view image_digest,
                                        const std::string& signer_name);

}  // namespace pipeguard::signatures
