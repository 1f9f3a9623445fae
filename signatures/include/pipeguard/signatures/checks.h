// Registry-free checks of one cosign signature against an image digest and a trusted key set: the legacy
// simple-signing layer (cosign-signatures.md §2.6) and the Sigstore bundle (§5). The Verifier (verifier.h) finds
// the signatures in a registry and calls these; they are also usable on their own (CLI, tests, offline checks).
//
// Pure functions of their arguments, thread-safe. Inputs are hostile: every malformed field yields kMalformed with
// a detail naming the field, never an exception or crash.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/signatures/rekor.h"
#include "pipeguard/signatures/trusted_keys.h"

namespace pipeguard::signatures {

// Why an image (or one signature) is or is not verified. Ordered from most to least specific failure for
// signature-level reasons; environment reasons (registry, time) come last.
enum class Reason {
  kVerified,
  kDigestMismatch,        // a trusted key signed a different image digest
  kNotAnImageSignature,   // a trusted key signed something else: an attestation, another payload type
  kInvalidSignature,      // the signature names a trusted key (hint, log entry) but does not verify, or its
                          // transparency-log proof fails
  kUntrustedKey,          // no trusted key verifies the signature: made by another key, or altered after signing
  kIdentityNotAllowed,    // keyless: a valid certificate, but its subject/issuer/claims match no allowed identity
  kUntrustedCertificate,  // keyless: the certificate does not chain to a trusted Fulcio CA at the signing time, was
                          // not valid then, or its certificate-transparency proof (SCT) fails
  kKeylessUnsupported,    // signed with a Fulcio certificate (keyless); only configured keys are supported
  // Image level only (never a single signature's reason): the signature verifies but the image's verified
  // attestations do not meet the configured requirements (attestation_policy.h), or none of them is usable.
  kAttestationsNotSatisfied,
  kMalformed,            // the signature material cannot be parsed or breaks a limit
  kNoSignature,          // no signature of either format exists for the digest
  kImageNotFound,        // the image (tag or digest) does not exist in the registry
  kRegistryDenied,       // the registry refused our credentials
  kRegistryUnreachable,  // the registry could not be reached or failed (5xx, connection refused)
  kTimedOut,             // the verification deadline passed
};

// Short human phrase: "verified", "signature for a different digest", "no signature found", ...
std::string_view ReasonText(Reason reason);
// Stable snake_case identifier for metrics and logs: "verified", "digest_mismatch", "no_signature", ...
std::string_view ReasonId(Reason reason);

enum class SignatureFormat {
  kNone,
  kSimpleSigning,   // legacy `sha256-<hex>.sig` tag (cosign <= 2.x default), or the same layers as an OCI referrer
  kSigstoreBundle,  // Sigstore bundle stored as an OCI 1.1 referrer (cosign >= 3 default)
  kDsseEnvelope,    // a DSSE envelope layer of a legacy `sha256-<hex>.att` manifest (cosign attest <= 2.x)
};
std::string_view SignatureFormatName(SignatureFormat format);

// The predicate type cosign v3 `sign` writes into the in-toto statement of an image signature.
inline constexpr std::string_view kCosignSignPredicateType = "https://sigstore.dev/cosign/sign/v1";

struct CheckOptions {
  // Trusted transparency logs. Null or empty: transparency-log data in signatures is ignored (like cosign
  // --insecure-ignore-tlog). Otherwise every entry from a trusted log must verify (SET and body binding) and
  // entries from other logs are skipped.
  const RekorKeySet* rekor = nullptr;
  // Demand at least one verified entry from a trusted log (needs a non-empty `rekor`).
  bool require_tlog = false;
  // In-toto predicate types that make a DSSE statement an image signature. Anything else (SLSA provenance,
  // SBOMs, cosign attestations) is rejected as kNotAnImageSignature. Empty accepts any predicate type (verifying
  // a blob's attestation rather than an image signature).
  std::vector<std::string> image_signature_predicate_types{std::string(kCosignSignPredicateType)};
  size_t max_statement_subjects = 1024;
  size_t max_tlog_entries = 8;
};

// The outcome for one signature.
struct SignatureCheck {
  Reason reason = Reason::kMalformed;
  std::string detail;          // why, in words; empty when verified
  std::string key_name;        // the trusted key whose signature verified (also set when a later claim check failed)
  bool tlog_verified = false;  // a trusted transparency-log entry vouches for the signature
  // Keyless checks: which check failed, a stable id ("bundle", "certificate", "signature", "artifact", "tlog",
  // "signing-time", "timestamp", "certificate-chain", "sct", "identity", "unsupported"); empty when verified or
  // key-based.
  std::string failed_check;

  bool verified() const { return reason == Reason::kVerified; }
};

// One layer of a legacy `.sig` manifest: the payload blob (already checked against the layer digest) and the
// layer's annotations.
struct SimpleSigningLayer {
  std::string_view payload;
  std::optional<std::string> signature;     // dev.cosignproject.cosign/signature (base64)
  std::optional<std::string> certificate;   // dev.sigstore.cosign/certificate (PEM; keyless)
  std::optional<std::string> rekor_bundle;  // dev.sigstore.cosign/bundle (JSON with the Rekor SET)
};

// Verifies the signature over the exact payload bytes with the trusted keys, then the payload claims:
// critical.type == "cosign container image signature" and critical.image.docker-manifest-digest == image_digest.
SignatureCheck CheckSimpleSigning(const SimpleSigningLayer& layer, std::string_view image_digest,
                                  const TrustedKeySet& keys, const CheckOptions& options);

// Verifies a Sigstore bundle (v0.1-v0.3 media types; protojson field names in camelCase or snake_case):
//   DSSE: the signature over PAE(payloadType, payload); payloadType application/vnd.in-toto+json; an in-toto
//         Statement (v1 or v0.1) whose predicateType is an image-signature type and some subject has
//         digest.sha256 == the image digest's hex.
//   messageSignature: messageDigest (SHA2_256) == the image digest, and the signature verifies over that digest.
// Certificates (keyless) are rejected with kKeylessUnsupported. When the bundle holds a DSSE envelope and verifies,
// `*verified_payload` (if given) receives the decoded DSSE payload (the in-toto statement).
SignatureCheck CheckBundle(std::string_view bundle_json, std::string_view image_digest, const TrustedKeySet& keys,
                           const CheckOptions& options, std::string* verified_payload = nullptr);

// The media type of a DSSE envelope layer in a legacy `.att` manifest.
inline constexpr std::string_view kDsseEnvelopeMediaType = "application/vnd.dsse.envelope.v1+json";

// One layer of a legacy `sha256-<hex>.att` manifest as `cosign attest` writes it: the DSSE envelope blob
// ({"payloadType","payload","signatures":[{"keyid","sig"}]}, already checked against the layer digest) and the
// layer's annotations (the dev.cosignproject.cosign/signature annotation is empty there: the signature is inside).
struct DsseEnvelopeLayer {
  std::string_view envelope;
  std::optional<std::string> certificate;   // dev.sigstore.cosign/certificate (PEM; keyless)
  std::optional<std::string> rekor_bundle;  // dev.sigstore.cosign/bundle (JSON with the Rekor SET)
};

// Verifies a legacy attestation layer with the trusted keys, by the same rules as a bundle's DSSE envelope:
// exactly one signature, over PAE(payloadType, payload); payloadType application/vnd.in-toto+json; an in-toto
// Statement whose predicateType is accepted (options.image_signature_predicate_types; empty accepts any) and some
// subject has digest.sha256 == the image digest's hex; the Rekor entry of the bundle annotation per
// options.rekor/require_tlog. A layer with a certificate that no trusted key verifies yields kKeylessUnsupported
// (the caller may try CheckKeylessDsseEnvelope). On success `*verified_payload` receives the decoded payload.
SignatureCheck CheckDsseEnvelope(const DsseEnvelopeLayer& layer, std::string_view image_digest,
                                 const TrustedKeySet& keys, const CheckOptions& options,
                                 std::string* verified_payload = nullptr);

// DSSE pre-authentication encoding: "DSSEv1 <len(type)> <type> <len(payload)> <payload>".
std::string DssePae(std::string_view payload_type, std::string_view payload);

}  // namespace pipeguard::signatures
