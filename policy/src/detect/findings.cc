#include "detect/findings.h"

#include <algorithm>
#include <array>
#include <functional>

#include "detect/text.h"

namespace pipeguard::policy::detect {
namespace {

constexpr std::string_view kSecret = rules::kPlaintextSecret;
constexpr std::string_view kTransport = rules::kInsecureTransport;
constexpr std::string_view kUseSecretRef = "use valueFrom.secretKeyRef (or a mounted Secret volume)";

constexpr std::array<DetectorInfo, static_cast<std::size_t>(DetectorId::kCount)> kDetectors = {{
    {"SEC-001 private-key", kSecret, Specificity::kValueShape, "holds a PEM private key",
     "mount the key from a Secret volume or use valueFrom.secretKeyRef"},
    {"SEC-002 aws-access-key-id", kSecret, Specificity::kValueShape, "holds an AWS access key ID",
     "use IRSA / EKS Pod Identity instead of static keys, or valueFrom.secretKeyRef"},
    {"SEC-003 cloud-credential-blob", kSecret, Specificity::kValueShape,
     "holds a cloud credential (service-account key or storage account key)",
     "use workload identity, or mount the credential from a Secret volume"},
    {"SEC-004 vendor-token", kSecret, Specificity::kValueShape, "holds a vendor API token", kUseSecretRef},
    {"SEC-005 jwt", kSecret, Specificity::kValueShape, "holds a JSON Web Token", kUseSecretRef},
    {"SEC-006 authorization-header", kSecret, Specificity::kValueShape, "holds a literal authorization credential",
     "read the credential from an env var set by valueFrom.secretKeyRef and reference it as $(VAR)"},
    {"SEC-010 uri-credentials", kSecret, Specificity::kValueShape, "holds a URI with an inline password",
     "put the password in a Secret, expose it with valueFrom.secretKeyRef and reference it as $(VAR)"},
    {"SEC-011 connection-string-password", kSecret, Specificity::kValueShape,
     "holds a connection string with an inline password",
     "put the password in a Secret, expose it with valueFrom.secretKeyRef and reference it as $(VAR)"},
    {"SEC-012 json-secret", kSecret, Specificity::kValueShape,
     "holds a JSON document with a literal secret under a sensitive key",
     "put the secret in a Secret, expose it with valueFrom.secretKeyRef and build the document from $(VAR) or a "
     "mounted file"},
    {"SEC-020 airflow-connection", kSecret, Specificity::kKeyTable, "is an Airflow connection with a literal secret",
     "use an Airflow secrets backend, or valueFrom.secretKeyRef for the AIRFLOW_CONN_* variable"},
    {"SEC-021 airflow-sensitive-config", kSecret, Specificity::kKeyTable,
     "sets a sensitive Airflow option to a literal",
     "use an Airflow secrets backend or the AIRFLOW__X__Y_SECRET / AIRFLOW__X__Y_CMD form, or "
     "valueFrom.secretKeyRef"},
    {"SEC-030 spark-hadoop-sensitive-conf", kSecret, Specificity::kKeyTable,
     "sets a sensitive Spark/Hadoop/Kafka option to a literal",
     "use spark.kubernetes.driver.secretKeyRef.* / spark.kubernetes.executor.secretKeyRef.* or "
     "spark.kubernetes.*.secrets.*, a hadoop.security.credential.provider.path store, or IRSA"},
    {"SEC-031 spark-auth-secret-env", kSecret, Specificity::kKeyTable,
     "carries the Spark-generated RPC secret (visible to anyone who can list pods)",
     "set spark.authenticate.secret.file with spark.authenticate.secret.driver.file and "
     "spark.authenticate.secret.executor.file, or bind it with spark.kubernetes.*.secretKeyRef"},
    {"SEC-040 kafka-jaas-password", kSecret, Specificity::kKeyTable, "holds a SASL JAAS config with a literal password",
     "use a KIP-297 config provider (${file:/path:key} or ${env:VAR}) fed from a Secret"},
    {"SEC-050 snowflake-credential", kSecret, Specificity::kKeyTable, "holds a literal Snowflake credential",
     "use key-pair auth with private_key_file mounted from a Secret, or valueFrom.secretKeyRef"},
    {"SEC-060 dbt-secret-env", kSecret, Specificity::kKeyTable,
     "is a DBT_ENV_SECRET_* variable with a literal value (the prefix only scrubs logs)", kUseSecretRef},
    {"SEC-070 cloud-credential-env", kSecret, Specificity::kKeyTable, "is a well-known credential variable",
     "use workload identity (IRSA / GKE Workload Identity / Azure Workload Identity) or valueFrom.secretKeyRef"},
    {"SEC-080 generic-sensitive-name", kSecret, Specificity::kGeneric, "has a sensitive name and a literal value",
     kUseSecretRef},
    {"SEC-081 cli-secret-flag", kSecret, Specificity::kGeneric, "passes a secret on the command line",
     "read it from an env var set by valueFrom.secretKeyRef ($(VAR)) or from a mounted Secret file"},
    {"SEC-090 high-entropy-value", kSecret, Specificity::kEntropy, "holds a high-entropy string (audit only)",
     "if it is a credential, use valueFrom.secretKeyRef"},
    {"SEC-099 value-too-large", kSecret, Specificity::kKeyTable, "is too large to scan for secrets (fail-closed)",
     "mount large content from a ConfigMap or Secret volume instead of inlining it"},
    {"SEC-100 sensitive-name-from-configmap", kSecret, Specificity::kKeyTable,
     "has a sensitive name but is read from a ConfigMap", "move the value to a Secret and use valueFrom.secretKeyRef"},
    {"TLS-001 kafka-plaintext-protocol", kTransport, Specificity::kKeyTable, "uses a plaintext Kafka protocol",
     "use security.protocol=SASL_SSL (or SSL) and SASL_SSL:// / SSL:// listeners"},
    {"TLS-002 kafka-hostname-verification-off", kTransport, Specificity::kKeyTable,
     "disables TLS hostname or certificate verification for Kafka",
     "remove the override (ssl.endpoint.identification.algorithm defaults to https)"},
    {"TLS-010 postgres-sslmode-weak", kTransport, Specificity::kKeyTable, "allows an unauthenticated Postgres link",
     "use sslmode=verify-full"},
    {"TLS-011 jdbc-tls-off", kTransport, Specificity::kKeyTable, "turns off TLS or certificate checks for a database",
     "enable TLS with verification (useSSL=true / sslMode=VERIFY_IDENTITY, encrypt=true with "
     "trustServerCertificate=false, no insecureMode)"},
    {"TLS-020 credentials-over-plaintext", kTransport, Specificity::kValueShape,
     "sends credentials over a plaintext scheme",
     "use the TLS scheme (https, rediss, amqps, ldaps, ftps, smtps, mqtts) or tls=true"},
    {"TLS-021 s3a-plaintext", kTransport, Specificity::kKeyTable, "talks to S3 without TLS",
     "use an https fs.s3a.endpoint and keep fs.s3a.connection.ssl.enabled=true"},
    {"TLS-022 spark-encryption-off", kTransport, Specificity::kKeyTable, "turns off Spark internal encryption",
     "enable spark.network.crypto.enabled (RPC) and spark.ssl.enabled (UI)"},
    {"TLS-030 tls-verification-disabled", kTransport, Specificity::kKeyTable, "disables TLS certificate verification",
     "remove the override and trust the internal CA through a CA bundle instead"},
    {"TLS-040 airflow-smtp-cleartext", kTransport, Specificity::kKeyTable, "sends Airflow SMTP credentials without TLS",
     "set AIRFLOW__SMTP__SMTP_STARTTLS=True or AIRFLOW__SMTP__SMTP_SSL=True"},
}};

// The table is indexed by DetectorId: every row must carry the ID of its enumerator.
constexpr bool RowIs(DetectorId id, std::string_view prefix) {
  return kDetectors[static_cast<std::size_t>(id)].name.substr(0, prefix.size()) == prefix;
}
static_assert(
    RowIs(DetectorId::kPrivateKey, "SEC-001") && RowIs(DetectorId::kAwsAccessKeyId, "SEC-002") &&
        RowIs(DetectorId::kCloudCredentialBlob, "SEC-003") && RowIs(DetectorId::kVendorToken, "SEC-004") &&
        RowIs(DetectorId::kJwt, "SEC-005") && RowIs(DetectorId::kAuthorizationHeader, "SEC-006") &&
        RowIs(DetectorId::kUriCredentials, "SEC-010") && RowIs(DetectorId::kConnectionStringPassword, "SEC-011") &&
        RowIs(DetectorId::kJsonSecret, "SEC-012") && RowIs(DetectorId::kAirflowConnection, "SEC-020") &&
        RowIs(DetectorId::kAirflowSensitiveConfig, "SEC-021") && RowIs(DetectorId::kSparkHadoopConf, "SEC-030") &&
        RowIs(DetectorId::kSparkAuthSecretEnv, "SEC-031") && RowIs(DetectorId::kKafkaJaasPassword, "SEC-040") &&
        RowIs(DetectorId::kSnowflakeCredential, "SEC-050") && RowIs(DetectorId::kDbtSecretEnv, "SEC-060") &&
        RowIs(DetectorId::kCloudCredentialEnv, "SEC-070") && RowIs(DetectorId::kGenericSensitiveName, "SEC-080") &&
        RowIs(DetectorId::kCliSecretFlag, "SEC-081") && RowIs(DetectorId::kHighEntropyValue, "SEC-090") &&
        RowIs(DetectorId::kValueTooLarge, "SEC-099") && RowIs(DetectorId::kSensitiveNameFromConfigMap, "SEC-100") &&
        RowIs(DetectorId::kKafkaPlaintext, "TLS-001") && RowIs(DetectorId::kKafkaHostnameVerification, "TLS-002") &&
        RowIs(DetectorId::kPostgresSslMode, "TLS-010") && RowIs(DetectorId::kJdbcTlsOff, "TLS-011") &&
        RowIs(DetectorId::kPlaintextSchemeCredentials, "TLS-020") && RowIs(DetectorId::kS3aPlaintext, "TLS-021") &&
        RowIs(DetectorId::kSparkEncryptionOff, "TLS-022") && RowIs(DetectorId::kTlsVerificationDisabled, "TLS-030") &&
        RowIs(DetectorId::kAirflowSmtpCleartext, "TLS-040"),
    "kDetectors rows out of step with DetectorId");

std::string BuildMessage(const DetectorInfo& info, const Location& where, std::string_view detail) {
  std::string msg;
  msg.reserve(160 + info.what.size() + info.fix.size());
  msg.append(where.surface);
  msg.push_back(' ');
  msg.append(PrintableKey(where.key));
  if (!where.container.empty()) {
    msg.append(" (in ");
    msg.append(PrintableKey(where.container));
    msg.push_back(')');
  }
  msg.push_back(' ');
  msg.append(info.what);
  if (!detail.empty()) {
    msg.append(" (");
    msg.append(detail);
    msg.push_back(')');
  }
  msg.append(" [");
  msg.append(info.name);
  msg.append("]; ");
  msg.append(info.fix);
  msg.push_back('.');
  return msg;
}

}  // namespace

const DetectorInfo& Info(DetectorId id) { return kDetectors[static_cast<std::size_t>(id)]; }

FindingSink::Group FindingSink::GroupOf(std::size_t order, std::string_view rule) {
  return (static_cast<Group>(order) << 1) | (rule == rules::kInsecureTransport ? 1u : 0u);
}

std::size_t FindingSink::IdentityHash::operator()(const Identity& id) const {
  const std::size_t h = std::hash<Group>{}(id.group) ^ (id.part ? 0x9e3779b97f4a7c15u : 0u);
  return id.key.empty() ? h : h ^ (std::hash<std::string_view>{}(id.key) + 0x9e3779b9u + (h << 6) + (h >> 2));
}

void FindingSink::Add(const Location& where, DetectorId id, Severity severity, std::string_view detail) {
  const DetectorInfo& info = Info(id);
  const Group group = GroupOf(where.order, info.rule);
  if (where.part) {
    // Every detector that fired on a pair counts, also when a better finding for the same pair wins below.
    auto [hits, inserted] = pair_hits_.try_emplace(group);
    if (inserted) hits->second.fill(-1);
    int& best = hits->second[static_cast<std::size_t>(id)];
    best = std::max(best, static_cast<int>(severity));
  }
  Identity identity{group, where.part, where.part ? PrintableKey(where.key) : std::string()};
  const auto [it, inserted] = index_.try_emplace(std::move(identity), pending_.size());
  if (!inserted) {
    Pending& p = pending_[it->second];
    const bool better =
        severity > p.finding.severity || (severity == p.finding.severity && info.specificity > p.specificity);
    if (!better) return;
    p.finding.detector = std::string(info.name);
    p.finding.severity = severity;
    p.finding.key = PrintableKey(where.key);
    p.finding.message = BuildMessage(info, where, detail);
    p.specificity = info.specificity;
    p.id = id;
    return;
  }
  Pending p;
  p.finding.rule = std::string(info.rule);
  p.finding.detector = std::string(info.name);
  p.finding.severity = severity;
  if (where.path != nullptr) p.finding.path = where.path->str();
  p.finding.key = where.part ? it->first.key : PrintableKey(where.key);
  p.finding.message = BuildMessage(info, where, detail);
  p.order = where.order;
  p.specificity = info.specificity;
  p.id = id;
  p.part = where.part;
  pending_.push_back(std::move(p));
}

std::vector<Finding> FindingSink::Take() {
  // Findings arrive in input order except for cross-entry ones (TLS-040): sort only when needed.
  const auto by_order = [](const Pending& a, const Pending& b) { return a.order < b.order; };
  if (!std::is_sorted(pending_.begin(), pending_.end(), by_order)) {
    std::stable_sort(pending_.begin(), pending_.end(), by_order);
  }
  std::vector<Finding> out;
  out.reserve(pending_.size());
  for (Pending& p : pending_) {
    if (!p.part && !pair_hits_.empty()) {
      // A whole-value finding that a pair of the same value repeats (same detector, at least as severe).
      const auto hits = pair_hits_.find(GroupOf(p.order, p.finding.rule));
      if (hits != pair_hits_.end() &&
          hits->second[static_cast<std::size_t>(p.id)] >= static_cast<int>(p.finding.severity)) {
        continue;
      }
    }
    out.push_back(std::move(p.finding));
  }
  pending_.clear();
  index_.clear();
  pair_hits_.clear();
  return out;
}

}  // namespace pipeguard::policy::detect
