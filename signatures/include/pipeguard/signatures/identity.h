// Which keyless signers are allowed: an OR of identities, each an AND of the certificate's subject (a SAN value:
// workflow URI, e-mail, username), its OIDC issuer and optional Fulcio claim extensions
// (keyless-and-attestations.md §1.2-§1.4, §4).
//
// Regular expressions are RE2 and always anchored (they must match the whole value), so
// "https://github.com/acme/.*" cannot be satisfied by "https://evil.example/?https://github.com/acme/x".
// An IdentityPolicy is immutable and thread-safe once created.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/signatures/fulcio_certificate.h"

namespace re2 {
class RE2;
}

namespace pipeguard::signatures {

// One value matcher: exact text, or an RE2 expression matched against the whole value.
struct ValueMatcher {
  std::string exact;
  std::string regex;
};

// An allowed signer as configured. Exactly one of subject.exact/subject.regex, and of issuer.exact/issuer.regex,
// must be set; `extensions` are exact matches keyed by FulcioExtension name (e.g. "sourceRepositoryUri").
struct KeylessIdentity {
  std::string name;
  ValueMatcher subject;
  ValueMatcher issuer;
  std::map<std::string, std::string> extensions;
};

// Outcome of matching one certificate.
struct IdentityMatch {
  bool matched = false;
  std::string identity_name;  // the first identity that matched
  // When not matched: what the certificate claims and, per identity, the first check that failed, e.g.
  // "certificate subject 'https://github.com/x/y/...' issuer 'https://token.actions.githubusercontent.com':
  //  identity 'release': subject does not match; identity 'nightly': extension sourceRepositoryRef is
  //  'refs/heads/dev', not 'refs/heads/main'". Certificate claims are public data, never secrets.
  std::string detail;
};

class IdentityPolicy {
 public:
  // Validates and compiles. InvalidArgument naming the identity (by name or position) when a matcher is missing,
  // doubly set, an expression does not compile, or an extension name is unknown (the message lists valid names).
  static StatusOr<IdentityPolicy> Create(std::vector<KeylessIdentity> identities);

  // The certificate matches when some identity matches: issuer, one of its SAN values, and every extension.
  IdentityMatch Match(const CertificateIdentity& certificate) const;

  const std::vector<KeylessIdentity>& identities() const { return identities_; }
  // Hex SHA-256 over the identities (names, matchers, extensions) for verification cache keys.
  const std::string& fingerprint() const { return fingerprint_; }

 private:
  struct Compiled {
    std::shared_ptr<const re2::RE2> subject;  // null when exact
    std::shared_ptr<const re2::RE2> issuer;
  };
  IdentityPolicy() = default;

  std::vector<KeylessIdentity> identities_;
  std::vector<Compiled> compiled_;
  std::string fingerprint_;
};

}  // namespace pipeguard::signatures
