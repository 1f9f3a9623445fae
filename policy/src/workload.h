// Turns Kubernetes objects into the "pod-like units" the rules evaluate. Internal to the engine.
//
// A unit is one pod spec (a Pod, or the template of a Deployment/StatefulSet/DaemonSet/ReplicaSet/Job/CronJob),
// one role (driver or executor) of a SparkApplication, or the Spark configuration carried by a ConfigMap.
// Views and pointers in a unit point into the object (an nlohmann or a simdjson DOM, read through JsonRef) and live
// as long as it.
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
#include "pipeguard/policy/json_ref.h"
#include "pipeguard/policy/label_selector.h"

namespace pipeguard::policy {

enum class UnitKind { kPodSpec, kSparkRole, kSparkConfigMap };

// A field that the rules read but whose JSON type is not the one Kubernetes defines (e.g. `containers` as an object,
// an env `value` as a number). The engine cannot tell what such an object would do and denies it (rule
// malformed-object). Absent and null fields are not malformed: Kubernetes reads null as unset.
struct Malformation {
  std::string path;      // RFC 6901 JSON pointer of the field
  std::string expected;  // "a list", "a string", ...
  std::string found;     // "an object", "a number", "missing", ...
};

// A ConfigMap that a pod spec mounts or reads: a volume, a projected volume source, envFrom or configMapKeyRef.
struct ConfigMapRef {
  std::string name;
  std::string path;  // JSON pointer of the first field naming it, e.g. /spec/volumes/0/configMap/name
};

struct PodUnit {
  UnitKind kind = UnitKind::kPodSpec;
  std::string base_path;        // JSON pointer of the pod spec ("/spec", "/spec/template/spec", ...) or role
  Labels labels;                // the labels the pod will carry (template labels; Spark role labels)
  std::string service_account;  // as written; empty means "default"
  std::string service_account_path;
  std::optional<bool> automount_token;
  std::string automount_path;
  std::vector<ImageRef> images;
  ScanInput scan;             // everything the secret/transport detectors look at
  JsonRef annotations;        // template annotations (break-glass on controller-made pods); absent when none
  std::string metadata_path;  // JSON pointer of the metadata holding `annotations`
  // Text that is not in the object as such (unescaped properties, decoded XML); `scan` may view into it. Shared so
  // that copies of a unit stay valid; element addresses of a deque are stable.
  std::shared_ptr<std::deque<std::string>> owned_text;  // set for ConfigMap units only
  std::shared_ptr<const nlohmann::json> owned_object;   // a parsed pod template the unit's scan views into
  // Fields of this unit with the wrong JSON type; reported when the unit is governed.
  std::vector<Malformation> malformed;
  // False when the unit's pod spec (or Spark role) itself is not an object: the other rules are not run on it.
  bool readable = true;
  // Pod specs and Spark roles: the ConfigMaps the pod reads, one per name, in document order (a Spark driver also
  // holds the application-wide ones: spec.volumes, sparkConfigMap, hadoopConfigMap).
  std::vector<ConfigMapRef> config_maps;
  // ConfigMaps: true when the ConfigMap is pipeline configuration by itself (Spark's own, or labelled
  // pipeguard.io/pipeline); its files are then read. Otherwise `scan` is empty until ReadConfigMapFiles, called when
  // the governance selects the ConfigMap or a governed pod mounts it.
  bool pipeline_config = false;
};

// How the engine sees an object.
struct Workload {
  std::string kind, api_version, namespace_, name;
  JsonRef annotations;  // top-level metadata.annotations; absent when none
  bool is_spark_application = false;
  bool is_config_map = false;
  bool is_profile = false;
  std::vector<PodUnit> units;
  // Malformed fields that hide whether and how the object is governed (its kind, namespace, the pod labels, the
  // path to a pod template): the engine then treats the object as governed and denies it.
  std::vector<Malformation> unreadable;
  // Malformed object-level fields read only for governed objects (top-level annotations of controllers).
  std::vector<Malformation> malformed;
};

// Extracts units from an object; returns nullopt for kinds the engine does not evaluate. `request_kind` is the kind
// the admission request names (request.kind.kind; empty outside the webhook): an object whose own `kind` is missing
// or differs is extracted as `request_kind` and marked unreadable.
std::optional<Workload> ExtractWorkload(JsonRef object, const std::string& request_namespace,
                                        std::string_view request_kind = {});

// Reads every file of the ConfigMap `object` into `unit` (a kSparkConfigMap unit of it) by type (config_files.h):
// Spark's pod template, properties, Hadoop XML, INI, env, JSON and YAML; data keys of no known type are one setting
// each, named by the key. Non-string data values are recorded as malformed.
void ReadConfigMapFiles(JsonRef object, PodUnit& unit);

// The unit of ConfigMap `object` with its files read, whatever its labels: the ConfigMap is configuration of the
// governed pod that mounts it. nullopt when it holds no data.
std::optional<PodUnit> MountedConfigMapUnit(JsonRef object);

// Splits a Java properties text (spark.properties, spark-defaults.conf) into entries the way
// java.util.Properties.load reads it: continuation lines are joined and escapes (\:, \=, \uXXXX, ...) undone, so
// the detectors see what Spark sees (spark-submit writes `jdbc\:postgresql\://...?password\=...`). Entries view
// into `text`, or into strings appended to `storage` where unescaping changed them.
void ParseProperties(std::string_view text, const LazyPointer& path, Surface surface, std::vector<ConfigEntry>& out,
                     std::deque<std::string>& storage);

// The <property><name>K</name><value>V</value></property> pairs of a Hadoop configuration file (core-site.xml,
// hive-site.xml, ...), as Surface::kHadoopConf entries (keys as Hadoop reads them, without spark.hadoop.).
void ParseHadoopXml(std::string_view text, const LazyPointer& path, std::vector<ConfigEntry>& out,
                    std::deque<std::string>& storage);

// The NAME=value assignments (optionally `export`ed, values optionally quoted) of a shell file such as spark-env.sh,
// as Surface::kEnv entries.
void ParseShellAssignments(std::string_view text, const LazyPointer& path, std::vector<ConfigEntry>& out,
                           std::deque<std::string>& storage);

}  // namespace pipeguard::policy
