// Fulcio (keyless) signing certificates: the identity claims they carry, chain verification to a certificate
// authority of a trusted_root.json, and the embedded certificate-transparency SCTs
// (keyless-and-attestations.md §1.2-§1.5, cosign-signatures.md §8).
//
// All functions are pure (no I/O), thread-safe, and treat certificates as hostile input: malformed DER or
// extensions give an error naming the field, never a crash.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/signatures/crypto.h"
#include "pipeguard/signatures/trusted_root.h"

struct x509_st;  // OpenSSL's X509, kept out of this header.

namespace pipeguard::signatures {

// A Fulcio extension under 1.3.6.1.4.1.57264.1, as the identity policy names it.
struct FulcioExtension {
  int arc;                // the last OID arc: 1.3.6.1.4.1.57264.1.<arc>
  std::string_view name;  // policy name, e.g. "sourceRepositoryUri"
  bool der_utf8;          // true: DER UTF8String (.8 and later); false: raw bytes (.1-.6, deprecated)
};
// Every extension the policy can match, deprecated ones included (.1 and .8 are the issuer, matched separately).
const std::vector<FulcioExtension>& FulcioExtensions();

// The identity claims of a signing certificate.
struct CertificateIdentity {
  std::vector<std::string> san_uris;    // e.g. https://github.com/org/repo/.github/workflows/release.yml@refs/...
  std::vector<std::string> san_emails;  // rfc822Name
  std::vector<std::string> san_others;  // otherName 1.3.6.1.4.1.57264.1.7 (username identities)
  std::string issuer;                   // OIDC issuer: extension .8, else the deprecated .1; empty if neither
  std::map<std::string, std::string, std::less<>> extensions;  // FulcioExtension name -> value (present ones)

  // Every SAN value, URIs first, then e-mails, then otherNames.
  std::vector<std::string> Subjects() const;
};

class FulcioCertificate {
 public:
  // Parses one DER certificate. InvalidArgument when it is not a certificate or a Fulcio extension is malformed.
  static StatusOr<FulcioCertificate> FromDer(std::string_view der);
  // Parses the first PEM CERTIFICATE block.
  static StatusOr<FulcioCertificate> FromPem(std::string_view pem);

  const std::string& der() const { return der_; }
  int64_t not_before() const { return not_before_; }  // Unix seconds
  int64_t not_after() const { return not_after_; }
  const PublicKey& public_key() const { return public_key_; }
  const CertificateIdentity& identity() const { return identity_; }
  // Extended key usage includes codeSigning (1.3.6.1.5.5.7.3.3).
  bool code_signing() const { return code_signing_; }
  // A CA certificate (basicConstraints CA:TRUE) or self-signed: never acceptable as a signing certificate.
  bool is_ca() const { return is_ca_; }
  bool self_signed() const { return self_signed_; }
  x509_st* x509() const { return x509_.get(); }

 private:
  FulcioCertificate(std::shared_ptr<x509_st> x509, std::string der, PublicKey key);

  std::shared_ptr<x509_st> x509_;
  std::string der_;
  PublicKey public_key_;
  int64_t not_before_ = 0;
  int64_t not_after_ = 0;
  CertificateIdentity identity_;
  bool code_signing_ = false;
  bool is_ca_ = false;
  bool self_signed_ = false;
};

// The result of chaining a leaf to a trusted certificate authority.
struct ChainVerification {
  const CertificateAuthority* authority = nullptr;  // the CA the leaf chains to
  std::string issuer_key_hash;                      // SHA-256 of the direct issuer's SPKI (for the SCT check)
};

// Verifies that `leaf` chains to one of the root's certificate authorities whose validFor contains `at_time`,
// with every certificate valid at `at_time` (Unix seconds; the signing time). Only certificates from the trusted
// root are used as issuers: chain certificates carried by a signature are never trusted. Every certificate of a
// CA's certChain is trusted configuration, so a leaf issued by a listed intermediate is accepted without
// re-verifying the intermediate's own signature (its validity window is still checked).
// InvalidArgument with OpenSSL's reason when no CA verifies it.
StatusOr<ChainVerification> VerifyCertificateChain(const FulcioCertificate& leaf, const TrustedRoot& root,
                                                   int64_t at_time);

// Verifies the leaf's embedded SCT list (extension 1.3.6.1.4.1.11129.2.4.2): at least one SCT must come from a
// trusted CT log (root.ctlogs(), valid at the SCT time) and verify over the reconstructed precertificate (TBS
// without the SCT extension, bound to `issuer_key_hash`, the SHA-256 of the issuer's SPKI: ChainVerification).
// An SCT from a trusted log that does not verify is an error even when another one does. SCTs from unknown logs
// are ignored.
Status VerifyEmbeddedScts(const FulcioCertificate& leaf, std::string_view issuer_key_hash, const TrustedRoot& root);

}  // namespace pipeguard::signatures
