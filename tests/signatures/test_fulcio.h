// Test support: a miniature Sigstore deployment made with OpenSSL (a Fulcio-like root and intermediate CA, a
// CT log, a Rekor v1 log) that issues short-lived code-signing certificates with Fulcio claim extensions and an
// embedded SCT, and builds the keyless signature artifacts cosign would write with them: a v0.3 DSSE bundle
// (Rekor SET, single-leaf inclusion proof, signed checkpoint) and a legacy `.sig` layer with the certificate and
// Rekor bundle annotations. Its trustedRootJson() lists exactly these authorities.
//
// The real-world behaviour of the verifier is pinned by the sigstore-conformance vectors; this exists to exercise
// the configuration and registry plumbing end to end, and variations (other identities, expired certificates)
// that no fixed vector provides.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "cosign_artifacts.h"

namespace pipeguard::signatures::testing {

struct LeafOptions {
  std::string san_uri = "https://github.com/acme/pipelines/.github/workflows/release.yml@refs/heads/main";
  std::string issuer = "https://token.actions.githubusercontent.com";
  std::map<int, std::string> extensions = {{12, "https://github.com/acme/pipelines"}, {14, "refs/heads/main"}};
  int64_t not_before = 1785412500;  // 2026-07-30T11:55:00Z
  int64_t lifetime_seconds = 600;
  bool code_signing = true;
  bool embed_sct = true;
};

struct IssuedLeaf {
  SigningKey key;
  std::string der;
  std::string pem;
};

class TestFulcio {
 public:
  TestFulcio();

  IssuedLeaf Issue(const LeafOptions& options = {}) const;
  // trusted_root.json with the CA chain [intermediate, root], the Rekor log and the CT log, valid from 2020.
  std::string TrustedRootJson() const;

  // A v0.3 bundle: a DSSE envelope (cosign sign statement for `digest`) signed by `leaf`, logged at
  // `integrated_time` with a SET, an inclusion proof and a checkpoint.
  // A non-empty `payload` replaces the statement (e.g. an attestation's AttestationStatement).
  std::string DsseBundle(const IssuedLeaf& leaf, const std::string& digest, int64_t integrated_time,
                         const std::string& payload = "") const;
  // A legacy `.sig` layer for `digest` signed by `leaf`, with certificate, chain and Rekor bundle annotations.
  nlohmann::json LegacyLayer(const IssuedLeaf& leaf, const std::string& payload, int64_t integrated_time) const;

  // A legacy `.att` layer (descriptor) and its DSSE envelope blob for `statement` signed by `leaf`, as cosign 2.x
  // `attest` writes it keylessly: certificate, chain and Rekor bundle annotations, the entry an intoto 0.0.2 one.
  std::pair<std::string, nlohmann::json> LegacyAttestation(const IssuedLeaf& leaf, const std::string& statement,
                                                           int64_t integrated_time) const;

  const SigningKey& rekor_key() const { return rekor_key_; }

 private:
  SigningKey root_key_;
  SigningKey intermediate_key_;
  SigningKey ct_key_;
  SigningKey rekor_key_;
  std::string root_der_;
  std::string intermediate_der_;
};

}  // namespace pipeguard::signatures::testing
