#include "detect/transport.h"

#include "detect/filters.h"
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
    case TransportCheck::kSslContextNone:
      if (EqualsIgnoreCase(v, "none")) {
        return Hit(hit, DetectorId::kTlsVerificationDisabled, Severity::kMedium, "ssl_context=none");
      }
      return false;
  }
  return false;
}

bool CheckTlsParam(std::string_view key, std::string_view value, TransportHit& hit) {
  if (key.empty() || key.size() > 40) return false;
  const LowerCopy lower(key);
  const std::string_view k = lower.view();
  if (k == "sslmode" || k == "ssl-mode" || k == "ssl_mode") return SslModeHit(value, hit);
  if (k == "ssl" && Is(value, "false")) return Hit(hit, DetectorId::kJdbcTlsOff, Severity::kHigh, "ssl=false");
  if (k == "usessl" && Is(value, "false")) return Hit(hit, DetectorId::kJdbcTlsOff, Severity::kHigh, "useSSL=false");
  if (k == "requiressl" && Is(value, "false")) {
    return Hit(hit, DetectorId::kJdbcTlsOff, Severity::kMedium, "requireSSL=false");
  }
  if (k == "encrypt") {
    if (Is(value, "false") || Is(value, "no")) {
      return Hit(hit, DetectorId::kJdbcTlsOff, Severity::kHigh, "encrypt=false");
    }
    if (Is(value, "optional")) return Hit(hit, DetectorId::kJdbcTlsOff, Severity::kMedium, "encrypt=optional");
    return false;
  }
  if ((k == "trustservercertificate" || k == "trust server certificate") && (Is(value, "true") || Is(value, "yes"))) {
    return Hit(hit, DetectorId::kJdbcTlsOff, Severity::kMedium, "trustServerCertificate=true");
  }
  if (k == "insecuremode" && Is(value, "true")) {
    return Hit(hit, DetectorId::kJdbcTlsOff, Severity::kMedium, "insecureMode=true (no OCSP checks)");
  }
  if (k == "verifyservercertificate" && Is(value, "false")) {
    return Hit(hit, DetectorId::kJdbcTlsOff, Severity::kMedium, "verifyServerCertificate=false");
  }
  if (k == "sslfactory" && ContainsIgnoreCase(value, "nonvalidatingfactory")) {
    return Hit(hit, DetectorId::kJdbcTlsOff, Severity::kMedium, "NonValidatingFactory");
  }
  if (k == "ssl_cert_reqs" && (Is(value, "none") || Is(value, "cert_none"))) {
    return Hit(hit, DetectorId::kTlsVerificationDisabled, Severity::kMedium, "ssl_cert_reqs=none");
  }
  if ((k == "tlsinsecure" || k == "tlsallowinvalidcertificates" || k == "tlsallowinvalidhostnames") &&
      Is(value, "true")) {
    return Hit(hit, DetectorId::kTlsVerificationDisabled, Severity::kMedium, "certificate checks off");
  }
  return false;
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
