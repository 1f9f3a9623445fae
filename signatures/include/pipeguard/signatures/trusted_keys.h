// The set of public keys whose signatures make an image trusted (configuration `images.keys`).
//
// Built once per configuration (reading key files is the only I/O, done in Load) and immutable afterwards, so it
// is safe to share between threads. Its fingerprint identifies the exact key set for verification caches.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/policy/config.h"
#include "pipeguard/signatures/crypto.h"

namespace pipeguard::signatures {

struct TrustedPublicKey {
  std::string name;    // the configured name, used in results and messages
  std::string source;  // "inline" or the file path it was read from
  PublicKey key;
  std::string hint;  // base64(SHA-256(SPKI DER)), compared with a bundle's publicKey.hint
};

class TrustedKeySet {
 public:
  // Loads every entry: inline PEM (`public_key_pem`) or a PEM file (`path`), exactly one of the two. Errors
  // (InvalidArgument, or NotFound for a missing file) name the key and the file and say how to fix it; they never
  // quote file contents. An empty list and duplicate names are errors.
  static StatusOr<TrustedKeySet> Load(const std::vector<policy::TrustedKey>& entries);

  // The empty set, for configurations that trust only keyless signers (images.keyless without images.keys).
  static TrustedKeySet None() { return TrustedKeySet({}); }

  const std::vector<TrustedPublicKey>& keys() const { return keys_; }

  // The keys named in `names` (a PipelineSecurityProfile's spec.images.trustedKeys), with their own fingerprint.
  // NotFound naming the first name this set does not have; InvalidArgument for an empty list. No I/O.
  StatusOr<TrustedKeySet> Subset(const std::vector<std::string>& names) const;

  // Lowercase hex SHA-256 over the sorted (name, SPKI) pairs: equal for equal key sets regardless of the order
  // or form (inline/file, PEM whitespace) in which they were configured; different if any key or name differs.
  const std::string& fingerprint() const { return fingerprint_; }

  // The keys whose hint equals `hint` (normally zero or one).
  std::vector<const TrustedPublicKey*> FindByHint(std::string_view hint) const;

  // The key with this SPKI DER, or nullptr.
  const TrustedPublicKey* FindBySpki(std::string_view spki_der) const;

  // "name1, name2" for messages.
  std::string Names() const;

 private:
  explicit TrustedKeySet(std::vector<TrustedPublicKey> keys);

  std::vector<TrustedPublicKey> keys_;
  std::string fingerprint_;
};

}  // namespace pipeguard::signatures
