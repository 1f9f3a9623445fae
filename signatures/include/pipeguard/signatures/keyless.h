// Keyless (Sigstore/Fulcio) signature verification, offline: everything is proven from the signature material and
// a pinned trusted_root.json (keyless-and-attestations.md §1, cosign-signatures.md §8).
//
// A keyless signature verifies when, in this order:
//   bundle       the material parses (bundle v0.1-v0.3 with a certificate or x509CertificateChain; no root
//                certificate in the chain);
//   certificate  the leaf is a code-signing (EKU), non-CA certificate;
//   signature    the DSSE envelope (exactly one signature, over PAE) or message signature verifies with the leaf key;
//   artifact     the signed content names the artifact: the in-toto statement subject (DSSE, with an accepted
//                predicate type) or the message digest equals `artifact_digest`;
//   tlog         at least one entry of a trusted log verifies: for Rekor v1 its SET (inclusion promise) under the
//                log key valid at the integrated time; its inclusion proof and signed checkpoint (required for
//                bundle v0.2 and later and for Rekor v2, whose Ed25519 checkpoints are the only proof); and its body
//                (hashedrekord/dsse/intoto 0.0.1-0.0.2) records this signature, content hash and certificate;
//   timestamp    every RFC 3161 timestamp in timestampVerificationData verifies against a timestamp authority of the
//                trusted root (over the signature bytes);
//   signing-time the signing time (the SET's integrated time, else the earliest RFC 3161 time: Rekor v2) exists,
//                lies within the certificate's validity, is not in the future, and so does every timestamp;
//   certificate-chain  the leaf chains to a trusted Fulcio CA at that time (only trusted-root certificates are used
//                as issuers);
//   sct          an embedded SCT from a trusted CT log verifies (unless disabled);
//   identity     the certificate matches an allowed identity (IdentityPolicy).
// The first failing check is reported in SignatureCheck::failed_check with a detail; the reason maps as: bundle ->
// kMalformed, certificate/signing-time/certificate-chain/sct -> kUntrustedCertificate, signature/tlog/timestamp ->
// kInvalidSignature, artifact -> kDigestMismatch (or kNotAnImageSignature for another predicate type),
// identity -> kIdentityNotAllowed, unsupported -> kKeylessUnsupported.
//
// A verified transparency-log entry is always required (an RFC 3161 timestamp alone does not suffice).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/policy/config.h"
#include "pipeguard/signatures/checks.h"
#include "pipeguard/signatures/identity.h"
#include "pipeguard/signatures/trusted_root.h"

namespace pipeguard::signatures {

// The trust configuration of keyless verification. The pointers must outlive the call.
struct KeylessTrust {
  const TrustedRoot* root = nullptr;
  const IdentityPolicy* identities = nullptr;
  bool require_sct = true;
  // The current time (Unix seconds) for the "integrated time not in the future" check; nullopt = system clock.
  std::optional<int64_t> now;
  // Allowed clock skew for that check.
  int64_t max_future_skew_seconds = 300;
};

// The keyless trust of a configuration (images.keyless), loaded once; immutable and shareable between threads.
struct KeylessVerification {
  TrustedRoot root;
  IdentityPolicy identities;
  bool require_sct = true;

  // Reads trustedRootFile (the only I/O) and compiles the identities. Errors name the setting, the identity and
  // the file: NotFound for a missing file, InvalidArgument otherwise.
  static StatusOr<KeylessVerification> Load(const policy::KeylessConfig& config);

  // The same trust with only the identities named (names not configured are ignored); nullopt when none is left
  // (then no keyless signature counts).
  std::optional<KeylessVerification> Subset(const std::vector<std::string>& names) const;

  // The KeylessTrust to pass to the checks (pointers into this object).
  KeylessTrust Trust() const;
  // Hex SHA-256 over the root, the identities and require_sct, for verification cache keys.
  std::string Fingerprint() const;
};

// Verifies a Sigstore bundle signed keylessly over `artifact_digest` ("sha256:<hex>": an image manifest digest,
// or the SHA-256 of a blob). Uses options.image_signature_predicate_types (empty = any), max_statement_subjects and
// max_tlog_entries; options.rekor and require_tlog are ignored (the trusted root's logs are used, and a verified
// entry is always required). On success key_name is "keyless identity '<name>'" and tlog_verified is true.
// A bundle with a public key instead of a certificate yields kUntrustedKey (failed_check "certificate").
// For a verified DSSE bundle, `*verified_payload` (if given) receives the decoded payload (the in-toto statement).
SignatureCheck CheckKeylessBundle(std::string_view bundle_json, std::string_view artifact_digest,
                                  const KeylessTrust& trust, const CheckOptions& options,
                                  std::string* verified_payload = nullptr);

// The legacy `.sig` form: the simple-signing payload signed with the certificate in the layer's
// dev.sigstore.cosign/certificate annotation (PEM; `chain` PEM intermediates are ignored: issuers come from the
// trusted root), with the Rekor entry of the dev.sigstore.cosign/bundle annotation (SET required) as time source.
// The payload must be a cosign container image signature for `image_digest`.
SignatureCheck CheckKeylessSimpleSigning(const SimpleSigningLayer& layer, std::string_view image_digest,
                                         const KeylessTrust& trust, const CheckOptions& options);

// A legacy `.att` layer signed keylessly: the DSSE envelope signed with the certificate of the
// dev.sigstore.cosign/certificate annotation (issuers come from the trusted root), the Rekor entry of the
// dev.sigstore.cosign/bundle annotation (SET required) as time source, and the statement claims of
// CheckDsseEnvelope (options.image_signature_predicate_types; empty accepts any). On success `*verified_payload`
// receives the decoded payload.
SignatureCheck CheckKeylessDsseEnvelope(const DsseEnvelopeLayer& layer, std::string_view image_digest,
                                        const KeylessTrust& trust, const CheckOptions& options,
                                        std::string* verified_payload = nullptr);

}  // namespace pipeguard::signatures
