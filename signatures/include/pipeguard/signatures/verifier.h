// Discovers and verifies the cosign signatures of one image through a registry::Registry
// (cosign-signatures.md §2, §3.2). Both formats are looked at: Sigstore bundles among the OCI 1.1 referrers
// (referrers API, or the `sha256-<hex>` fallback tag when the registry has none) and the legacy
// `sha256-<hex>.sig` manifest. Any signature from a trusted key that passes every check verifies the image.
//
// Trust comes only from signed bytes: descriptor artifactTypes, index annotations, referrer `subject` fields and
// key hints are used to find and order candidates, never to accept one. Every referrer manifest is opened.
//
// Fails closed: a registry outage, a refused credential or the deadline yields verified == false with a reason
// saying so. A Verifier is immutable and thread-safe; Verify may be called concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/registry/registry.h"
#include "pipeguard/signatures/attestation_policy.h"
#include "pipeguard/signatures/checks.h"
#include "pipeguard/signatures/keyless.h"
#include "pipeguard/signatures/rekor.h"
#include "pipeguard/signatures/trusted_keys.h"

namespace pipeguard::signatures {

struct VerifierOptions {
  // In-toto predicate types accepted as image signatures (see CheckOptions).
  std::vector<std::string> image_signature_predicate_types{std::string(kCosignSignPredicateType)};
  // Trusted Rekor logs for offline SET checks; empty = transparency-log data ignored.
  RekorKeySet rekor;
  // Require a verified transparency-log entry for every accepted signature (needs `rekor`).
  bool require_tlog = false;
  // Keyless (Fulcio certificate) signers, checked against their own trusted root and identities (keyless.h).
  // Null: keyless signatures are refused with kKeylessUnsupported.
  std::shared_ptr<const KeylessVerification> keyless;

  // Limits on hostile registry content. Beyond max_signature_layers the legacy manifest is rejected as malformed;
  // beyond max_referrers only the first ones (signature-typed first) are opened.
  size_t max_signature_layers = 64;
  size_t max_referrers = 32;
  size_t max_payload_bytes = 64u << 10;  // legacy simple-signing payload blobs
  size_t max_bundle_bytes = 256u << 10;  // Sigstore bundle blobs
  // Attestations (VerifyAttestations): each DSSE envelope or bundle blob holding one (SBOMs are large), and all
  // attestation blobs of one image together; beyond the total the remaining candidates are not fetched (and the
  // requirements they might have met stay unmet: fail closed).
  size_t max_attestation_bytes = 4u << 20;
  size_t max_attestation_total_bytes = 16u << 20;

  // The clock compared with the deadline; default std::chrono::steady_clock::now. Injected by tests.
  std::function<registry::Deadline()> clock;
};

// One signature that was examined, for logs and audit.
struct SignatureFinding {
  SignatureFormat format = SignatureFormat::kNone;
  std::string location;  // e.g. "sha256-<hex>.sig layer 0", "referrer sha256:<manifest digest>"
  SignatureCheck check;
};

struct VerificationResult {
  bool verified = false;
  Reason reason = Reason::kNoSignature;  // kVerified iff verified
  std::string image;                     // the reference as given, e.g. "ghcr.io/org/app:1.2"
  std::string digest;                    // the digest verified (resolved from the tag if needed); empty if unknown
  std::string key_name;                  // the trusted key that verified the image
  SignatureFormat format = SignatureFormat::kNone;  // format of the accepted signature
  std::string signature_location;                   // where the accepted signature was found
  bool tlog_verified = false;                       // the accepted signature has a verified Rekor entry
  // One line naming the image and digest and saying why (or by which key) it is (not) verified. Contains no
  // secrets; registry error texts are included as the registry client wrote them.
  std::string message;
  std::vector<SignatureFinding> findings;  // every signature examined, in order
};

// The attestations of one image digest, verified and checked against requirements (VerifyAttestations).
struct AttestationResult {
  // True iff the requirements are met by verified attestations and no discovery path failed.
  bool satisfied = false;
  // kVerified when satisfied; kAttestationsNotSatisfied when the attestations found do not meet the requirements;
  // an environment reason (kRegistryUnreachable, kRegistryDenied, kTimedOut: transient, never cache it) when a
  // discovery path failed, even if what was found would suffice (a missed attestation could be a newer failing
  // scan); kMalformed when the image reference has no sha256 digest.
  Reason reason = Reason::kAttestationsNotSatisfied;
  std::string digest;
  // The verified in-toto statements whose subject names the digest (image signatures excluded).
  std::vector<InTotoStatement> statements;
  // CheckAttestations over `statements` (failure lines, and when the verdict changes with time).
  AttestationCheck check;
  // Every attestation candidate examined (verified or not), in order; location e.g. "sha256-<hex>.att layer 1".
  std::vector<SignatureFinding> findings;
  // `why` without the image: "attestations satisfy the requirements (<requirements>; N verified attestation(s):
  // <types>)", "attestations not satisfied: <CheckAttestations failure lines> (<what was found>; N ignored:
  // <location>: <reason> (<detail>))", or "<environment reason> (attestations: <path>: <error>)".
  std::string why;
  // What was found, for messages that combine several requirement sets: "N verified attestation(s): <types>" and,
  // when some were ignored, "; M ignored: <location>: <reason> (<detail>); ...".
  std::string evidence;
  // "image <ref> (<digest>): " + why. No secrets, no predicate content beyond ids, severities and times.
  std::string message;
};

class Verifier {
 public:
  // InvalidArgument when require_tlog is set without Rekor keys, or a limit is zero.
  static StatusOr<Verifier> Create(VerifierOptions options);

  // Resolves `image` to a digest (ResolveDigest when it has only a tag), then looks for signatures until one
  // verifies or the candidates are exhausted. Registry calls get `deadline`; the deadline is also checked before
  // each call. Keyless signatures are accepted when options().keyless is set and `allow_keyless` (false when the
  // caller narrowed the trusted keys, e.g. to a profile's subset, so that keyless signers cannot widen it).
  // Never throws.
  VerificationResult Verify(registry::Registry& registry, const registry::ImageReference& image,
                            const TrustedKeySet& keys, registry::Deadline deadline, bool allow_keyless = true) const;
  // The same with the keyless signers given explicitly (null: keyless signatures are refused), e.g. a profile's
  // subset of the configured identities (same trusted root).
  VerificationResult Verify(registry::Registry& registry, const registry::ImageReference& image,
                            const TrustedKeySet& keys, registry::Deadline deadline,
                            const KeylessVerification* keyless) const;

  // Finds the attestations of `image` (which must carry its sha256 digest: verify the signature first) in both
  // formats cosign writes: the legacy `sha256-<hex>.att` manifest (each layer a DSSE envelope) and Sigstore bundles
  // with a DSSE envelope among the OCI 1.1 referrers (or the `sha256-<hex>` fallback tag). Each envelope is verified
  // like a signature (trusted keys or, with `allow_keyless`, the keyless identities; Rekor rules as for
  // signatures); its in-toto statement must name the digest; then CheckAttestations(requirements,
  // now_unix_seconds). Unsigned, untrusted, malformed or other-digest attestations are ignored (listed in the
  // message). Referrers whose unsigned predicateType annotation names an image-signature type are skipped. Limits:
  // max_referrers, max_signature_layers, max_attestation_bytes, max_attestation_total_bytes. Never throws.
  AttestationResult VerifyAttestations(registry::Registry& registry, const registry::ImageReference& image,
                                       const TrustedKeySet& keys, const AttestationRequirements& requirements,
                                       std::int64_t now_unix_seconds, registry::Deadline deadline,
                                       bool allow_keyless = true) const;
  AttestationResult VerifyAttestations(registry::Registry& registry, const registry::ImageReference& image,
                                       const TrustedKeySet& keys, const AttestationRequirements& requirements,
                                       std::int64_t now_unix_seconds, registry::Deadline deadline,
                                       const KeylessVerification* keyless) const;

  // Hex SHA-256 over every option that can change a verdict (predicate types, Rekor keys, require_tlog, limits,
  // keyless trust):
  // with the digest and TrustedKeySet::fingerprint() it forms a complete verification cache key.
  const std::string& fingerprint() const { return fingerprint_; }

  const VerifierOptions& options() const { return options_; }

 private:
  explicit Verifier(VerifierOptions options);

  VerifierOptions options_;
  std::string fingerprint_;
};

}  // namespace pipeguard::signatures
