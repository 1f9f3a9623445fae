#include "workload.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "bounded_yaml.h"
#include "config_files.h"
#include "pipeguard/policy/json_pointer.h"

namespace pipeguard::policy {

using nlohmann::json;

namespace {

// --- JSON types of the fields the rules read -------------------------------------------------------------------

enum class Shape { kObject, kList, kString, kBoolean };

bool HasShape(JsonRef value, Shape shape) {
  switch (shape) {
    case Shape::kObject:
      return value.is_object();
    case Shape::kList:
      return value.is_array();
    case Shape::kString:
      return value.is_string();
    case Shape::kBoolean:
      return value.is_boolean();
  }
  return false;
}

std::string_view Expected(Shape shape) {
  switch (shape) {
    case Shape::kObject:
      return "an object";
    case Shape::kList:
      return "a list";
    case Shape::kString:
      return "a string";
    case Shape::kBoolean:
      return "a boolean";
  }
  return "";
}

std::string_view Found(JsonRef value) {
  if (value.is_object()) return "an object";
  if (value.is_array()) return "a list";
  if (value.is_string()) return "a string";
  if (value.is_boolean()) return "a boolean";
  if (value.is_number()) return "a number";
  if (value.is_null()) return "null";
  return "another JSON value";
}

void Record(std::string path, Shape expected, JsonRef found, std::vector<Malformation>& out) {
  out.push_back({std::move(path), std::string(Expected(expected)), std::string(Found(found))});
}

// Records the member `key` of the value at `parent_path()`, which does not have `shape`. Out of line: the walk
// calls Checked for every field it reads, and almost never gets here.
template <typename PathFn>
[[gnu::noinline, gnu::cold]] void RecordMember(const PathFn& parent_path, std::string_view key, Shape shape,
                                               JsonRef value, std::vector<Malformation>& malformed) {
  Record(PointerChild(parent_path(), key), shape, value, malformed);
}

// The member `key` of `parent` (at the JSON pointer `parent_path()` returns, spelled out only for a malformation)
// when it has `shape`. Absent when it is absent or null (Kubernetes reads null as unset), and when it has another
// JSON type, which is then recorded in `malformed`.
template <typename PathFn>
inline JsonRef Checked(JsonRef value, const PathFn& parent_path, std::string_view key, Shape shape,
                       std::vector<Malformation>& malformed) {
  if (HasShape(value, shape)) return value;  // never true of an absent or null value
  if (value && !value.is_null()) RecordMember(parent_path, key, shape, value, malformed);
  return {};
}

// Checked for a parent whose pointer is spelled out already.
inline JsonRef Checked(JsonRef value, const std::string& parent_path, std::string_view key, Shape shape,
                       std::vector<Malformation>& malformed) {
  return Checked(
      value, [&]() -> const std::string& { return parent_path; }, key, shape, malformed);
}

// The member `key` of `parent`, at the pointer `parent_path`, when it has `shape` (Checked).
JsonRef Field(JsonRef parent, const std::string& parent_path, std::string_view key, Shape shape,
              std::vector<Malformation>& malformed) {
  return Checked(parent.Find(key), parent_path, key, shape, malformed);
}

// `value`, element `i` of the list at `list_path`, when it has `shape`; otherwise records it (null included) and
// returns absent. Lists are iterated (JsonRef::ForEachElement), never indexed: simdjson's DOM indexes in linear time.
JsonRef Element(JsonRef value, const std::string& list_path, size_t i, Shape shape,
                std::vector<Malformation>& malformed) {
  if (HasShape(value, shape)) return value;
  Record(PointerChild(list_path, i), shape, value, malformed);
  return {};
}

// A string map (labels, envVars, sparkConf, data): records every value that is not a string.
void CheckStringValues(JsonRef map, const std::string& map_path, std::vector<Malformation>& malformed) {
  map.ForEachMember([&](std::string_view key, JsonRef value) {
    if (!value.is_string()) Record(PointerChild(map_path, key), Shape::kString, value, malformed);
  });
}

// The string members of `map`, as LabelsFromJson reads them.
Labels LabelsOf(JsonRef map) {
  Labels labels;
  map.ForEachMember([&](std::string_view key, JsonRef value) {
    if (value.is_string()) labels.emplace(std::string(key), std::string(value.string()));
  });
  return labels;
}

// The labels at `metadata_path`/labels: they decide whether a pod is governed and which profiles select it.
// CheckStringValues and LabelsOf in one pass over the members.
Labels CheckedLabels(JsonRef metadata, const std::string& metadata_path, std::vector<Malformation>& malformed) {
  if (!metadata) return {};
  const JsonRef labels = Field(metadata, metadata_path, "labels", Shape::kObject, malformed);
  if (!labels) return {};
  Labels out;
  labels.ForEachMember([&](std::string_view key, JsonRef value) {
    if (value.is_string()) {
      // Members come sorted as Labels sorts its keys (bytewise), each once: each is the last so far.
      out.emplace_hint(out.end(), std::string(key), std::string(value.string()));
    } else {
      Record(PointerChild(metadata_path + "/labels", key), Shape::kString, value, malformed);
    }
  });
  return out;
}

// The annotations at `metadata_path`/annotations; the break-glass ones must be strings.
JsonRef CheckedAnnotations(JsonRef metadata, const std::string& metadata_path, std::vector<Malformation>& malformed) {
  if (!metadata) return {};
  const JsonRef annotations = Field(metadata, metadata_path, "annotations", Shape::kObject, malformed);
  if (!annotations) return {};
  // One pass over the annotations (pods carry many); their pointer is spelled out only for a malformation.
  static constexpr std::array<std::string_view, 3> kKeys = {kBreakGlassRulesAnnotation, kBreakGlassTicketAnnotation,
                                                            kBreakGlassExpiresAnnotation};
  const std::array<JsonRef, 3> values = annotations.Members(kKeys);
  const auto annotations_path = [&] { return metadata_path + "/annotations"; };
  for (size_t k = 0; k < kKeys.size(); ++k) {
    Checked(values[k], annotations_path, kKeys[k], Shape::kString, malformed);
  }
  return annotations;
}

// Records that the unit reads ConfigMap `name` (a string field at the pointer `path()` returns), once per name.
template <typename PathFn>
void AddConfigMapRef(JsonRef name, const PathFn& path, PodUnit& unit) {
  const std::string_view n = name.string();
  if (n.empty()) return;
  for (const auto& ref : unit.config_maps) {
    if (ref.name == n) return;
  }
  unit.config_maps.push_back({std::string(n), path()});
}

// env: [{name, value | valueFrom}] at `env_path` (a list) -> entries.
// Entries' paths are env_path/i/value (or /valueFrom), spelled out only when a finding names them.
// With `config_map_reader`, also records there the ConfigMaps of env[].valueFrom.configMapKeyRef, in env order (as
// AddContainerConfigMapRefs does, in the same pass).
void AddEnvList(JsonRef env, std::string env_path, std::vector<ConfigEntry>& out, std::vector<Malformation>& malformed,
                PodUnit* config_map_reader) {
  const size_t size = env.size();
  if (size == 0) return;
  const auto shared_path = std::make_shared<const std::string>(std::move(env_path));
  const std::string& path = *shared_path;
  out.reserve(out.size() + size);
  env.ForEachElement([&](size_t i, JsonRef item) {
    const JsonRef var = Element(item, path, i, Shape::kObject, malformed);
    if (!var) return;
    const auto item_path = [&] { return PointerChild(path, i); };
    const auto [name_member, value_member, from_member] = var.Members<3>({"name", "value", "valueFrom"});
    const std::string_view name = Checked(name_member, item_path, "name", Shape::kString, malformed).string();
    const JsonRef value = Checked(value_member, item_path, "value", Shape::kString, malformed);
    const JsonRef from = Checked(from_member, item_path, "valueFrom", Shape::kObject, malformed);
    ValueSource source = ValueSource::kOtherRef;
    if (from) {
      const auto [secret_ref, config_map_ref] = from.Members<2>({"secretKeyRef", "configMapKeyRef"});
      if (secret_ref) {
        source = ValueSource::kSecretRef;
      } else if (config_map_ref) {
        source = ValueSource::kConfigMapRef;
      }
      if (config_map_reader != nullptr && config_map_ref) {
        AddConfigMapRef(
            config_map_ref.Find("name"), [&] { return item_path() + "/valueFrom/configMapKeyRef/name"; },
            *config_map_reader);
      }
    }
    if (name.empty() || (!value && !from)) return;
    // Built in place (reserved above), as {name, value, path, Surface::kEnv, source}.
    ConfigEntry& entry = out.emplace_back();
    entry.key = name;
    if (value) {
      entry.value = value.string();
      entry.path = LazyPointer(shared_path, i, "/value");
      entry.source = ValueSource::kLiteral;
    } else {
      entry.path = LazyPointer(shared_path, i, "/valueFrom");
      entry.source = source;
    }
    entry.surface = Surface::kEnv;
  });
}

// A string map (SparkApplication envVars, sparkConf, hadoopConf) -> entries.
void AddStringMap(JsonRef map, const std::string& map_path, Surface surface, std::vector<ConfigEntry>& out,
                  std::vector<Malformation>& malformed) {
  map.ForEachMember([&](std::string_view key, JsonRef value) {
    if (!value.is_string()) {
      Record(PointerChild(map_path, key), Shape::kString, value, malformed);
      return;
    }
    out.push_back({key, value.string(), PointerChild(map_path, key), surface, ValueSource::kLiteral});
  });
}

// The strings of a list of strings (command, args, arguments) at `list_path` -> a command line.
// Argument paths are list_path/i, spelled out only when a finding names them.
void AddArguments(JsonRef list, std::string list_path, CommandLine& line, std::vector<Malformation>& malformed) {
  const size_t size = list.size();
  if (size == 0) return;
  const auto shared_path = std::make_shared<const std::string>(std::move(list_path));
  line.argv.reserve(line.argv.size() + size);
  line.paths.reserve(line.paths.size() + size);
  list.ForEachElement([&](size_t i, JsonRef item) {
    const JsonRef arg = Element(item, *shared_path, i, Shape::kString, malformed);
    if (!arg) return;
    line.argv.push_back(arg.string());
    line.paths.emplace_back(shared_path, i);
  });
}

// The command line of the container at `container_path`, whose members `command` and `args` are given.
void AddCommandLine(JsonRef command, JsonRef args, const std::string& container_path, ScanInput& scan,
                    std::vector<Malformation>& malformed) {
  CommandLine line;
  const size_t size = command.size() + args.size();  // 0 for values that are not lists
  line.argv.reserve(size);
  line.paths.reserve(size);
  for (const auto& [member, field] : {std::pair{command, "command"}, std::pair{args, "args"}}) {
    const JsonRef list = Checked(member, container_path, field, Shape::kList, malformed);
    if (list) AddArguments(list, container_path + "/" + field, line, malformed);
  }
  if (!line.argv.empty()) scan.command_lines.push_back(std::move(line));
}

// The ConfigMaps of envFrom[].configMapRef, the member `envFrom` of the container (or Spark role) at `path`.
// Malformed fields are left to the API server (envFrom is not otherwise read).
void AddEnvFromConfigMapRefs(JsonRef env_from, const std::string& path, PodUnit& unit) {
  env_from.ForEachElement([&](size_t i, JsonRef item) {
    if (const JsonRef ref = item.Find("configMapRef")) {
      AddConfigMapRef(
          ref.Find("name"), [&] { return path + "/envFrom/" + std::to_string(i) + "/configMapRef/name"; }, unit);
    }
  });
}

// The ConfigMaps a Spark role reads through envFrom[].configMapRef and env[].valueFrom.configMapKeyRef. Malformed
// fields are recorded by AddEnvList (env) or left to the API server (envFrom is not otherwise read). A container's
// are read with its env (AddContainer).
void AddContainerConfigMapRefs(JsonRef c, const std::string& path, PodUnit& unit) {
  const auto [env_from, env] = c.Members<2>({"envFrom", "env"});
  AddEnvFromConfigMapRefs(env_from, path, unit);
  env.ForEachElement([&](size_t i, JsonRef item) {
    const JsonRef from = item.Find("valueFrom");
    if (const JsonRef ref = from.Find("configMapKeyRef")) {
      AddConfigMapRef(
          ref.Find("name"), [&] { return path + "/env/" + std::to_string(i) + "/valueFrom/configMapKeyRef/name"; },
          unit);
    }
  });
}

// The ConfigMaps a pod spec (at `spec_path`) mounts: volumes[].configMap and volumes[].projected.sources[].configMap
// (`volumes` is the spec's member).
void AddVolumeConfigMapRefs(JsonRef volumes, const std::string& spec_path, PodUnit& unit) {
  volumes.ForEachElement([&](size_t i, JsonRef volume) {
    if (!volume.is_object()) return;
    // The volume's pointer, spelled out only for a ConfigMap it adds (every pod has volumes that name none).
    const auto volume_path = [&] { return spec_path + "/volumes/" + std::to_string(i); };
    const auto [cm, projected] = volume.Members<2>({"configMap", "projected"});
    if (cm)
      AddConfigMapRef(
          cm.Find("name"), [&] { return volume_path() + "/configMap/name"; }, unit);
    projected.Find("sources").ForEachElement([&](size_t j, JsonRef source) {
      if (const JsonRef source_cm = source.Find("configMap")) {
        AddConfigMapRef(
            source_cm.Find("name"),
            [&] { return volume_path() + "/projected/sources/" + std::to_string(j) + "/configMap/name"; }, unit);
      }
    });
  });
}

// One container (or Spark init container / sidecar) at `path`: the ConfigMaps it reads (envFrom first, then env,
// in order), its image, env and command line. One pass over the container's members.
void AddContainer(JsonRef c, const std::string& path, PodUnit& unit) {
  const auto [env_from, env_member, image_member, command, args] =
      c.Members<5>({"envFrom", "env", "image", "command", "args"});
  AddEnvFromConfigMapRefs(env_from, path, unit);
  if (const JsonRef image = Checked(image_member, path, "image", Shape::kString, unit.malformed)) {
    unit.images.push_back({std::string(image.string()), path + "/image"});
  }
  if (const JsonRef env = Checked(env_member, path, "env", Shape::kList, unit.malformed)) {
    AddEnvList(env, path + "/env", unit.scan.entries, unit.malformed, &unit);
  }
  AddCommandLine(command, args, path, unit.scan, unit.malformed);
}

// A list of containers, `list_member` of the value at `parent_path`, named `list_name`.
void AddContainerList(JsonRef list_member, const std::string& parent_path, const char* list_name, PodUnit& unit) {
  const JsonRef list = Checked(list_member, parent_path, list_name, Shape::kList, unit.malformed);
  if (!list) return;
  const std::string list_path = parent_path + "/" + list_name;
  list.ForEachElement([&](size_t i, JsonRef item) {
    if (const JsonRef c = Element(item, list_path, i, Shape::kObject, unit.malformed)) {
      AddContainer(c, PointerChild(list_path, i), unit);
    }
  });
}

// The unit of the pod spec at `parent_path`/spec, whose pod metadata is `metadata` (may be null) at
// `metadata_path`. nullopt when there is no spec. Malformed labels go to `unreadable`; everything else the unit
// reads to the unit's own list.
std::optional<PodUnit> PodSpecUnit(JsonRef metadata, const std::string& metadata_path, JsonRef parent,
                                   const std::string& parent_path, std::vector<Malformation>& unreadable) {
  PodUnit unit;
  const std::string spec_path = parent_path + "/spec";
  const JsonRef spec_value = parent.Find("spec");
  if (!spec_value || spec_value.is_null()) return std::nullopt;
  const JsonRef pod_spec = Checked(spec_value, parent_path, "spec", Shape::kObject, unit.malformed);
  unit.readable = static_cast<bool>(pod_spec);
  unit.metadata_path = metadata_path;
  unit.kind = UnitKind::kPodSpec;
  unit.base_path = spec_path;
  unit.labels = CheckedLabels(metadata, metadata_path, unreadable);
  unit.annotations = CheckedAnnotations(metadata, metadata_path, unit.malformed);
  unit.service_account_path = spec_path + "/serviceAccountName";
  unit.automount_path = spec_path + "/automountServiceAccountToken";
  auto role = unit.labels.find("spark-role");
  unit.scan.spark_executor = role != unit.labels.end() && role->second == "executor";
  if (!pod_spec) return unit;
  // One pass over the spec's members.
  const auto [sa_member, legacy_member, automount_member, volumes, init_containers, containers, ephemeral_containers] =
      pod_spec.Members<7>({"serviceAccountName", "serviceAccount", "automountServiceAccountToken", "volumes",
                           "initContainers", "containers", "ephemeralContainers"});
  const JsonRef sa = Checked(sa_member, spec_path, "serviceAccountName", Shape::kString, unit.malformed);
  const JsonRef legacy = Checked(legacy_member, spec_path, "serviceAccount", Shape::kString, unit.malformed);
  if (sa) {
    unit.service_account = std::string(sa.string());
  } else if (legacy) {
    unit.service_account = std::string(legacy.string());
    unit.service_account_path = spec_path + "/serviceAccount";
  }
  if (const JsonRef am =
          Checked(automount_member, spec_path, "automountServiceAccountToken", Shape::kBoolean, unit.malformed)) {
    unit.automount_token = am.boolean();
  }
  AddVolumeConfigMapRefs(volumes, spec_path, unit);
  AddContainerList(init_containers, spec_path, "initContainers", unit);
  AddContainerList(containers, spec_path, "containers", unit);
  AddContainerList(ephemeral_containers, spec_path, "ephemeralContainers", unit);
  return unit;
}

// The path to the pod template of each workload kind.
std::optional<std::vector<std::string_view>> TemplatePath(std::string_view kind) {
  if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" || kind == "ReplicaSet" || kind == "Job" ||
      kind == "ReplicationController") {
    return std::vector<std::string_view>{"spec", "template"};
  }
  if (kind == "CronJob") return std::vector<std::string_view>{"spec", "jobTemplate", "spec", "template"};
  return std::nullopt;
}

// The ConfigMaps one Spark role reads (spark-on-k8s-operator v1beta2): configMaps[].name (mounted at their path),
// envFrom[].configMapRef and env[].valueFrom.configMapKeyRef.
void AddSparkRoleConfigMapRefs(JsonRef role_spec, const std::string& role_path, PodUnit& unit) {
  role_spec.Find("configMaps").ForEachElement([&](size_t i, JsonRef map) {
    AddConfigMapRef(
        map.Find("name"), [&] { return role_path + "/configMaps/" + std::to_string(i) + "/name"; }, unit);
  });
  AddContainerConfigMapRefs(role_spec, role_path, unit);
}

// The ConfigMaps the whole application reads, judged once with the driver (like sparkConf): spec.sparkConfigMap
// (SPARK_CONF_DIR), spec.hadoopConfigMap (HADOOP_CONF_DIR) and spec.volumes[] (configMap and projected sources).
void AddSparkApplicationConfigMapRefs(JsonRef spec, PodUnit& driver) {
  AddConfigMapRef(
      spec.Find("sparkConfigMap"), [] { return std::string("/spec/sparkConfigMap"); }, driver);
  AddConfigMapRef(
      spec.Find("hadoopConfigMap"), [] { return std::string("/spec/hadoopConfigMap"); }, driver);
  AddVolumeConfigMapRefs(spec.Find("volumes"), "/spec", driver);
}

void AddSparkApplicationUnits(JsonRef object, const Labels& app_labels, Workload& w) {
  const JsonRef spec_value = object.Find("spec");
  if (!spec_value || spec_value.is_null()) return;
  static const json kEmpty = json::object();
  std::vector<Malformation> app_malformed;  // application-wide fields: reported with the driver
  const JsonRef spec_object = Field(object, "", "spec", Shape::kObject, app_malformed);
  const bool spec_readable = static_cast<bool>(spec_object);
  const JsonRef spec = spec_readable ? spec_object : JsonRef(kEmpty);
  const JsonRef app_image = Field(spec, "/spec", "image", Shape::kString, app_malformed);

  for (const char* role : {"driver", "executor"}) {
    PodUnit unit;
    unit.kind = UnitKind::kSparkRole;
    unit.base_path = std::string("/spec/") + role;
    unit.labels = app_labels;
    const bool is_driver = std::string_view(role) == "driver";
    if (is_driver) unit.malformed = std::move(app_malformed);
    const size_t malformed_before = unit.malformed.size();
    const JsonRef role_spec = Field(spec, "/spec", role, Shape::kObject, unit.malformed);
    unit.readable = spec_readable && unit.malformed.size() == malformed_before;  // the role is absent or an object
    const JsonRef r = role_spec ? role_spec : JsonRef(kEmpty);
    if (const JsonRef labels = Field(r, unit.base_path, "labels", Shape::kObject, unit.malformed)) {
      CheckStringValues(labels, unit.base_path + "/labels", unit.malformed);
      for (auto& [k, v] : LabelsOf(labels)) unit.labels[k] = v;
    }
    unit.labels["spark-role"] = role;
    unit.scan.spark_executor = !is_driver;
    unit.service_account =
        std::string(Field(r, unit.base_path, "serviceAccount", Shape::kString, unit.malformed).string());
    unit.service_account_path = unit.base_path + "/serviceAccount";
    unit.automount_path = unit.base_path + "/automountServiceAccountToken";  // not settable: stays unset

    if (const JsonRef image = Field(r, unit.base_path, "image", Shape::kString, unit.malformed)) {
      unit.images.push_back({std::string(image.string()), unit.base_path + "/image"});
    } else if (app_image) {
      unit.images.push_back({std::string(app_image.string()), "/spec/image"});
    }
    if (const JsonRef env = Field(r, unit.base_path, "env", Shape::kList, unit.malformed)) {
      // The role's own ConfigMaps are recorded after its containers' (AddSparkRoleConfigMapRefs).
      AddEnvList(env, unit.base_path + "/env", unit.scan.entries, unit.malformed, nullptr);
    }
    if (const JsonRef env_vars = Field(r, unit.base_path, "envVars", Shape::kObject, unit.malformed)) {
      AddStringMap(env_vars, unit.base_path + "/envVars", Surface::kEnv, unit.scan.entries, unit.malformed);
    }
    for (const char* list_name : {"initContainers", "sidecars"}) {
      AddContainerList(r.Find(list_name), unit.base_path, list_name, unit);
    }
    AddSparkRoleConfigMapRefs(r, unit.base_path, unit);
    // Application-wide configuration is scanned once, with the driver, which receives all of it.
    if (is_driver) {
      AddSparkApplicationConfigMapRefs(spec, unit);
      if (const JsonRef conf = Field(spec, "/spec", "sparkConf", Shape::kObject, unit.malformed)) {
        AddStringMap(conf, "/spec/sparkConf", Surface::kSparkConf, unit.scan.entries, unit.malformed);
      }
      if (const JsonRef conf = Field(spec, "/spec", "hadoopConf", Shape::kObject, unit.malformed)) {
        AddStringMap(conf, "/spec/hadoopConf", Surface::kHadoopConf, unit.scan.entries, unit.malformed);
      }
      if (const JsonRef args = Field(spec, "/spec", "arguments", Shape::kList, unit.malformed)) {
        CommandLine line;
        AddArguments(args, "/spec/arguments", line, unit.malformed);
        if (!line.argv.empty()) unit.scan.command_lines.push_back(std::move(line));
      }
    }
    w.units.push_back(std::move(unit));
  }
}

// The ConfigMap key under which spark-submit stores the executor pod template (spark.kubernetes.executor.
// podTemplateFile), verbatim, in <app>-driver-podspec-conf-map.
constexpr std::string_view kSparkPodTemplateKey = "podspec-configmap-key";

std::shared_ptr<const json> ParsePodTemplate(std::string_view text) {
  std::optional<json> out = ParseBoundedYaml(text);
  if (!out || !out->is_object()) return nullptr;
  return std::make_shared<const json>(std::move(*out));
}

// Adds the env and command-line entries of the pod template in `text` to `unit` (all at `path`, the ConfigMap key:
// a JSON pointer cannot go inside the YAML text). Returns false if `text` is not a pod template.
bool AddPodTemplateEntries(std::string_view text, const LazyPointer& path, PodUnit& unit) {
  auto pod = ParsePodTemplate(text);
  if (pod == nullptr) return false;
  const JsonRef spec = JsonRef(*pod).Find("spec");
  if (!spec.is_object()) return false;
  // Malformed fields inside the template are not reported here: the executor pods made from it are reviewed as
  // Pods when they are created.
  std::vector<Malformation> ignored;
  const JsonRef meta = JsonRef(*pod).Find("metadata");
  std::optional<PodUnit> unit_from = PodSpecUnit(meta.is_object() ? meta : JsonRef(), "/metadata", *pod, "", ignored);
  if (!unit_from || !unit_from->readable) return false;
  PodUnit& from = *unit_from;
  for (auto& entry : from.scan.entries) {
    entry.path = path;
    unit.scan.entries.push_back(std::move(entry));
  }
  for (auto& line : from.scan.command_lines) {
    for (auto& p : line.paths) p = path;
    unit.scan.command_lines.push_back(std::move(line));
  }
  unit.owned_object = std::move(pod);  // the entries view into it; a shared_ptr keeps its address
  return true;
}

// Spark's own ConfigMaps, recognised by what spark-submit writes: the driver's conf map (spark.properties, with the
// submitting machine's SPARK_CONF_DIR files), the executor pod template map, and the spark-app-selector /
// spark-role labels it sets; spark-defaults.conf is how users mount Spark configuration themselves. A file name
// alone (`app.properties`) says nothing: an unrelated application's ConfigMap is not Spark's.
bool IsSparkOwnConfigMap(JsonRef data, const Labels& labels) {
  if (labels.count("spark-app-selector") != 0 || labels.count("spark-role") != 0) return true;
  if (!data) return false;
  const auto [properties, defaults, tmpl] =
      data.Members<3>({"spark.properties", "spark-defaults.conf", kSparkPodTemplateKey});
  if (properties || defaults) return true;
  // The executor pod template map carries no label: its key counts when it holds a pod template (or is malformed).
  if (!tmpl || tmpl.is_null()) return false;
  PodUnit scratch;
  return !tmpl.is_string() ||
         AddPodTemplateEntries(tmpl.string(), PointerChild("/data", kSparkPodTemplateKey), scratch);
}

// A ConfigMap's unit. Its files are read now when it is pipeline configuration by itself (`pipeline`, Spark's own,
// or labelled pipeguard.io/pipeline); otherwise later, if the governance selects it (PrepareReview). A ConfigMap
// without data has nothing to judge; one whose data is unreadable is reported only when it is pipeline
// configuration.
void AddConfigMapUnit(JsonRef object, const Labels& labels, Workload& w, bool pipeline) {
  PodUnit unit;
  unit.kind = UnitKind::kSparkConfigMap;
  unit.owned_text = std::make_shared<std::deque<std::string>>();
  unit.base_path = "/data";
  unit.labels = labels;
  const JsonRef data = Field(object, "", "data", Shape::kObject, unit.malformed);
  unit.pipeline_config =
      pipeline || labels.count(std::string(kPipelineLabel)) != 0 || IsSparkOwnConfigMap(data, labels);
  if (!data) {
    if (unit.pipeline_config && !unit.malformed.empty()) {
      unit.readable = false;
      w.units.push_back(std::move(unit));
    }
    return;
  }
  if (data.empty()) return;
  if (unit.pipeline_config) ReadConfigMapFiles(object, unit);
  w.units.push_back(std::move(unit));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\f')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\f')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

namespace {

std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\f')) s.remove_prefix(1);
  return s;
}

bool EndsWithOddBackslashes(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && s[s.size() - 1 - n] == '\\') ++n;
  return n % 2 == 1;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// java.util.Properties escapes: \t \n \r \f, \uXXXX, and \c for any other c is c.
std::string UnescapeProperty(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out.push_back(s[i]);
      continue;
    }
    const char e = s[++i];
    switch (e) {
      case 't':
        out.push_back('\t');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'u': {
        unsigned cp = 0;
        bool ok = i + 4 < s.size();
        for (size_t j = 1; ok && j <= 4; ++j) {
          const int d = HexDigit(s[i + j]);
          ok = d >= 0;
          if (ok) cp = cp * 16 + static_cast<unsigned>(d);
        }
        if (ok) {
          AppendUtf8(out, cp);
          i += 4;
        } else {
          out.push_back('u');
        }
        break;
      }
      default:
        out.push_back(e);
    }
  }
  return out;
}

std::string_view Unescaped(std::string_view s, std::deque<std::string>& storage) {
  if (s.find('\\') == std::string_view::npos) return s;
  storage.push_back(UnescapeProperty(s));
  return storage.back();
}

}  // namespace

void ParseProperties(std::string_view text, const LazyPointer& path, Surface surface, std::vector<ConfigEntry>& out,
                     std::deque<std::string>& storage) {
  size_t pos = 0;
  auto next_line = [&]() {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  };
  while (pos < text.size()) {
    std::string_view line = TrimLeft(next_line());
    if (line.empty() || line.front() == '#' || line.front() == '!') continue;
    if (EndsWithOddBackslashes(line)) {
      // A logical line continues on the next physical line, whose leading whitespace is dropped.
      std::string joined(line.substr(0, line.size() - 1));
      while (pos < text.size()) {
        std::string_view more = TrimLeft(next_line());
        const bool again = EndsWithOddBackslashes(more);
        joined.append(again ? more.substr(0, more.size() - 1) : more);
        if (!again) break;
      }
      storage.push_back(std::move(joined));
      line = storage.back();
    }
    line = Trim(line);
    // The key ends at the first unescaped '=', ':' or whitespace (java.util.Properties).
    size_t k = 0;
    while (k < line.size() && line[k] != '=' && line[k] != ':' && line[k] != ' ' && line[k] != '\t') {
      if (line[k] == '\\') ++k;
      ++k;
    }
    std::string_view key = line.substr(0, std::min(k, line.size()));
    std::string_view rest = k < line.size() ? line.substr(k) : std::string_view();
    rest = Trim(rest);
    if (!rest.empty() && (rest.front() == '=' || rest.front() == ':')) rest = Trim(rest.substr(1));
    if (!key.empty())
      out.push_back({Unescaped(key, storage), Unescaped(rest, storage), path, surface, ValueSource::kLiteral});
  }
}

namespace {

std::string_view TrimSpace(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// The text of <tag>...</tag> inside `element` (CDATA unwrapped, entities decoded), or nullopt.
std::optional<std::string_view> XmlElementText(std::string_view element, std::string_view tag,
                                               std::deque<std::string>& storage) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  size_t begin = element.find(open);
  if (begin == std::string_view::npos) return std::nullopt;
  begin += open.size();
  const size_t end = element.find(close, begin);
  if (end == std::string_view::npos) return std::nullopt;
  std::string_view text = TrimSpace(element.substr(begin, end - begin));
  constexpr std::string_view kCdataOpen = "<![CDATA[", kCdataClose = "]]>";
  if (text.size() >= kCdataOpen.size() + kCdataClose.size() && text.substr(0, kCdataOpen.size()) == kCdataOpen &&
      text.substr(text.size() - kCdataClose.size()) == kCdataClose) {
    return text.substr(kCdataOpen.size(), text.size() - kCdataOpen.size() - kCdataClose.size());
  }
  if (text.find('&') == std::string_view::npos) return text;
  static constexpr std::pair<std::string_view, char> kEntities[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
  std::string decoded;
  decoded.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    bool replaced = false;
    if (text[i] == '&') {
      for (const auto& [entity, c] : kEntities) {
        if (text.substr(i, entity.size()) == entity) {
          decoded.push_back(c);
          i += entity.size() - 1;
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) decoded.push_back(text[i]);
  }
  storage.push_back(std::move(decoded));
  return std::string_view(storage.back());
}

}  // namespace

void ParseHadoopXml(std::string_view text, const LazyPointer& path, std::vector<ConfigEntry>& out,
                    std::deque<std::string>& storage) {
  size_t pos = 0;
  while ((pos = text.find("<property", pos)) != std::string_view::npos) {
    const size_t end = text.find("</property>", pos);
    if (end == std::string_view::npos) break;
    const std::string_view property = text.substr(pos, end - pos);
    pos = end + 11;
    auto name = XmlElementText(property, "name", storage);
    auto value = XmlElementText(property, "value", storage);
    if (name && value && !name->empty()) {
      out.push_back({*name, *value, path, Surface::kHadoopConf, ValueSource::kLiteral});
    }
  }
}

void ParseShellAssignments(std::string_view text, const LazyPointer& path, std::vector<ConfigEntry>& out,
                           std::deque<std::string>& storage) {
  (void)storage;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = TrimSpace(text.substr(pos, end - pos));
    pos = end + 1;
    if (line.empty() || line.front() == '#') continue;
    if (line.substr(0, 7) == "export ") line = TrimSpace(line.substr(7));
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    const std::string_view name = line.substr(0, eq);
    const bool identifier =
        std::all_of(name.begin(), name.end(),
                    [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }) &&
        !std::isdigit(static_cast<unsigned char>(name.front()));
    if (!identifier) continue;
    std::string_view value = line.substr(eq + 1);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    out.push_back({name, value, path, Surface::kEnv, ValueSource::kLiteral});
  }
}

void ReadConfigMapFiles(JsonRef object, PodUnit& unit) {
  const JsonRef data = object.Find("data");
  if (!data.is_object()) return;
  if (unit.owned_text == nullptr) unit.owned_text = std::make_shared<std::deque<std::string>>();
  data.ForEachMember([&](std::string_view key, JsonRef value) {
    if (!value.is_string()) return;  // recorded below
    const std::string_view text = value.string();
    const LazyPointer path(PointerChild("/data", key));  // shared by the file's entries
    if (key == kSparkPodTemplateKey && AddPodTemplateEntries(text, path, unit)) return;
    if (ParseConfigFile(ConfigFileTypeOf(key), key, text, path, unit.scan.entries, *unit.owned_text)) return;
    // A setting of its own (env-style `KEY: value` read with envFrom), or a file of no type pipeguard reads.
    unit.scan.entries.push_back({key, text, path, Surface::kProperties, ValueSource::kLiteral});
  });
  CheckStringValues(data, "/data", unit.malformed);  // ConfigMap data holds strings only
}

std::optional<PodUnit> MountedConfigMapUnit(JsonRef object) {
  Workload w;
  const JsonRef meta = object.Find("metadata");
  std::vector<Malformation> ignored;
  AddConfigMapUnit(object, CheckedLabels(meta.is_object() ? meta : JsonRef(), "/metadata", ignored), w,
                   /*pipeline=*/true);
  if (w.units.empty() || !w.units.front().readable) return std::nullopt;
  return std::move(w.units.front());
}

namespace {

bool IsEvaluatedKind(std::string_view kind) {
  return kind == "Pod" || TemplatePath(kind).has_value() || kind == "SparkApplication" || kind == "ConfigMap" ||
         kind == kProfileKind;
}

}  // namespace

std::optional<Workload> ExtractWorkload(JsonRef object, const std::string& request_namespace,
                                        std::string_view request_kind) {
  if (!object.is_object()) return std::nullopt;
  Workload w;
  const auto [kind, api_version, metadata] = object.Members<3>({"kind", "apiVersion", "metadata"});
  w.kind = std::string(kind.string());
  if (!request_kind.empty() && w.kind != request_kind) {
    // The API server stores the object as the kind it was sent as; evaluate it as that, and deny it.
    if (!IsEvaluatedKind(request_kind)) return std::nullopt;
    w.unreadable.push_back({"/kind", "\"" + std::string(request_kind) + "\" (the kind of the admission request)",
                            !kind || kind.is_null() ? std::string("missing")
                            : kind.is_string()      ? std::string("another kind")
                                                    : std::string(Found(kind))});
    w.kind = std::string(request_kind);
  }
  if (!IsEvaluatedKind(w.kind)) return std::nullopt;
  w.api_version = std::string(api_version.string());
  if (w.kind == kProfileKind) {
    // api::ReadProfile reads and checks the whole profile (Engine::Evaluate).
    w.is_profile = true;
    return w;
  }
  const JsonRef meta = Checked(
      metadata, [] { return std::string(); }, "metadata", Shape::kObject, w.unreadable);
  if (meta) {
    const auto [name, generate_name, namespace_] = meta.Members<3>({"name", "generateName", "namespace"});
    w.name = std::string(name.string());
    if (w.name.empty()) w.name = std::string(generate_name.string());
    w.namespace_ =
        std::string(Checked(
                        namespace_, [] { return std::string("/metadata"); }, "namespace", Shape::kString, w.unreadable)
                        .string());
  }
  if (w.namespace_.empty()) w.namespace_ = request_namespace.empty() ? "default" : request_namespace;

  if (w.kind == "Pod") {
    // The pod's metadata is its template's: labels and annotations are read with the unit.
    if (auto unit = PodSpecUnit(meta, "/metadata", object, "", w.unreadable)) {
      w.annotations = unit->annotations;
      w.units.push_back(std::move(*unit));
    } else {
      w.annotations = CheckedAnnotations(meta, "/metadata", w.malformed);
    }
    return w;
  }
  w.annotations = CheckedAnnotations(meta, "/metadata", w.malformed);
  if (auto template_path = TemplatePath(w.kind)) {
    JsonRef tmpl = object;
    std::string path;
    for (auto key : *template_path) {
      tmpl = Field(tmpl, path, key, Shape::kObject, w.unreadable);
      if (!tmpl) return w;
      AppendPointerToken(path, key);
    }
    const JsonRef tmeta = Field(tmpl, path, "metadata", Shape::kObject, w.unreadable);
    if (auto unit = PodSpecUnit(tmeta, path + "/metadata", tmpl, path, w.unreadable)) {
      w.units.push_back(std::move(*unit));
    }
    return w;
  }
  const Labels labels = CheckedLabels(meta, "/metadata", w.unreadable);
  if (w.kind == "SparkApplication") {
    w.is_spark_application = true;
    AddSparkApplicationUnits(object, labels, w);
    return w;
  }
  w.is_config_map = true;
  AddConfigMapUnit(object, labels, w, /*pipeline=*/false);
  return w;
}

}  // namespace pipeguard::policy
