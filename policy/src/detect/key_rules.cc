#include "detect/key_rules.h"

#include <cstdlib>

#include "detect/filters.h"
#include "detect/key_names.h"
#include "detect/structured_values.h"
#include "detect/uri.h"
#include "detect/value_rules.h"

namespace pipeguard::policy::detect {
namespace {

constexpr Severity kCritical = Severity::kCritical;
constexpr Severity kHigh = Severity::kHigh;
constexpr Severity kMedium = Severity::kMedium;

bool EndsWithKey(std::string_view lower, std::string_view dotted, std::string_view underscored) {
  // `dotted` matches as a whole key or after '.', `underscored` as a whole key or after '_'.
  auto ends = [&](std::string_view suffix, char sep) {
    if (lower.size() < suffix.size() || lower.substr(lower.size() - suffix.size()) != suffix) return false;
    return lower.size() == suffix.size() || lower[lower.size() - suffix.size() - 1] == sep;
  };
  return ends(dotted, '.') || ends(underscored, '_');
}

template <std::size_t N>
bool StartsWith(std::string_view s, const char (&prefix)[N]) {
  return HasAt(s, 0, prefix);
}

bool ParamPasswordLiteral(std::string_view value) {
  bool found = false;
  ForEachParam(value, [&](std::string_view k, std::string_view v) {
    if (EqualsIgnoreCase(k, "password") || EqualsIgnoreCase(k, "pwd") || EqualsIgnoreCase(k, "passwd")) {
      const std::string_view pw = TrimAscii(v);
      found = pw.size() >= 3 && !IsReference(pw) && !IsPlaceholder(pw);
    }
    return !found;
  });
  return found;
}

}  // namespace

// ---- NormalizedKey ----------------------------------------------------------------------------------------

NormalizedKey::NormalizedKey(std::string_view key, bool env_surface) : full_lower_(key), env_style_(env_surface) {
  std::string_view lower = full_lower_.view();
  std::string_view original = key;
  // Secure Spark references are recognised on the full key, before any stripping.
  const bool spark = StartsWith(lower, "spark.");
  if (spark && StartsWith(lower, "spark.kubernetes.") &&
      (lower.find(".secretkeyref.") != std::string_view::npos || lower.find(".secrets.") != std::string_view::npos)) {
    pass_through_ = true;
  }
  auto strip = [&](std::size_t n) {
    lower.remove_prefix(n);
    original.remove_prefix(n);
  };
  for (bool again = spark || StartsWith(lower, "kafka."); again && !lower.empty();) {
    again = true;
    if (StartsWith(lower, "spark.hadoop.")) {
      strip(13);
    } else if (StartsWith(lower, "spark.kafka.clusters.")) {
      const std::size_t dot = lower.find('.', 21);
      strip(dot == std::string_view::npos ? lower.size() : dot + 1);
    } else if (StartsWith(lower, "kafka.")) {
      strip(6);
    } else if (StartsWith(lower, "spark.es.")) {  // elasticsearch-hadoop accepts its es.* options with spark.
      strip(6);
    } else if (StartsWith(lower, "spark.executorenv.")) {
      strip(18);
      env_style_ = true;
    } else if (StartsWith(lower, "spark.kubernetes.driverenv.")) {
      strip(27);
      env_style_ = true;
    } else if (StartsWith(lower, "spark.yarn.appmasterenv.")) {
      strip(24);
      env_style_ = true;
    } else {
      again = false;
    }
  }
  if (!env_style_ &&
      (lower == "hadoop.security.credential.provider.path" || lower.find("redaction") != std::string_view::npos ||
       (lower.size() > 6 && lower.substr(lower.size() - 6) == ".regex"))) {
    pass_through_ = true;
  }
  if (env_style_ && StartsWith(lower, "airflow__")) {
    const bool backend_form = (lower.size() > 4 && lower.substr(lower.size() - 4) == "_cmd") ||
                              (lower.size() > 7 && lower.substr(lower.size() - 7) == "_secret");
    if (backend_form || StartsWith(lower, "airflow__kubernetes_secrets__")) pass_through_ = true;
  }
  if (StartsWith(lower, "fs.s3a.bucket.")) {
    const std::size_t dot = lower.find('.', 14);
    if (dot != std::string_view::npos) {
      folded_ = "fs.s3a.";
      folded_.append(lower.substr(dot + 1));
      lower = folded_;
    }
  }
  lower_ = lower;
  original_ = original;
  hints_ = ScanKeyWords(lower_);
}

// ---- KeyRules ---------------------------------------------------------------------------------------------

KeyRules::KeyRules() {
  auto secret = [&](std::string_view key, DetectorId id, Severity sev, ValueCheck check, bool env_only) {
    exact_.emplace(key, Rule{id, sev, check, TransportCheck::kKafkaProtocol, env_only});
  };
  auto transport = [&](std::string_view key, TransportCheck check, bool env_only) {
    exact_.emplace(key, Rule{DetectorId::kCount, Severity::kInfo, ValueCheck::kTransport, check, env_only});
  };

  // SEC-070: well-known credential variables (Polaris list plus additions).
  for (std::string_view k : {"aws_secret_access_key",
                             "aws_session_token",
                             "aws_security_token",
                             "azure_client_secret",
                             "azure_storage_key",
                             "azure_storage_account_key",
                             "azure_storage_connection_string",
                             "azure_storage_sas_token",
                             "oci_cli_key_content",
                             "databricks_token",
                             "databricks_client_secret",
                             "vault_token",
                             "pgpassword",
                             "mysql_pwd",
                             "mysql_root_password",
                             "mysql_password",
                             "postgres_password",
                             "mongo_initdb_root_password",
                             "github_token",
                             "gh_token",
                             "gitlab_token",
                             "openai_api_key",
                             "anthropic_api_key",
                             "hf_token",
                             "dd_api_key",
                             "datadog_api_key",
                             "slack_bot_token"}) {
    secret(k, DetectorId::kCloudCredentialEnv, kCritical, ValueCheck::kLiteral, true);
  }
  for (std::string_view k : {"google_application_credentials", "google_credentials", "google_cloud_keyfile_json"}) {
    secret(k, DetectorId::kCloudCredentialEnv, kCritical, ValueCheck::kGoogleCredentials, true);
  }

  // SEC-050: Snowflake.
  for (std::string_view k : {"snowflake_password", "snowflake_pwd", "snowsql_pwd", "snowflake_private_key_passphrase",
                             "snowflake_private_key_pwd", "snowflake_private_key_file_pwd",
                             "snowsql_private_key_passphrase", "snowflake_token", "snowflake_oauth_token"}) {
    secret(k, DetectorId::kSnowflakeCredential, kHigh, ValueCheck::kLiteral, true);
  }
  secret("snowflake_private_key", DetectorId::kSnowflakeCredential, kCritical, ValueCheck::kLiteral, true);
  for (std::string_view k : {"sfpassword", "pem_private_key", "private_key_file_pwd"}) {
    last_component_.emplace(
        k, Rule{DetectorId::kSnowflakeCredential, kHigh, ValueCheck::kLiteral, TransportCheck::kKafkaProtocol, false});
  }

  // SEC-021: Airflow options marked `sensitive: true` (core and providers).
  const DetectorId af = DetectorId::kAirflowSensitiveConfig;
  secret("airflow__core__fernet_key", af, kCritical, ValueCheck::kLiteral, true);
  secret("airflow__core__asset_manager_kwargs", af, kCritical, ValueCheck::kJsonKwargs, true);
  secret("airflow__core__dataset_manager_kwargs", af, kCritical, ValueCheck::kJsonKwargs, true);
  secret("airflow__database__sql_alchemy_conn", af, kCritical, ValueCheck::kUriPassword, true);
  secret("airflow__core__sql_alchemy_conn", af, kCritical, ValueCheck::kUriPassword, true);
  secret("airflow__database__sql_alchemy_engine_args", af, kCritical, ValueCheck::kJsonKwargs, true);
  secret("airflow__logging__remote_task_handler_kwargs", af, kCritical, ValueCheck::kJsonKwargs, true);
  secret("airflow__secrets__backend_kwargs", af, kCritical, ValueCheck::kJsonKwargs, true);
  secret("airflow__workers__secrets_backend_kwargs", af, kCritical, ValueCheck::kJsonKwargs, true);
  secret("airflow__api_auth__jwt_secret", af, kCritical, ValueCheck::kLiteral, true);
  secret("airflow__webserver__secret_key", af, kCritical, ValueCheck::kLiteral, true);
  secret("airflow__api__secret_key", af, kCritical, ValueCheck::kLiteral, true);
  secret("airflow__sentry__sentry_dsn", af, kCritical, ValueCheck::kUriUserinfo, true);
  secret("airflow__celery__broker_url", af, kCritical, ValueCheck::kUriPassword, true);
  secret("airflow__celery__result_backend", af, kCritical, ValueCheck::kUriPassword, true);
  secret("airflow__celery__flower_basic_auth", af, kCritical, ValueCheck::kUserPassList, true);
  secret("airflow__smtp__smtp_password", af, kCritical, ValueCheck::kLiteral, true);

  // SEC-030: Spark / Hadoop / Hive / Kafka-SSL options (keys after prefix stripping).
  const DetectorId sp = DetectorId::kSparkHadoopConf;
  for (std::string_view k : {"fs.s3a.secret.key", "fs.s3a.session.token", "fs.gs.auth.service.account.private.key",
                             "fs.gs.auth.client.secret", "fs.oss.accesskeysecret", "fs.obs.secret.key",
                             "fs.cosn.userinfo.secretkey", "fs.azure.account.key"}) {
    secret(k, sp, kCritical, ValueCheck::kLiteral, false);
  }
  // SSE-KMS names a key (ARN, key ID, alias): an identifier. SSE-C gives the key itself: a secret.
  for (std::string_view k : {"fs.s3a.encryption.key", "fs.s3a.server-side-encryption.key"}) {
    secret(k, sp, kHigh, ValueCheck::kKeyMaterial, false);
  }
  for (std::string_view k :
       {"javax.jdo.option.connectionpassword", "spark.authenticate.secret", "ssl.keystore.password", "ssl.key.password",
        "es.net.http.auth.pass", "spark.cassandra.auth.password", "spark.kubernetes.authenticate.submission.oauthtoken",
        "spark.kubernetes.authenticate.driver.oauthtoken", "spark.kubernetes.authenticate.oauthtoken",
        "hive.server2.keystore.password", "ssl.keystore.key", "sasl.oauthbearer.client.secret"}) {
    secret(k, sp, kHigh, ValueCheck::kLiteral, false);
  }
  secret("ssl.truststore.password", sp, kMedium, ValueCheck::kLiteral, false);
  // Access key IDs name the key, like `*_ID` (F-04); SEC-002 still judges their values.
  for (std::string_view k : {"fs.s3a.access.key", "fs.s3a.awsaccesskeyid", "fs.oss.accesskeyid", "fs.obs.access.key",
                             "fs.cosn.userinfo.secretid"}) {
    secret(k, sp, Severity::kInfo, ValueCheck::kIdentifier, false);
  }

  // Keyed transport settings.
  transport("pgsslmode", TransportCheck::kSslMode, true);
  // libpq's own option name, as configuration files write it (dbt profiles.yml `sslmode: disable`, a JSON
  // connection's `sslmode`, `x.sslmode` properties).
  last_component_.emplace(
      "sslmode", Rule{DetectorId::kCount, Severity::kInfo, ValueCheck::kTransport, TransportCheck::kSslMode, false});
  transport("node_tls_reject_unauthorized", TransportCheck::kZeroDisablesVerify, true);
  transport("pythonhttpsverify", TransportCheck::kZeroDisablesVerify, true);
  transport("git_ssl_no_verify", TransportCheck::kTrueDisablesVerify, true);
  transport("requests_ca_bundle", TransportCheck::kEmptyCaBundle, true);
  transport("curl_ca_bundle", TransportCheck::kEmptyCaBundle, true);
  transport("airflow__email__ssl_context", TransportCheck::kSslContextNone, true);
  // JVM system properties (and their env forms) of SDKs and clients that turn certificate or host-name checks
  // off: AWS SDK for Java v1, the JDK HTTP and LDAP clients, the fabric8 Kubernetes client (spark-submit on K8s),
  // Maven wagon, elasticsearch-hadoop, Hadoop's SSL factory.
  transport("com.amazonaws.sdk.disablecertchecking", TransportCheck::kSetDisablesVerify, false);
  transport("jdk.internal.httpclient.disablehostnameverification", TransportCheck::kSetDisablesVerify, false);
  transport("kubernetes.trust.certificates", TransportCheck::kTrueDisablesVerify, false);
  transport("kubernetes_trust_certificates", TransportCheck::kTrueDisablesVerify, true);
  transport("com.sun.jndi.ldap.object.disableendpointidentification", TransportCheck::kTrueDisablesVerify, false);
  transport("maven.wagon.http.ssl.allowall", TransportCheck::kTrueDisablesVerify, false);
  transport("es.net.ssl.cert.allow.self.signed", TransportCheck::kTrueDisablesVerify, false);
  transport("hadoop.ssl.hostname.verifier", TransportCheck::kAllowAllVerifier, false);
  transport("fs.s3a.connection.ssl.enabled", TransportCheck::kS3aSslEnabled, false);
  transport("fs.s3a.endpoint", TransportCheck::kS3aEndpoint, false);
  transport("spark.network.crypto.enabled", TransportCheck::kSparkEncryption, false);
  transport("spark.ssl.enabled", TransportCheck::kSparkEncryption, false);

  for (const auto& [key, rule] : exact_) {
    if (key.size() >= 64) continue;
    const unsigned first = static_cast<unsigned char>(key.front()) * 64u + static_cast<unsigned>(key.size());
    const unsigned last = static_cast<unsigned char>(key.back()) * 64u + static_cast<unsigned>(key.size());
    exact_shapes_[first / 64] |= std::uint64_t{1} << (first % 64);
    exact_ends_[last / 64] |= std::uint64_t{1} << (last % 64);
  }
  // The pre-filter passes every exact key; one it rejected would never match (a build defect, not input).
  for (const auto& [key, rule] : exact_) {
    if (!MayBeExact(key)) std::abort();
  }
}

const KeyRules::Rule* KeyRules::FindPrefixRule(std::string_view lower) const {
  static constexpr Rule kAirflowConnection{DetectorId::kAirflowConnection, kCritical, ValueCheck::kLiteral,
                                           TransportCheck::kKafkaProtocol, true};
  static constexpr Rule kDbtSecret{DetectorId::kDbtSecretEnv, kHigh, ValueCheck::kLiteral,
                                   TransportCheck::kKafkaProtocol, true};
  static constexpr Rule kSparkAuth{DetectorId::kSparkAuthSecretEnv, Severity::kInfo, ValueCheck::kLiteral,
                                   TransportCheck::kKafkaProtocol, true};
  static constexpr Rule kAzureKey{DetectorId::kSparkHadoopConf, kCritical, ValueCheck::kLiteral,
                                  TransportCheck::kKafkaProtocol, false};
  static constexpr Rule kSparkSslPassword{DetectorId::kSparkHadoopConf, kHigh, ValueCheck::kLiteral,
                                          TransportCheck::kKafkaProtocol, false};
  static constexpr Rule kSparkTrustPassword{DetectorId::kSparkHadoopConf, kMedium, ValueCheck::kLiteral,
                                            TransportCheck::kKafkaProtocol, false};
  static constexpr Rule kJaas{DetectorId::kKafkaJaasPassword, kHigh, ValueCheck::kLiteral,
                              TransportCheck::kKafkaProtocol, false};
  static constexpr Rule kProtocol{DetectorId::kCount, Severity::kInfo, ValueCheck::kTransport,
                                  TransportCheck::kKafkaProtocol, false};
  static constexpr Rule kEndpointId{DetectorId::kCount, Severity::kInfo, ValueCheck::kTransport,
                                    TransportCheck::kEndpointIdentification, false};
  static constexpr Rule kCertVerify{DetectorId::kCount, Severity::kInfo, ValueCheck::kTransport,
                                    TransportCheck::kKafkaCertVerification, false};

  if (lower.empty()) return nullptr;
  switch (lower[0]) {
    case 'a':
      if (StartsWith(lower, "airflow_conn_") && lower.size() > 13) return &kAirflowConnection;
      break;
    case 'd':
      if (StartsWith(lower, "dbt_env_secret_") && lower.size() > 15) return &kDbtSecret;
      break;
    case '_':
      if (lower == "_spark_auth_secret") return &kSparkAuth;
      if (StartsWith(lower, "_spark_ssl_rpc_") && lower.substr(lower.size() - 8) == "password") return &kSparkAuth;
      break;
    case 'f':
      if (StartsWith(lower, "fs.azure.account.key.") || StartsWith(lower, "fs.azure.sas.") ||
          StartsWith(lower, "fs.azure.account.oauth2.client.secret")) {
        return &kAzureKey;
      }
      break;
    case 's':
      if (StartsWith(lower, "spark.ssl.") && lower.size() > 18 && lower.substr(lower.size() - 8) == "password") {
        return lower.find("truststore") != std::string_view::npos ? &kSparkTrustPassword : &kSparkSslPassword;
      }
      break;
    default:
      break;
  }
  // Suffix families; the last byte tells which one can apply.
  switch (lower.back()) {
    case 'g':
      if (EndsWithKey(lower, "sasl.jaas.config", "sasl_jaas_config")) return &kJaas;
      return nullptr;
    case 'l':
      if (EndsWithKey(lower, "security.protocol", "security_protocol")) return &kProtocol;
      return nullptr;
    case 'm':
      if (EndsWithKey(lower, "ssl.endpoint.identification.algorithm", "ssl_endpoint_identification_algorithm")) {
        return &kEndpointId;
      }
      return nullptr;
    case 'n':
      if (EndsWithKey(lower, "enable.ssl.certificate.verification", "enable_ssl_certificate_verification")) {
        return &kCertVerify;
      }
      return nullptr;
    default:
      return nullptr;
  }
}

bool KeyRules::ValueMatches(ValueCheck check, std::string_view value) const {
  switch (check) {
    case ValueCheck::kLiteral:
      return !IsNonSecretLiteral(value);
    case ValueCheck::kKeyMaterial:
      return !IsNonSecretLiteral(value) && !IsKmsKeyIdentifier(value);
    case ValueCheck::kUriPassword:
      return HasLiteralUriPassword(value) || ParamPasswordLiteral(value);
    case ValueCheck::kUriUserinfo:
      return HasLiteralUriUserinfo(value);
    case ValueCheck::kJsonKwargs:
      return ScanJsonForSecrets(value).secret;
    case ValueCheck::kUserPassList:
      return UserPassListHasLiteral(value);
    case ValueCheck::kGoogleCredentials:
      return IsGoogleCredentialContent(value);
    case ValueCheck::kIdentifier:
    case ValueCheck::kTransport:
      return false;
  }
  return false;
}

KeyOutcome KeyRules::Scan(const NormalizedKey& key, std::string_view value, bool spark_executor, const Location& where,
                          FindingSink& sink) const {
  KeyOutcome out;
  const std::string_view lower = key.lower();
  const Rule* rule = nullptr;
  // Exact names first: AIRFLOW__API_AUTH__JWT_SECRET is an option named `jwt_secret`, not the `_SECRET` form.
  if (MayBeExact(lower)) {
    if (auto it = exact_.find(lower); it != exact_.end()) rule = &it->second;
  }
  if (rule == nullptr && key.pass_through()) {
    out.matched = true;
    return out;
  }
  if (rule == nullptr) rule = FindPrefixRule(lower);
  if (rule == nullptr && !key.env_style()) {
    const std::size_t dot = lower.rfind('.');
    if (dot != std::string_view::npos) {
      if (auto it = last_component_.find(lower.substr(dot + 1)); it != last_component_.end()) rule = &it->second;
    } else if (auto it2 = last_component_.find(lower); it2 != last_component_.end()) {
      rule = &it2->second;
    }
  }
  if (rule != nullptr && rule->env_only && !key.env_style()) rule = nullptr;

  if (rule == nullptr) {
    TransportHit hit;
    if (!key.env_style()) {
      const std::size_t dot = lower.rfind('.');
      const std::string_view last = dot == std::string_view::npos ? lower : lower.substr(dot + 1);
      if (CheckTlsParam(last, value, hit, ParamContext::kConfKey)) sink.Add(where, hit.id, hit.severity, hit.detail);
    }
    if (key.hints().verification && CheckVerificationName(KeyTokens(key.original()), value, hit)) {
      sink.Add(where, hit.id, hit.severity, hit.detail);
    }
    return out;
  }

  out.matched = true;
  if (rule->check == ValueCheck::kTransport) {
    TransportHit hit;
    if (EvaluateTransportCheck(rule->transport, value, hit)) sink.Add(where, hit.id, hit.severity, hit.detail);
    return out;
  }

  switch (rule->detector) {
    case DetectorId::kSparkAuthSecretEnv:
      // Spark itself injects these into executor pods; elsewhere they are ordinary sensitive names.
      if (!spark_executor) return KeyOutcome{};
      if (!IsNonSecretLiteral(value)) sink.Add(where, rule->detector, rule->severity);
      out.stop = true;
      return out;
    case DetectorId::kAirflowConnection: {
      JsonScanResult json;
      if (AirflowConnectionHasSecret(value, json)) {
        sink.Add(where, rule->detector, rule->severity);
        out.secret = true;
      }
      if (json.has_transport) sink.Add(where, json.transport.id, json.transport.severity, json.transport.detail);
      if (AirflowJsonConnectionIsCleartext(value)) {
        sink.Add(where, DetectorId::kPlaintextSchemeCredentials, Severity::kHigh, "connection type without TLS");
      }
      return out;
    }
    case DetectorId::kKafkaJaasPassword:
      if (JaasHasLiteralPassword(value)) {
        sink.Add(where, rule->detector, rule->severity);
        out.secret = true;
      }
      return out;
    default:
      break;
  }
  if (ValueMatches(rule->check, value)) {
    sink.Add(where, rule->detector, rule->severity);
    out.secret = true;
  }
  return out;
}

}  // namespace pipeguard::policy::detect
