// insecure-transport rules (TLS-001..TLS-040) that look at one setting at a time. Cross-entry rules (TLS-040)
// live in the orchestrator. Pure functions; `detail` strings are static and never echo a value.
#pragma once

#include <cstdint>
#include <string_view>

#include "detect/findings.h"
#include "detect/key_names.h"
#include "pipeguard/policy/types.h"

namespace pipeguard::policy::detect {

struct TransportHit {
  DetectorId id = DetectorId::kCount;
  Severity severity = Severity::kInfo;
  std::string_view detail;  // static text, e.g. "sslmode=disable"
};

// How a keyed transport setting is judged (see key_rules.cc for which key maps to which check).
enum class TransportCheck : std::uint8_t {
  kKafkaProtocol,           // TLS-001: PLAINTEXT (MEDIUM) / SASL_PLAINTEXT (HIGH)
  kEndpointIdentification,  // TLS-002: "" or none
  kKafkaCertVerification,   // TLS-002: librdkafka enable.ssl.certificate.verification=false
  kSslMode,                 // TLS-010/011: libpq or MySQL sslmode
  kS3aSslEnabled,           // TLS-021: fs.s3a.connection.ssl.enabled=false
  kS3aEndpoint,             // TLS-021: fs.s3a.endpoint=http://...
  kSparkEncryption,         // TLS-022: spark.network.crypto.enabled / spark.ssl.enabled = false
  kZeroDisablesVerify,      // TLS-030: NODE_TLS_REJECT_UNAUTHORIZED=0, PYTHONHTTPSVERIFY=0
  kTrueDisablesVerify,      // TLS-030: GIT_SSL_NO_VERIFY=true
  kEmptyCaBundle,           // TLS-030: REQUESTS_CA_BUNDLE="" / CURL_CA_BUNDLE=""
  kSslContextNone,          // TLS-030: AIRFLOW__EMAIL__SSL_CONTEXT=none
  kSetDisablesVerify,       // TLS-030: a JVM property that disables checks when set at all (`-Dname`) or true
  kAllowAllVerifier,        // TLS-030: hadoop.ssl.hostname.verifier=ALLOW_ALL
};

// Judges a keyed setting. Returns true and fills `hit` when the setting is insecure.
bool EvaluateTransportCheck(TransportCheck check, std::string_view value, TransportHit& hit);

// Where a parameter was found: connection strings, URI queries and JSON documents also know the generic names
// `verify` and `secure` (and verification switches named in words, e.g. `verify_ssl`, `no_verify_ssl`); a conf
// key's last component does not (`spark.ui.cookies.secure` is not a TLS switch).
enum class ParamContext : std::uint8_t { kConnectionString, kConfKey };

// TLS-010 / TLS-011 / TLS-030 for one `key=value` parameter of a connection string, a URI query, a JSON document
// (Airflow extras) or a conf key's last component. The name is compared in canonical form: Airflow's
// `extra__<type>__` prefix and everything up to the last `. : /` removed, case, `_`, `-` and blanks ignored
// (`insecure_mode` = `insecureMode`). Covers the drivers' documented switches: libpq/pgjdbc/MySQL/ClickHouse
// sslmode, Vertica TLSmode, ssl/useSSL/tls/sslConnection/secure off, requireSSL, SQL Server encrypt and
// trustServerCertificate, Snowflake insecureMode/disableOCSPChecks, Connector/J verifyServerCertificate, Exasol
// validateservercertificate, Dremio disableCertificateVerification, Simba (Impala, Hive, Databricks)
// AllowSelfSignedCerts/AllowHostNameCNMismatch/CAIssuedCertNamesMismatch, Trino SSLVerification=NONE, pgjdbc and
// Redshift NonValidatingFactory, Oracle ssl_server_dn_match, ssl_cert_reqs, MongoDB tlsInsecure and friends,
// verification_mode=none, and `verify=false`.
bool CheckTlsParam(std::string_view key, std::string_view value, TransportHit& hit,
                   ParamContext context = ParamContext::kConnectionString);

// TLS-030 by name: a key whose tokens say "verify ssl/tls/cert" set to false, or "no/skip verify" / "insecure"
// set to true (`SSL_VERIFY=false`, `INSECURE_SKIP_TLS_VERIFY=true`, `OAUTHLIB_INSECURE_TRANSPORT=1`).
bool CheckVerificationName(const KeyTokens& tokens, std::string_view value, TransportHit& hit);

// TLS-020: schemes that carry credentials in cleartext (after TransportScheme()).
bool IsPlaintextCredentialScheme(std::string_view transport_scheme);
// True when a URI query asks for TLS (`tls=true`, `ssl=true`).
bool QueryRequestsTls(std::string_view query);
// TLS-001b: a Kafka listener / bootstrap URI scheme. Returns true for PLAINTEXT and SASL_PLAINTEXT.
bool KafkaPlaintextScheme(std::string_view scheme, TransportHit& hit);

}  // namespace pipeguard::policy::detect
