// Secrets inside structured values: JSON documents (Airflow connections and *_kwargs options, Google
// credentials), Kafka SASL JAAS configs and `user:password` lists. Pure functions, linear in the value
// (JSON is parsed only below kMaxJsonBytes and kMaxJsonDepth).
#pragma once

#include <string_view>

#include "detect/transport.h"

namespace pipeguard::policy::detect {

inline constexpr std::size_t kMaxJsonBytes = 256 * 1024;
inline constexpr int kMaxJsonDepth = 32;

struct JsonScanResult {
  bool parsed = false;         // the value was a JSON object or array within the limits
  bool secret = false;         // a sensitive key holds a literal secret
  bool has_transport = false;  // a TLS parameter (e.g. extra.sslmode) is insecure
  TransportHit transport;      // the most severe such parameter
};

// Parses `value` as JSON and walks it: a string under a sensitive key (strong name by ClassifyName, or one of
// Airflow's masker fields: keyfile_dict, service_account, authorization, private_key) that is a literal (not a
// reference, placeholder or path) is a secret. JSON-encoded strings under `extra` are parsed recursively.
// TLS parameters (CheckTlsParam) are reported through `transport`.
JsonScanResult ScanJsonForSecrets(std::string_view value);

// Airflow connection (URI or JSON form): true when it carries a literal password or a sensitive extra.
// `transport` receives an insecure sslmode or similar from a JSON extra (URI query parameters are handled by
// the value-shape detectors).
bool AirflowConnectionHasSecret(std::string_view value, JsonScanResult& json);

// True when some URI in `value` has a literal password (D5-D7), or a connection-string password parameter.
bool HasLiteralUriPassword(std::string_view value);
// True when some URI in `value` has non-empty userinfo that is not a reference (Sentry DSN keys).
bool HasLiteralUriUserinfo(std::string_view value);

// TLS-020 for the JSON form of an Airflow connection: a plaintext connection type (ftp, telnet), or an http
// connection whose base URL is http:// (HttpHook's: the host when it has a scheme, else `schema`, default http) to a
// host that is not loopback, with a password (literal or reference: either way it crosses the wire in cleartext).
// The URI form is judged by its scheme.
bool AirflowJsonConnectionIsCleartext(std::string_view value);

// SEC-040: a JAAS config with `password="..."` (or `clientSecret="..."`) holding a literal; `${file:..}` /
// `${env:..}` config-provider references pass.
bool JaasHasLiteralPassword(std::string_view value);

// `user:password[,user:password...]` with a literal password (Airflow flower_basic_auth).
bool UserPassListHasLiteral(std::string_view value);

// GOOGLE_APPLICATION_CREDENTIALS / GOOGLE_CREDENTIALS holding key content (JSON) rather than a path.
bool IsGoogleCredentialContent(std::string_view value);

}  // namespace pipeguard::policy::detect
