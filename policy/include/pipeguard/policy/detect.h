// Secret and insecure-transport detection over configuration surfaces (rules `plaintext-secret` and
// `insecure-transport`). Pure functions; no I/O. Design: ../shared/reference/secret-detection.md (D1-D10).
//
// The engine flattens every surface of a pod-like unit (env vars, command lines, Spark/Hadoop conf, Spark
// properties files in ConfigMaps) into a ScanInput; the detector returns findings. A finding never carries
// the secret value: only the rule, the detector, the JSON-pointer path, the key and a message.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/policy/json_pointer.h"
#include "pipeguard/policy/types.h"

namespace pipeguard::policy {

enum class Surface : std::uint8_t {
  kEnv,         // a container env var (key = name)
  kSparkConf,   // SparkApplication spec.sparkConf, --conf on a command line, spark.properties
  kHadoopConf,  // SparkApplication spec.hadoopConf (keys without the spark.hadoop. prefix)
  kProperties,  // a key=value line of a properties/config file carried in a ConfigMap
  kArgument,    // an option found on a command line (key = option name or -D key)
};

enum class ValueSource : std::uint8_t {
  kLiteral,       // the value is written in the object
  kSecretRef,     // env valueFrom.secretKeyRef (the secure form)
  kConfigMapRef,  // env valueFrom.configMapKeyRef
  kOtherRef,      // fieldRef / resourceFieldRef
};

// One key/value pair found in the object. Views point into the evaluated object and live as long as it.
struct ConfigEntry {
  std::string_view key;
  std::string_view value;
  LazyPointer path;  // JSON pointer of the field holding the value (spelled out when a finding names it)
  Surface surface = Surface::kEnv;
  ValueSource source = ValueSource::kLiteral;
  // How findings name the value when `key` alone does not say where it is: a field inside a configuration file,
  // e.g. `data["profiles.yml"]: outputs.prod.password` (then `key` is the field's own name, `password`, which the
  // key rules judge). Empty: findings name `key`.
  std::string_view label;
};

// The command and args of one container (or a SparkApplication's arguments), in execution order.
// `paths[i]` is the JSON pointer of argv[i]. Elements may hold whole shell scripts (`sh -c "..."`) or
// several options at once (`"--conf a=b"`): the detector re-tokenises them.
struct CommandLine {
  std::vector<std::string_view> argv;
  std::vector<LazyPointer> paths;
};

struct ScanInput {
  std::vector<ConfigEntry> entries;
  std::vector<CommandLine> command_lines;
  bool spark_executor = false;  // pod labelled spark-role=executor (Spark's own _SPARK_AUTH_SECRET is INFO)
};

struct Finding {
  std::string rule;      // rules::kPlaintextSecret or rules::kInsecureTransport
  std::string detector;  // stable detector ID and name, e.g. "SEC-080 generic-sensitive-name"
  Severity severity = Severity::kHigh;
  std::string path;     // JSON pointer of the offending value
  std::string key;      // the key, env var name or option; never the value
  std::string message;  // names key and detector, says how to fix; never contains the value
};

// Thread-safe, immutable after construction (compiled RE2 patterns live inside). Construct once, share.
class Detector {
 public:
  Detector();
  ~Detector();
  Detector(const Detector&) = delete;
  Detector& operator=(const Detector&) = delete;

  // Returns findings in input order (entries first, then command lines). Every finding is reported: one per value
  // and rule, and one per key/value pair inside a value (the lines of a properties file, the `-Dk=v` options of
  // JAVA_OPTS, the assignments of a script), so two secrets in one field are both named. Competing findings on
  // the same value or pair are de-duplicated: specific detectors win over the generic name heuristic (D3).
  // Linear in the number of findings.
  //
  // `exhausted` (optional) is called every kBudgetCheckInterval settings or command lines; once it returns true
  // the scan stops, sets `*stopped` (when given) and returns the findings so far.
  std::vector<Finding> Scan(const ScanInput& input, const std::function<bool()>& exhausted = {},
                            bool* stopped = nullptr) const;
  static constexpr std::size_t kBudgetCheckInterval = 32;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The process-wide detector (compiled on first use).
const Detector& DefaultDetector();

}  // namespace pipeguard::policy
