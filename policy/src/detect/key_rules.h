// Exact key tables (spec D3 step (b)): Airflow, Spark/Hadoop/Hive, Kafka, Snowflake, dbt and well-known
// cloud/database credential variables, plus the keyed transport settings. Also key normalisation (D2 prefix
// stripping) and the pass-through keys of F-06/F-07.
//
// Thread-safe after construction (the tables are immutable).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "detect/findings.h"
#include "detect/key_names.h"
#include "detect/text.h"
#include "detect/transport.h"
#include "pipeguard/policy/detect.h"

namespace pipeguard::policy::detect {

// A key with the D2 prefixes stripped (`spark.hadoop.`, `kafka.`, `spark.kafka.clusters.<id>.`, `spark.` of
// `spark.es.`, `spark.executorEnv.`, `spark.kubernetes.driverEnv.`, `spark.yarn.appMasterEnv.`) and the S3A per-bucket
// segment folded (`fs.s3a.bucket.<b>.secret.key` -> `fs.s3a.secret.key`).
class NormalizedKey {
 public:
  NormalizedKey(std::string_view key, bool env_surface);
  NormalizedKey(const NormalizedKey&) = delete;
  NormalizedKey& operator=(const NormalizedKey&) = delete;

  std::string_view original() const { return original_; }  // stripped, as written (for tokens)
  std::string_view lower() const { return lower_; }        // stripped, lower-cased, bucket folded
  // An environment variable name: a container env entry, a shell assignment, or spark.executorEnv.X.
  bool env_style() const { return env_style_; }
  // F-06 / F-07: secure references (`spark.kubernetes.*.secretKeyRef.*`, `spark.kubernetes.*.secrets.*`,
  // `hadoop.security.credential.provider.path`, Airflow `*_CMD` / `*_SECRET`, `AIRFLOW__KUBERNETES_SECRETS__*`)
  // and config-of-config keys (`*.redaction.regex`): no key rule applies, value-shape detectors still run.
  bool pass_through() const { return pass_through_; }
  // ScanKeyWords over lower(): cheap pre-checks for the generic heuristic and TLS-030 names.
  const KeyWordHints& hints() const { return hints_; }

 private:
  LowerCopy full_lower_;
  std::string folded_;  // only used for the S3A bucket fold
  std::string_view original_;
  std::string_view lower_;
  bool env_style_ = false;
  bool pass_through_ = false;
  KeyWordHints hints_;
};

// The outcome of the key tables for one key/value pair.
struct KeyOutcome {
  bool matched = false;  // a table knew the key (so the generic heuristic must not second-guess it)
  bool secret = false;   // a plaintext-secret finding was reported
  bool stop = false;     // nothing else may be reported for this pair (SEC-031 on executors)
};

class KeyRules {
 public:
  KeyRules();

  // Runs the key tables and keyed transport rules for `key` = `value` and reports into `sink`.
  KeyOutcome Scan(const NormalizedKey& key, std::string_view value, bool spark_executor, const Location& where,
                  FindingSink& sink) const;

 private:
  enum class ValueCheck : std::uint8_t {
    kLiteral,            // any literal that is not a reference, placeholder or path
    kUriPassword,        // a URI (or connection string) with a literal password
    kUriUserinfo,        // a URI with literal userinfo (Sentry DSN)
    kJsonKwargs,         // a JSON object with a sensitive key holding a literal
    kUserPassList,       // user:password[,user:password]
    kGoogleCredentials,  // JSON key content (a path is fine)
    kIdentifier,         // a known identifier (e.g. fs.s3a.access.key): never a secret by name
    kKeyMaterial,        // S3A encryption key: a literal unless it names a KMS key (ARN, key ID, alias)
    kTransport,          // not a secret rule: see `transport`
  };
  struct Rule {
    DetectorId detector;
    Severity severity;
    ValueCheck check;
    TransportCheck transport;
    bool env_only;  // applies only to environment-variable style keys
  };

  bool ValueMatches(ValueCheck check, std::string_view value) const;
  const Rule* FindPrefixRule(std::string_view lower) const;

  // (first byte, length) and (last byte, length) pairs present in exact_: most keys are rejected without hashing.
  bool MayBeExact(std::string_view lower) const {
    if (lower.size() >= 64) return true;  // not tracked: fall back to hashing
    if (lower.empty()) return false;
    const unsigned first = static_cast<unsigned char>(lower.front()) * 64u + static_cast<unsigned>(lower.size());
    const unsigned last = static_cast<unsigned char>(lower.back()) * 64u + static_cast<unsigned>(lower.size());
    return ((exact_shapes_[first / 64] >> (first % 64)) & 1u) && ((exact_ends_[last / 64] >> (last % 64)) & 1u);
  }

  std::unordered_map<std::string_view, Rule> exact_;
  std::uint64_t exact_shapes_[256] = {};
  std::uint64_t exact_ends_[256] = {};
  std::unordered_map<std::string_view, Rule> last_component_;  // matched on the text after the last '.'
};

}  // namespace pipeguard::policy::detect
