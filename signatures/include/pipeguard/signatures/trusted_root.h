// A Sigstore trusted_root.json (dev.sigstore.trustroot.v1.TrustedRoot): the Fulcio certificate authorities, the
// Rekor transparency logs, the certificate-transparency logs and the timestamp authorities that keyless
// verification may rely on, each with the time window in which it is trusted (keyless-and-attestations.md §1.1).
//
// Parsed once per configuration and immutable afterwards (thread-safe). Parsing is strict: an entry the verifier
// could not use correctly (no validity start, undecodable key or certificate) is an error naming the entry, not
// silently skipped, so a broken pin is noticed when the configuration loads rather than at admission.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/signatures/crypto.h"

struct x509_st;  // OpenSSL's X509, kept out of this header.

namespace pipeguard::signatures {

// [start, end] in Unix seconds, both ends included (the proto's TimeRange); no end = still valid.
struct ValidityWindow {
  int64_t start = 0;
  std::optional<int64_t> end;

  bool Contains(int64_t unix_seconds) const { return unix_seconds >= start && (!end || unix_seconds <= *end); }
};

// A Fulcio CA: certificates DER, leaf-most first; the last one is the trust anchor (a root or an intermediate).
struct CertificateAuthority {
  std::string uri;
  std::vector<std::string> chain_der;
  ValidityWindow valid_for;
  // Filled by TrustedRoot::Parse, in chain_der order: the parsed certificates (immutable, shared between
  // verifications so that each one does not decode them again) and the raw SHA-256 of each one's SPKI.
  std::vector<std::shared_ptr<x509_st>> certificates;
  std::vector<std::string> spki_sha256;
};

// A Rekor log or a CT log.
struct TransparencyLog {
  std::string base_url;
  std::string log_id_hex;  // logId.keyId as lowercase hex (Rekor v1: SHA-256 of the SPKI DER)
  PublicKey key;
  ValidityWindow valid_for;
};

class TrustedRoot {
 public:
  // Parses the JSON text. Errors (InvalidArgument) name the entry and field, e.g.
  // "tlogs[1].publicKey.validFor.start is missing".
  static StatusOr<TrustedRoot> Parse(std::string_view json);
  // Reads and parses a file (at most 4 MiB). NotFound when it cannot be opened; errors name the path.
  static StatusOr<TrustedRoot> Load(const std::string& path);

  const std::vector<CertificateAuthority>& certificate_authorities() const { return certificate_authorities_; }
  const std::vector<TransparencyLog>& tlogs() const { return tlogs_; }
  const std::vector<TransparencyLog>& ctlogs() const { return ctlogs_; }
  const std::vector<CertificateAuthority>& timestamp_authorities() const { return timestamp_authorities_; }

  // Hex SHA-256 of the parsed content (for verification cache keys); equal roots have equal fingerprints.
  const std::string& fingerprint() const { return fingerprint_; }

 private:
  TrustedRoot() = default;

  std::vector<CertificateAuthority> certificate_authorities_;
  std::vector<TransparencyLog> tlogs_;
  std::vector<TransparencyLog> ctlogs_;
  std::vector<CertificateAuthority> timestamp_authorities_;
  std::string fingerprint_;
};

}  // namespace pipeguard::signatures
