// The detector registry (stable IDs, rule, remediation text) and the per-scan finding sink that builds messages
// and de-duplicates per (value, rule, key).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pipeguard/policy/detect.h"
#include "pipeguard/policy/types.h"

namespace pipeguard::policy::detect {

enum class DetectorId : std::uint8_t {
  kPrivateKey,                  // SEC-001
  kAwsAccessKeyId,              // SEC-002
  kCloudCredentialBlob,         // SEC-003
  kVendorToken,                 // SEC-004
  kJwt,                         // SEC-005
  kAuthorizationHeader,         // SEC-006
  kUriCredentials,              // SEC-010
  kConnectionStringPassword,    // SEC-011
  kJsonSecret,                  // SEC-012
  kAirflowConnection,           // SEC-020
  kAirflowSensitiveConfig,      // SEC-021
  kSparkHadoopConf,             // SEC-030
  kSparkAuthSecretEnv,          // SEC-031
  kKafkaJaasPassword,           // SEC-040
  kSnowflakeCredential,         // SEC-050
  kDbtSecretEnv,                // SEC-060
  kCloudCredentialEnv,          // SEC-070
  kGenericSensitiveName,        // SEC-080
  kCliSecretFlag,               // SEC-081
  kHighEntropyValue,            // SEC-090
  kValueTooLarge,               // SEC-099
  kSensitiveNameFromConfigMap,  // SEC-100
  kKafkaPlaintext,              // TLS-001
  kKafkaHostnameVerification,   // TLS-002
  kPostgresSslMode,             // TLS-010
  kJdbcTlsOff,                  // TLS-011
  kPlaintextSchemeCredentials,  // TLS-020
  kS3aPlaintext,                // TLS-021
  kSparkEncryptionOff,          // TLS-022
  kTlsVerificationDisabled,     // TLS-030
  kAirflowSmtpCleartext,        // TLS-040
  kCount,
};

// How specific a detector is; on a (path, rule) tie in severity the more specific finding is kept (D3).
enum class Specificity : std::uint8_t { kEntropy = 0, kGeneric = 1, kValueShape = 2, kKeyTable = 3 };

struct DetectorInfo {
  std::string_view name;  // "SEC-080 generic-sensitive-name"
  std::string_view rule;  // rules::kPlaintextSecret or rules::kInsecureTransport
  Specificity specificity;
  std::string_view what;  // what was found, e.g. "a PEM private key"
  std::string_view fix;   // how to fix it
};

const DetectorInfo& Info(DetectorId id);

// Where a finding sits: the JSON pointer, the key shown to the user, the surface word used in the message
// ("env", "Spark conf", "argument", ...) and the order used to sort findings back into input order.
//
// `order` identifies the scanned value (one config entry, or one argv element): several values may share a JSON
// pointer (the lines of a spark.properties held in one ConfigMap key, the env vars of a pod template file).
// `part` marks a finding on a key/value pair found inside that value (a `-Dk=v` in JAVA_OPTS, an assignment or
// `--conf k=v` in a script): its `key` names the pair, and each pair gets its own finding.
struct Location {
  const LazyPointer* path = nullptr;  // spelled out only for a finding; null: ""
  std::string_view key;
  std::string_view surface;
  std::string_view container;  // e.g. the env var whose `-D` option holds the key; may be empty
  std::size_t order = 0;
  bool part = false;
};

// Collects the findings of one Scan() call in time linear in the number of Add() calls. Not thread-safe; one sink
// per call.
//
// De-duplication (D3): one finding per (value, rule) for the value as a whole, and one per (value, rule, key) for
// each pair inside it (Location::part); of competing findings the most severe, then the most specific, is kept.
// A finding on the whole value is dropped at Take() when a pair inside the same value has a finding of the same
// detector and at least its severity: the pair names the key to fix, the whole value only the container.
class FindingSink {
 public:
  // Records a finding. `detail` is an optional qualifier that never contains secret material (e.g. "GitHub
  // token", "scheme postgresql", "sslmode=disable").
  void Add(const Location& where, DetectorId id, Severity severity, std::string_view detail = {});

  // Findings in input order (stable), de-duplicated.
  std::vector<Finding> Take();

 private:
  struct Pending {
    Finding finding;
    std::size_t order;
    Specificity specificity;
    DetectorId id;
    bool part;
  };
  // A value (Location::order; it determines the path) and a rule: (order << 1) | is-transport.
  using Group = std::uint64_t;
  // Identifies a finding: its group, and for a pair inside the value the pair's printable key.
  struct Identity {
    Group group;
    bool part;
    std::string key;
    bool operator==(const Identity&) const = default;
  };
  struct IdentityHash {
    std::size_t operator()(const Identity& id) const;
  };
  static Group GroupOf(std::size_t order, std::string_view rule);

  std::vector<Pending> pending_;
  std::unordered_map<Identity, std::size_t, IdentityHash> index_;  // -> position in pending_
  // Per group: the highest severity each detector reached on a pair inside the value; -1 = none.
  std::unordered_map<Group, std::array<int, static_cast<std::size_t>(DetectorId::kCount)>> pair_hits_;
};

}  // namespace pipeguard::policy::detect
