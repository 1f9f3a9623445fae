// Offline Rekor v1 transparency-log checks: the signed entry timestamp (SET, "inclusion promise") and the binding
// between a log entry body and the signature being verified (reference: cosign-signatures.md §2.5, §4.1).
//
// Inclusion proofs, checkpoints and Rekor v2 entries are not checked here. A RekorKeySet is immutable and
// thread-safe once built.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/policy/config.h"
#include "pipeguard/signatures/crypto.h"

namespace pipeguard::signatures {

struct RekorLogKey {
  std::string log_id_hex;  // hex SHA-256 of the key's SPKI DER, as Rekor names its log
  PublicKey key;
};

// The transparency-log public keys trusted for SET verification, selected by log ID.
class RekorKeySet {
 public:
  RekorKeySet() = default;  // empty: no Rekor checks possible

  // One PEM PUBLIC KEY per element (e.g. the public-good Rekor key). Errors name the element index.
  static StatusOr<RekorKeySet> FromPem(const std::vector<std::string>& pems);
  // The Rekor v1 logs (ECDSA keys) of a Sigstore trusted_root.json (`tlogs[].publicKey.rawBytes`). Ed25519
  // (Rekor v2) logs are skipped: they issue no SETs.
  static StatusOr<RekorKeySet> FromTrustedRoot(std::string_view trusted_root_json);
  // The logs of the configuration's images.rekor: every publicKeys entry (inline PEM or a PEM file) and the Rekor
  // v1 logs of trustedRootFile; reading those files is the only I/O. Errors (InvalidArgument, NotFound for a
  // missing file) name the setting, key and file, never file contents. An empty configuration yields an empty set;
  // a configured one that yields no usable log key is an error.
  static StatusOr<RekorKeySet> Load(const policy::RekorConfig& config);

  bool empty() const { return keys_.empty(); }
  const std::vector<RekorLogKey>& keys() const { return keys_; }
  // The key of the log with this lowercase hex ID, or nullptr.
  const PublicKey* Find(std::string_view log_id_hex) const;

 private:
  std::vector<RekorLogKey> keys_;
};

// A Merkle inclusion proof (RFC 6962/9162) with the log's signed checkpoint, as a bundle's tlogEntries[].inclusionProof
// carries it.
struct InclusionProof {
  int64_t log_index = 0;  // the tree-local leaf index
  int64_t tree_size = 0;
  std::string root_hash;            // raw 32 bytes
  std::vector<std::string> hashes;  // raw 32-byte audit path, leaf to root
  std::string checkpoint;           // signed note text ("" when absent)
};

// A Rekor v1 entry as both cosign formats carry it (legacy `dev.sigstore.cosign/bundle` annotation, or a bundle's
// verificationMaterial.tlogEntries[]), normalised.
struct RekorEntry {
  std::string body_base64;  // canonicalized entry body, base64 exactly as carried (it is what the SET signs)
  int64_t integrated_time = 0;
  int64_t log_index = 0;               // the global log index (not the inclusion proof's tree-local index)
  std::string log_id_hex;              // lowercase hex
  std::string signed_entry_timestamp;  // raw DER ECDSA signature bytes; empty when the entry has no SET
  std::optional<InclusionProof> inclusion_proof;
};

// The RFC 8785 canonical JSON that a SET signs: {"body","integratedTime","logID","logIndex"} in that order.
std::string SignedEntryTimestampPayload(const RekorEntry& entry);

// Verifies the entry's SET with the trusted log key for its log ID. Errors: NotFound when the log is not trusted
// (callers skip such entries), InvalidArgument when the SET is missing or does not verify.
Status VerifySignedEntryTimestamp(const RekorKeySet& logs, const RekorEntry& entry);

// What the entry body must record for it to vouch for the signature being verified.
struct SignatureBinding {
  std::string signed_sha256_hex;  // lowercase hex SHA-256 of the legacy payload blob, of the DSSE payload (decoded),
                                  // or a messageSignature's message digest
  std::string_view signature;     // raw signature bytes
  const PublicKey* signer;        // the trusted key that verified the signature
  // Keyless: the DER signing certificate, which the entry must record (as PEM) instead of a bare key.
  std::string_view certificate_der = {};
  // DSSE signatures: hex SHA-256 of the PAE, which a Rekor v2 hashedrekord entry records for an envelope
  // ("hashedrekord over DSSE") instead of the payload hash.
  std::string dsse_pae_sha256_hex = {};
};

// Checks that the decoded entry body (Rekor v1 kinds hashedrekord/rekord for simple signing and message
// signatures, dsse for DSSE envelopes) records `signed_sha256_hex`, the same signature bytes and the same public
// key (or, for keyless signatures, the same certificate). InvalidArgument with the mismatch otherwise (e.g. the entry
// records a certificate where a key was expected, or another key).
Status CheckEntryBody(const RekorEntry& entry, const SignatureBinding& binding);

// Verifies the entry's inclusion proof: the RFC 6962 leaf hash of the entry body, through the audit path, gives the
// proof's root hash, and when a checkpoint is present it is a signed note carrying a signature line named
// `log_name` (the log's host, e.g. "rekor.sigstore.dev", or "localhost:3000": Rekor v1 names its checkpoints with the
// port, Rekor v2 with the host name alone, which is what sigstore-go checks, so both count; lines with other names,
// e.g. witnesses' cosignatures, are ignored) with key hint = the first 4 bytes of `log_id_hex`, made by `log_key`,
// naming the same tree size and root hash. InvalidArgument saying which part failed; FailedPrecondition when the entry
// has no inclusion proof.
Status VerifyInclusionProof(const RekorEntry& entry, const PublicKey& log_key, std::string_view log_id_hex,
                            std::string_view log_name, bool require_checkpoint);

}  // namespace pipeguard::signatures
