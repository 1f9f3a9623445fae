// Value-shape detectors (spec D3 step (a)): secrets recognisable without a key — PEM keys, cloud credential
// blobs, AWS key IDs, vendor tokens, JWTs, authorization headers, credentials in URIs and connection strings —
// plus the transport findings carried by the same values (Kafka PLAINTEXT:// listeners, sslmode and other TLS
// parameters, credentials over plaintext schemes). Also the audit-only entropy test (step (d)).
//
// Thread-safe after construction: the RE2 objects are immutable and RE2 matching is thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "detect/findings.h"

namespace re2 {
class RE2;
}

namespace pipeguard::policy::detect {

class ValueRules {
 public:
  ValueRules();
  ~ValueRules();
  ValueRules(const ValueRules&) = delete;
  ValueRules& operator=(const ValueRules&) = delete;

  // Runs every value-shape detector on `value` and reports into `sink` at `where`. Returns true when a
  // plaintext-secret finding was reported. Linear in the value; runs RE2 only when a cheap trigger scan found
  // the detector's keyword.
  bool Scan(std::string_view value, const Location& where, FindingSink& sink) const;

 private:
  bool ScanVendorTokens(std::string_view value, const Location& where, FindingSink& sink) const;
  bool ScanAwsKeyIds(std::string_view value, const Location& where, FindingSink& sink) const;
  bool ScanPrivateKeys(std::string_view value, const Location& where, FindingSink& sink) const;

  std::unique_ptr<re2::RE2> pem_header_;
  std::unique_ptr<re2::RE2> aws_key_id_;
  std::unique_ptr<re2::RE2> vendor_token_;
};

// SEC-005: a formally valid JWT (base64url header and payload that decode to JSON, header an object) anywhere
// in the value.
bool ContainsJwt(std::string_view value);

// SEC-006: `credential` is the part after `Authorization:` (e.g. `Bearer abc...`, `Basic dXNlcjpwdw==`, or a
// bare token). True when it is a literal credential of at least 8 characters that is not a reference or a
// placeholder; Basic credentials must be base64.
bool IsLiteralAuthorization(std::string_view credential);

// SEC-006 on a whole value: `[Authorization:] (Bearer|Basic|Token|Api-Token) <credential>`.
bool IsAuthorizationHeaderValue(std::string_view value);

// True when a URI password (raw, percent-encoded) is a literal secret: at least 3 characters after decoding and
// neither a reference (before or after decoding) nor a placeholder (D5-D7).
bool IsLiteralUriPassword(std::string_view raw_password);

// SEC-090: one token of hex (>= 32 chars, H > 3.0) or base64 (>= 20 chars, H > 4.5) that is not a UUID,
// a sequential string, a digest, a path, a reference or a placeholder.
bool IsHighEntropyToken(std::string_view value);

}  // namespace pipeguard::policy::detect
