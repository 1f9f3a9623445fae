// Turns Kubernetes objects into the "pod-like units" the rules evaluate. Internal to the engine.
//
// A unit is one pod spec (a Pod, or the template of a Deployment/StatefulSet/DaemonSet/ReplicaSet/Job/CronJob),
// one role (driver or executor) of a SparkApplication, or the Spark configuration carried by a ConfigMap.
// Views and pointers in a unit point into the object and live as long as it.
#pragma once

#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/policy/detect.h"
#include "pipeguard/policy/engine.h"
#include "pipeguard/policy/label_selector.h"

namespace pipeguard::policy {

enum class UnitKind { kPodSpec, kSparkRole, kSparkConfigMap };

struct PodUnit {
  UnitKind kind = UnitKind::kPodSpec;
  std::string base_path;        // JSON pointer of the pod spec ("/spec", "/spec/template/spec", ...) or role
  Labels labels;                // the labels the pod will carry (template labels; Spark role labels)
  std::string service_account;  // as written; empty means "default"
  std::string service_account_path;
  std::optional<bool> automount_token;
  std::string automount_path;
  std::vector<ImageRef> images;
  ScanInput scan;                               // everything the secret/transport detectors look at
  const nlohmann::json* annotations = nullptr;  // template annotations (break-glass on controller-made pods)
  std::string metadata_path;                    // JSON pointer of the metadata holding `annotations`
  // Text that is not in the object as such (unescaped properties, decoded XML); `scan` may view into it. Shared so
  // that copies of a unit stay valid; element addresses of a deque are stable.
  std::shared_ptr<std::deque<std::string>> owned_text;  // set for ConfigMap units only
  std::shared_ptr<const nlohmann::json> owned_object;   // a parsed pod template the unit's scan views into
};

// How the engine sees an object.
struct Workload {
  std::string kind, api_version, namespace_, name;
  const nlohmann::json* annotations = nullptr;  // top-level metadata.annotations
  bool is_spark_application = false;
  bool is_config_map = false;
  bool is_profile = false;
  std::vector<PodUnit> units;
};

// Extracts units from an object; returns nullopt for kinds the engine does not evaluate.
std::optional<Workload> ExtractWorkload(const nlohmann::json& object, const std::string& request_namespace);

// Splits a Java properties text (spark.properties, spark-defaults.conf) into entries the way
// java.util.Properties.load reads it: continuation lines are joined and escapes (\:, \=, \uXXXX, ...) undone, so
// the detectors see what Spark sees (spark-submit writes `jdbc\:postgresql\://...?password\=...`). Entries view
// into `text`, or into strings appended to `storage` where unescaping changed them.
void ParseProperties(std::string_view text, const std::string& path, Surface surface, std::vector<ConfigEntry>& out,
                     std::deque<std::string>& storage);

// The <property><name>K</name><value>V</value></property> pairs of a Hadoop configuration file (core-site.xml,
// hive-site.xml, ...), as Surface::kHadoopConf entries (keys as Hadoop reads them, without spark.hadoop.).
void ParseHadoopXml(std::string_view text, const std::string& path, std::vector<ConfigEntry>& out,
                    std::deque<std::string>& storage);

// The NAME=value assignments (optionally `export`ed, values optionally quoted) of a shell file such as spark-env.sh,
// as Surface::kEnv entries.
void ParseShellAssignments(std::string_view text, const std::string& path, std::vector<ConfigEntry>& out,
                           std::deque<std::string>& storage);

}  // namespace pipeguard::policy
