// Helpers shared by the per-format checks (private header).
#pragma once

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

}  // namespace pipeguard::signatures
