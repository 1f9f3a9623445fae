#include "detect/transport.h"

#include <array>

#include "detect/filters.h"
#include "detect/key_names.h"
#include "detect/text.h"
#include "detect/uri.h"

namespace pipeguard::policy::detect {
namespace {

bool Hit(TransportHit& hit, DetectorId id, Severity severity, std::string_view detail) {
  hit = {id, severity, detail};
  return true;
}

bool Is(std::string_view value, std::string_view word) { return EqualsIgnoreCase(TrimAscii(value), word); }

bool SslModeHit(std::string_view value, TransportHit& hit) {
  const std::string_view v = TrimAscii(value);
  // libpq spellings (lower-case by convention) -> TLS-010; MySQL Connector/J spellings -> TLS-011.
  if (v == "disable") return Hit(hit, DetectorId::kPostgresSslMode, Severity::kHigh, "sslmode=disable");
  if (v == "allow") return Hit(hit, DetectorId::kPostgresSslMode, Severity::kMedium, "sslmode=allow");
  if (v == "prefer") return Hit(hit, DetectorId::kPostgresSslMode, Severity::kMedium, "sslmode=prefer");
  if (v == "require") return Hit(hit, DetectorId::kPostgresSslMode, Severity::kLow, "sslmode=require, no server auth");
  if (EqualsIgnoreCase(v, "disabled") || EqualsIgnoreCase(v, "disable")) {
    return Hit(hit, DetectorId::kJdbcTlsOff, Severity::kHigh, "sslMode=DISABLED");
  }
  if (EqualsIgnoreCase(v, "preferred") || EqualsIgnoreCase(v, "prefer") || EqualsIgnoreCase(v, "allow")) {
    return Hit(hit, DetectorId::kJdbcTlsOff, Severity::kMedium, "sslMode=PREFERRED");
  }
  if (EqualsIgnoreCase(v, "required") || EqualsIgnoreCase(v, "require")) {
    return Hit(hit, DetectorId::kJdbcTlsOff, Severity::kLow, "sslMode=REQUIRED, no server auth");
  }
  return false;
}

}  // namespace

bool EvaluateTransportCheck(TransportCheck check, std::string_view value, TransportHit& hit) {
  const std::string_view v = TrimAscii(value);
  switch (check) {
    case TransportCheck::kKafkaProtocol:
      if (EqualsIgnoreCase(v, "SASL_PLAINTEXT")) {
        return Hit(hit, DetectorId::kKafkaPlaintext, Severity::kHigh, "SASL_PLAINTEXT");
      }
      if (EqualsIgnoreCase(v, "PLAINTEXT"))
        return Hit(hit, DetectorId::kKafkaPlaintext, Severity::kMedium, "PLAINTEXT");
      return false;
    case TransportCheck::kEndpointIdentification:
      if (v.empty() || v == "\"\"" || v == "''" || EqualsIgnoreCase(v, "none")) {
        return Hit(hit, DetectorId::kKafkaHostnameVerification, Severity::kMedium,
                   "ssl.endpoint.identification.algorithm is empty");
      }
      return false;
    case TransportCheck::kKafkaCertVerification:
      if (IsFalsy(v)) {
        return Hit(hit, DetectorId::kKafkaHostnameVerification, Severity::kMedium,
                   "enable.ssl.certificate.verification=false");
      }
      return false;
    case TransportCheck::kSslMode:
      return SslModeHit(v, hit);
    case TransportCheck::kS3aSslEnabled:
      if (IsFalsy(v)) {
        return Hit(hit, DetectorId::kS3aPlaintext, Severity::kMedium, "fs.s3a.connection.ssl.enabled=false");
      }
      return false;
    case TransportCheck::kS3aEndpoint:
      if (StartsWithIgnoreCase(v, "http://")) {
        return Hit(hit, DetectorId::kS3aPlaintext, Severity::kMedium, "http endpoint");
      }
      return false;
    case TransportCheck::kSparkEncryption:
      if (IsFalsy(v)) return Hit(hit, DetectorId::kSparkEncryptionOff, Severity::kLow, "explicitly disabled");
      return false;
    case TransportCheck::kZeroDisablesVerify:
      if (v == "0" || EqualsIgnoreCase(v, "false")) {
        return Hit(hit, DetectorId::kTlsVerificationDisabled, Severity::kMedium, "set to 0");
      }
      return false;
    case TransportCheck::kTrueDisablesVerify:
      if (IsTruthy(v)) return Hit(hit, DetectorId::kTlsVerificationDisabled, Severity::kMedium, "set to true");
      return false;
    case TransportCheck::kEmptyCaBundle:
      if (v.empty() || v == "\"\"" || v == "''") {
        return Hit(hit, DetectorId::kTlsVerificationDisabled, Severity::kMedium, "empty CA bundle");
      }
      return false;
    case TransportCheck::kSetDisablesVerify:
      // AWS SDK for Java v1 and the JDK HTTP client test only that the property is present: `-Dname` (an empty
      // value) disables the checks as much as `=true`; only an explicit false keeps them.
      if (v.empty() || IsTruthy(v)) {
        return Hit(hit, DetectorId::kTlsVerificationDisabled, Severity::kMedium, "set");
      }
      return false;
    case TransportCheck::kAllowAllVerifier:
      if (EqualsIgnoreCase(v, "allow_all")) {
        return Hit(hit, DetectorId::kTlsVerificationDisabled, Severity::kMedium, "host name verifier ALLOW_ALL");
      }
      return false;
    case TransportCheck::kSslContextNone:
      if (EqualsIgnoreCase(v, "none")) {
        return Hit(hit, DetectorId::kTlsVerificationDisabled, Severity::kMedium, "ssl_context=none");
      }
      return false;
  }
  return false;
}

namespace {

// The text after the last `.`, `:` or `/` of a parameter name (all of it when there is none).
std::string_view LastComponent(std::string_view key) {
  std::size_t begin = key.size();
  while (begin > 0 && key[begin - 1] != '.' && key[begin - 1] != ':' && key[begin - 1] != '/') --begin;
  return key.substr(begin);
}

// The canonical form of a connection parameter's name: Airflow's `extra__<type>__` prefix removed, only the last
// component after `. : /` (`oracle.net.ssl_server_dn_match`, DB2's `DW:sslConnection`), lower-cased, without
// `_ - ` and blanks (`insecure_mode` and `insecureMode` are one parameter). Empty when the name is too long to
// be a parameter. No allocation: parameter lists can hold hundreds of thousands of names.
class CanonicalParamName {
 public:
  explicit CanonicalParamName(std::string_view key) {
    std::string_view k = TrimAscii(key);
    if (k.empty() || k.size() > 96) return;
    if (StartsWithIgnoreCase(k, "extra__")) {
      const std::size_t sep = k.find("__", 7);
      if (sep != std::string_view::npos) k.remove_prefix(sep + 2);
    }
    k = LastComponent(k);
    for (char c : k) {
      if (c == '_' || c == '-' || c == ' ') continue;
      chars_[size_++] = ToLowerAscii(c);
    }
  }
  std::string_view view() const { return {chars_.data(), size_}; }

 private:
  std::array<char, 96> chars_;  // the first size_ are set
  std::size_t size_ = 0;
};

bool TlsModeHit(std::string_view value, TransportHit& hit) {
  const std::string_view v = TrimAscii(value);
  if (EqualsIgnoreCase(v, "disable")) return Hit(hit, DetectorId::kJdbcTlsOff, Severity::kHigh, "TLSmode=disable");
  if (EqualsIgnoreCase(v, "allow") || EqualsIgnoreCase(v, "prefer")) {
    return Hit(hit, DetectorId::kJdbcTlsOff, Severity::kMedium, "TLSmode=prefer");
  }
  if (EqualsIgnoreCase(v, "require")) {
    return Hit(hit, DetectorId::kJdbcTlsOff, Severity::kLow, "TLSmode=require, no server auth");
  }
  return false;
}

}  // namespace

bool CheckTlsParam(std::string_view key, std::string_view value, TransportHit& hit, ParamContext context) {
  const CanonicalParamName canonical(key);
  const std::string_view k = canonical.view();
  if (k.empty()) return false;
  const bool connection = context == ParamContext::kConnectionString;
  const DetectorId jdbc = DetectorId::kJdbcTlsOff;
  const DetectorId verify = DetectorId::kTlsVerificationDisabled;
  switch (k[0]) {
    case 'a':
      if ((k == "allowselfsignedcerts" || k == "allowselfsignedservercert") && IsTruthy(value)) {
        return Hit(hit, jdbc, Severity::kMedium, "self-signed certificates accepted");
      }
      if (k == "allowhostnamecnmismatch" && IsTruthy(value)) {
        return Hit(hit, jdbc, Severity::kMedium, "host name check off");
      }
      break;
    case 'c':
      if (k == "caissuedcertnamesmismatch" && IsTruthy(value)) {
        return Hit(hit, jdbc, Severity::kMedium, "host name check off");
      }
      break;
    case 'd':
      if (k == "disableocspchecks" && IsTruthy(value)) {
        return Hit(hit, jdbc, Severity::kMedium, "disableOCSPChecks=true");
      }
      if (k == "disablecertificateverification" && IsTruthy(value)) {
        return Hit(hit, jdbc, Severity::kMedium, "certificate verification off");
      }
      break;
    case 'e':
      if (k == "encrypt") {
        if (IsFalsy(value)) return Hit(hit, jdbc, Severity::kHigh, "encrypt=false");
        if (Is(value, "optional")) return Hit(hit, jdbc, Severity::kMedium, "encrypt=optional");
      }
      break;
    case 'i':
      if (k == "insecuremode" && IsTruthy(value)) {
        return Hit(hit, jdbc, Severity::kMedium, "insecureMode=true (no OCSP checks)");
      }
      break;
    case 'r':
      if (k == "requiressl" && IsFalsy(value)) return Hit(hit, jdbc, Severity::kMedium, "requireSSL=false");
      break;
    case 's':
      if (k == "sslmode") {
        if (Is(value, "none")) return Hit(hit, jdbc, Severity::kHigh, "sslmode=none");
        return SslModeHit(value, hit);
      }
      if (k == "ssl" && IsFalsy(value)) return Hit(hit, jdbc, Severity::kHigh, "ssl=false");
      if (k == "sslconnection" && IsFalsy(value)) return Hit(hit, jdbc, Severity::kHigh, "sslConnection=false");
      if (k == "secure" && connection && IsFalsy(value)) return Hit(hit, jdbc, Severity::kHigh, "secure=false");
      if (k == "sslverification" && Is(value, "none")) {
        return Hit(hit, jdbc, Severity::kMedium, "SSLVerification=NONE");
      }
      if (k == "sslfactory" && ContainsIgnoreCase(value, "nonvalidatingfactory")) {
        return Hit(hit, jdbc, Severity::kMedium, "NonValidatingFactory");
      }
      if (k == "sslserverdnmatch" && IsFalsy(value)) {
        return Hit(hit, jdbc, Severity::kMedium, "ssl_server_dn_match=false");
      }
      if (k == "sslcertreqs" && (Is(value, "none") || Is(value, "cert_none"))) {
        return Hit(hit, verify, Severity::kMedium, "ssl_cert_reqs=none");
      }
      break;
    case 't':
      if (k == "tls" && IsFalsy(value)) return Hit(hit, jdbc, Severity::kHigh, "tls=false");
      if (k == "tlsmode") return TlsModeHit(value, hit);
      if (k == "trustservercertificate" && IsTruthy(value)) {
        return Hit(hit, jdbc, Severity::kMedium, "trustServerCertificate=true");
      }
      if ((k == "tlsinsecure" || k == "tlsallowinvalidcertificates" || k == "tlsallowinvalidhostnames") &&
          IsTruthy(value)) {
        return Hit(hit, verify, Severity::kMedium, "certificate checks off");
      }
      break;
    case 'u':
      if (k == "usessl" && IsFalsy(value)) return Hit(hit, jdbc, Severity::kHigh, "useSSL=false");
      break;
    case 'v':
      if (k == "verifyservercertificate" && IsFalsy(value)) {
        return Hit(hit, jdbc, Severity::kMedium, "verifyServerCertificate=false");
      }
      if (k == "validateservercertificate" && IsFalsy(value)) {
        return Hit(hit, jdbc, Severity::kMedium, "server certificate validation off");
      }
      if (k == "verificationmode" && Is(value, "none")) {
        return Hit(hit, verify, Severity::kMedium, "verification_mode=none");
      }
      if (k == "verify" && connection && IsFalsy(value)) return Hit(hit, verify, Severity::kMedium, "verify=false");
      break;
    default:
      break;
  }
  // Verification switches named in words: verify_ssl=false, verify_certs=false, no_verify_ssl=true,
  // disable_verify_ssl=true. Conf keys get this test from the key tables already.
  // CheckVerificationName reports only a truthy or falsy value: other values skip the name scan.
  if (!connection || key.size() > 96 || !(IsTruthy(value) || IsFalsy(value))) return false;
  const std::string_view last = LastComponent(key);
  return ScanKeyWords(LowerCopy(last).view()).verification && CheckVerificationName(KeyTokens(last), value, hit);
}

bool CheckVerificationName(const KeyTokens& tokens, std::string_view value, TransportHit& hit) {
  bool verify = false;
  bool tls_subject = false;
  bool negated = false;
  bool insecure = false;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string_view t = tokens[i];
    if (t == "verify" || t == "verification" || t == "validate" || t == "validation") verify = true;
    if (t == "ssl" || t == "tls" || t == "cert" || t == "certificate" || t == "http" || t == "hostname") {
      tls_subject = true;
    }
    if (t == "no" || t == "skip" || t == "disable" || t == "disabled") negated = true;
    if (t == "insecure") insecure = true;
  }
  if (verify && tls_subject && !negated && !insecure && IsFalsy(value)) {
    return Hit(hit, DetectorId::kTlsVerificationDisabled, Severity::kMedium, "verification set to false");
  }
  if (((verify && negated) || insecure) && IsTruthy(value)) {
    return Hit(hit, DetectorId::kTlsVerificationDisabled, Severity::kMedium, "insecure mode set to true");
  }
  return false;
}

bool IsPlaintextCredentialScheme(std::string_view s) {
  return s == "http" || s == "redis" || s == "amqp" || s == "ldap" || s == "ftp" || s == "smtp" || s == "mongodb" ||
         s == "mqtt" || s == "nats" || s == "ws" || s == "telnet";
}

bool QueryRequestsTls(std::string_view query) {
  bool tls = false;
  ForEachParam(query, [&](std::string_view k, std::string_view v) {
    if ((EqualsIgnoreCase(k, "tls") || EqualsIgnoreCase(k, "ssl")) && IsTruthy(v)) {
      tls = true;
      return false;
    }
    return true;
  });
  return tls;
}

bool KafkaPlaintextScheme(std::string_view scheme, TransportHit& hit) {
  if (EqualsIgnoreCase(scheme, "SASL_PLAINTEXT")) {
    return Hit(hit, DetectorId::kKafkaPlaintext, Severity::kHigh, "SASL_PLAINTEXT listener");
  }
  if (EqualsIgnoreCase(scheme, "PLAINTEXT")) {
    return Hit(hit, DetectorId::kKafkaPlaintext, Severity::kMedium, "PLAINTEXT listener");
  }
  return false;
}

}  // namespace pipeguard::policy::detect
