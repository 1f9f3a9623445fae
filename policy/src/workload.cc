#include "workload.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>

#include "pipeguard/policy/json_pointer.h"

namespace pipeguard::policy {

using nlohmann::json;

namespace {

const json* Child(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string_view StringView(const json* value) {
  return value != nullptr && value->is_string() ? std::string_view(value->get_ref<const std::string&>())
                                                : std::string_view();
}

const json* Walk(const json& object, std::initializer_list<std::string_view> keys) {
  const json* at = &object;
  for (auto key : keys) {
    at = Child(*at, key);
    if (at == nullptr) return nullptr;
  }
  return at;
}

ValueSource SourceOf(const json& value_from) {
  if (Child(value_from, "secretKeyRef")) return ValueSource::kSecretRef;
  if (Child(value_from, "configMapKeyRef")) return ValueSource::kConfigMapRef;
  return ValueSource::kOtherRef;
}

// env: [{name, value | valueFrom}] -> entries.
void AddEnvList(const json& env, const std::string& env_path, std::vector<ConfigEntry>& out) {
  if (!env.is_array()) return;
  for (size_t i = 0; i < env.size(); ++i) {
    const json& var = env[i];
    const std::string_view name = StringView(Child(var, "name"));
    if (name.empty()) continue;
    const std::string item_path = PointerChild(env_path, i);
    if (const json* value = Child(var, "value"); value != nullptr && value->is_string()) {
      out.push_back(
          {name, value->get_ref<const std::string&>(), item_path + "/value", Surface::kEnv, ValueSource::kLiteral});
    } else if (const json* from = Child(var, "valueFrom"); from != nullptr && from->is_object()) {
      out.push_back({name, std::string_view(), item_path + "/valueFrom", Surface::kEnv, SourceOf(*from)});
    }
  }
}

// A string map (SparkApplication envVars, sparkConf, hadoopConf) -> entries.
void AddStringMap(const json& map, const std::string& map_path, Surface surface, std::vector<ConfigEntry>& out) {
  if (!map.is_object()) return;
  for (const auto& item : map.items()) {
    if (!item.value().is_string()) continue;
    out.push_back({item.key(), item.value().get_ref<const std::string&>(), PointerChild(map_path, item.key()), surface,
                   ValueSource::kLiteral});
  }
}

void AddCommandLine(const json& container, const std::string& container_path, ScanInput& scan) {
  CommandLine line;
  for (const char* field : {"command", "args"}) {
    const json* list = Child(container, field);
    if (list == nullptr || !list->is_array()) continue;
    const std::string list_path = container_path + "/" + field;
    for (size_t i = 0; i < list->size(); ++i) {
      if (!(*list)[i].is_string()) continue;
      line.argv.push_back((*list)[i].get_ref<const std::string&>());
      line.paths.push_back(PointerChild(list_path, i));
    }
  }
  if (!line.argv.empty()) scan.command_lines.push_back(std::move(line));
}

void AddContainers(const json& pod_spec, const std::string& spec_path, PodUnit& unit) {
  for (const char* list_name : {"initContainers", "containers", "ephemeralContainers"}) {
    const json* list = Child(pod_spec, list_name);
    if (list == nullptr || !list->is_array()) continue;
    for (size_t i = 0; i < list->size(); ++i) {
      const json& c = (*list)[i];
      if (!c.is_object()) continue;
      const std::string path = spec_path + "/" + list_name + "/" + std::to_string(i);
      if (const json* image = Child(c, "image"); image != nullptr && image->is_string()) {
        unit.images.push_back({image->get<std::string>(), path + "/image"});
      }
      if (const json* env = Child(c, "env")) AddEnvList(*env, path + "/env", unit.scan.entries);
      AddCommandLine(c, path, unit.scan);
    }
  }
}

PodUnit PodSpecUnit(const json& template_metadata, const std::string& metadata_path, const json& pod_spec,
                    const std::string& spec_path) {
  PodUnit unit;
  unit.metadata_path = metadata_path;
  unit.kind = UnitKind::kPodSpec;
  unit.base_path = spec_path;
  if (const json* labels = Child(template_metadata, "labels")) unit.labels = LabelsFromJson(*labels);
  unit.annotations = Child(template_metadata, "annotations");
  if (const json* sa = Child(pod_spec, "serviceAccountName"); sa != nullptr && sa->is_string()) {
    unit.service_account = sa->get<std::string>();
    unit.service_account_path = spec_path + "/serviceAccountName";
  } else if (const json* legacy = Child(pod_spec, "serviceAccount"); legacy != nullptr && legacy->is_string()) {
    unit.service_account = legacy->get<std::string>();
    unit.service_account_path = spec_path + "/serviceAccount";
  } else {
    unit.service_account_path = spec_path + "/serviceAccountName";
  }
  unit.automount_path = spec_path + "/automountServiceAccountToken";
  if (const json* am = Child(pod_spec, "automountServiceAccountToken"); am != nullptr && am->is_boolean()) {
    unit.automount_token = am->get<bool>();
  }
  auto role = unit.labels.find("spark-role");
  unit.scan.spark_executor = role != unit.labels.end() && role->second == "executor";
  AddContainers(pod_spec, spec_path, unit);
  return unit;
}

// The pod template path of each workload kind.
std::optional<std::vector<std::string_view>> TemplatePath(std::string_view kind) {
  if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" || kind == "ReplicaSet" || kind == "Job" ||
      kind == "ReplicationController") {
    return std::vector<std::string_view>{"spec", "template"};
  }
  if (kind == "CronJob") return std::vector<std::string_view>{"spec", "jobTemplate", "spec", "template"};
  return std::nullopt;
}

void AddSparkApplicationUnits(const json& object, Workload& w) {
  const json* spec = Child(object, "spec");
  if (spec == nullptr || !spec->is_object()) return;
  Labels app_labels;
  if (const json* labels = Walk(object, {"metadata", "labels"})) app_labels = LabelsFromJson(*labels);
  const json* app_image = Child(*spec, "image");

  for (const char* role : {"driver", "executor"}) {
    PodUnit unit;
    unit.kind = UnitKind::kSparkRole;
    unit.base_path = std::string("/spec/") + role;
    unit.labels = app_labels;
    const json* role_spec = Child(*spec, role);
    const json empty = json::object();
    const json& r = role_spec != nullptr && role_spec->is_object() ? *role_spec : empty;
    if (const json* labels = Child(r, "labels")) {
      for (auto& [k, v] : LabelsFromJson(*labels)) unit.labels[k] = v;
    }
    unit.labels["spark-role"] = role;
    unit.scan.spark_executor = std::string_view(role) == "executor";
    unit.service_account = std::string(StringView(Child(r, "serviceAccount")));
    unit.service_account_path = unit.base_path + "/serviceAccount";
    unit.automount_path = unit.base_path + "/automountServiceAccountToken";  // not settable: stays unset

    if (const json* image = Child(r, "image"); image != nullptr && image->is_string()) {
      unit.images.push_back({image->get<std::string>(), unit.base_path + "/image"});
    } else if (app_image != nullptr && app_image->is_string()) {
      unit.images.push_back({app_image->get<std::string>(), "/spec/image"});
    }
    if (const json* env = Child(r, "env")) AddEnvList(*env, unit.base_path + "/env", unit.scan.entries);
    if (const json* env_vars = Child(r, "envVars")) {
      AddStringMap(*env_vars, unit.base_path + "/envVars", Surface::kEnv, unit.scan.entries);
    }
    for (const char* list_name : {"initContainers", "sidecars"}) {
      const json* list = Child(r, list_name);
      if (list == nullptr || !list->is_array()) continue;
      for (size_t i = 0; i < list->size(); ++i) {
        const json& c = (*list)[i];
        const std::string path = unit.base_path + "/" + list_name + "/" + std::to_string(i);
        if (const json* image = Child(c, "image"); image != nullptr && image->is_string()) {
          unit.images.push_back({image->get<std::string>(), path + "/image"});
        }
        if (const json* env = Child(c, "env")) AddEnvList(*env, path + "/env", unit.scan.entries);
        AddCommandLine(c, path, unit.scan);
      }
    }
    // Application-wide configuration is scanned once, with the driver, which receives all of it.
    if (std::string_view(role) == "driver") {
      if (const json* conf = Child(*spec, "sparkConf")) {
        AddStringMap(*conf, "/spec/sparkConf", Surface::kSparkConf, unit.scan.entries);
      }
      if (const json* conf = Child(*spec, "hadoopConf")) {
        AddStringMap(*conf, "/spec/hadoopConf", Surface::kHadoopConf, unit.scan.entries);
      }
      if (const json* args = Child(*spec, "arguments"); args != nullptr && args->is_array()) {
        CommandLine line;
        for (size_t i = 0; i < args->size(); ++i) {
          if (!(*args)[i].is_string()) continue;
          line.argv.push_back((*args)[i].get_ref<const std::string&>());
          line.paths.push_back(PointerChild("/spec/arguments", i));
        }
        if (!line.argv.empty()) unit.scan.command_lines.push_back(std::move(line));
      }
    }
    w.units.push_back(std::move(unit));
  }
}

bool IsSparkConfFile(std::string_view key) {
  return key == "spark.properties" || key == "spark-defaults.conf" ||
         (key.size() > 11 && key.substr(key.size() - 11) == ".properties");
}

// The ConfigMap key under which spark-submit stores the executor pod template (spark.kubernetes.executor.
// podTemplateFile), verbatim, in <app>-driver-podspec-conf-map.
constexpr std::string_view kSparkPodTemplateKey = "podspec-configmap-key";

// YAML to JSON with a budget of nodes and depth: aliases could otherwise make a small document expand without limit.
bool BoundedYamlToJson(const YAML::Node& node, int depth, size_t& budget, json& out) {
  if (depth > 64 || budget == 0) return false;
  --budget;
  switch (node.Type()) {
    case YAML::NodeType::Map:
      out = json::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) return false;
        json child;
        if (!BoundedYamlToJson(kv.second, depth + 1, budget, child)) return false;
        out[kv.first.Scalar()] = std::move(child);
      }
      return true;
    case YAML::NodeType::Sequence:
      out = json::array();
      for (const auto& item : node) {
        json child;
        if (!BoundedYamlToJson(item, depth + 1, budget, child)) return false;
        out.push_back(std::move(child));
      }
      return true;
    case YAML::NodeType::Scalar:
      out = node.Scalar();
      return true;
    default:
      out = nullptr;
      return true;
  }
}

std::shared_ptr<const json> ParsePodTemplate(const std::string& text) {
  try {
    const YAML::Node root = YAML::Load(text);
    json out;
    size_t budget = 20000;
    if (!BoundedYamlToJson(root, 0, budget, out) || !out.is_object()) return nullptr;
    return std::make_shared<const json>(std::move(out));
  } catch (const YAML::Exception&) {
    return nullptr;
  }
}

// Adds the env and command-line entries of the pod template in `text` to `unit` (all at `path`, the ConfigMap key:
// a JSON pointer cannot go inside the YAML text). Returns false if `text` is not a pod template.
bool AddPodTemplateEntries(const std::string& text, const std::string& path, PodUnit& unit) {
  auto pod = ParsePodTemplate(text);
  if (pod == nullptr) return false;
  const json* spec = Child(*pod, "spec");
  if (spec == nullptr || !spec->is_object()) return false;
  static const json kEmpty = json::object();
  const json* meta = Child(*pod, "metadata");
  PodUnit from = PodSpecUnit(meta != nullptr ? *meta : kEmpty, "/metadata", *spec, "/spec");
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

void AddConfigMapUnit(const json& object, Workload& w) {
  const json* data = Child(object, "data");
  if (data == nullptr || !data->is_object()) return;
  Labels labels;
  if (const json* l = Walk(object, {"metadata", "labels"})) labels = LabelsFromJson(*l);
  const bool spark_labelled =
      labels.count("spark-app-selector") || labels.count("spark-role") || labels.count(std::string(kPipelineLabel));
  PodUnit unit;
  unit.kind = UnitKind::kSparkConfigMap;
  unit.owned_text = std::make_shared<std::deque<std::string>>();
  unit.base_path = "/data";
  unit.labels = labels;
  bool carries_spark_conf = false;
  for (const auto& item : data->items()) {
    if (!item.value().is_string() || !IsSparkConfFile(item.key())) continue;
    carries_spark_conf = true;
    ParseProperties(item.value().get_ref<const std::string&>(), PointerChild("/data", item.key()), Surface::kProperties,
                    unit.scan.entries, *unit.owned_text);
  }
  if (carries_spark_conf) {
    // spark-submit ships every file of the submitting machine's SPARK_CONF_DIR (bar spark-defaults.conf, which it
    // merges into spark.properties) in the same ConfigMap, mounted at the driver's /opt/spark/conf.
    for (const auto& item : data->items()) {
      if (!item.value().is_string()) continue;
      const std::string& key = item.key();
      const std::string& text = item.value().get_ref<const std::string&>();
      if (key.size() > 9 && key.compare(key.size() - 9, 9, "-site.xml") == 0) {
        ParseHadoopXml(text, PointerChild("/data", key), unit.scan.entries, *unit.owned_text);
      } else if (key == "spark-env.sh") {
        ParseShellAssignments(text, PointerChild("/data", key), unit.scan.entries, *unit.owned_text);
      }
    }
  }
  bool carries_pod_template = false;
  if (const json* tmpl = Child(*data, kSparkPodTemplateKey); tmpl != nullptr && tmpl->is_string()) {
    carries_pod_template =
        AddPodTemplateEntries(tmpl->get_ref<const std::string&>(), PointerChild("/data", kSparkPodTemplateKey), unit);
  }
  if (carries_spark_conf || carries_pod_template || (spark_labelled && !data->empty())) {
    if (!carries_spark_conf && !carries_pod_template) {
      // A labelled pipeline ConfigMap: its keys are configuration keys (e.g. env-style KEY: value).
      AddStringMap(*data, "/data", Surface::kProperties, unit.scan.entries);
    }
    w.units.push_back(std::move(unit));
  }
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

void ParseProperties(std::string_view text, const std::string& path, Surface surface, std::vector<ConfigEntry>& out,
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

void ParseHadoopXml(std::string_view text, const std::string& path, std::vector<ConfigEntry>& out,
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

void ParseShellAssignments(std::string_view text, const std::string& path, std::vector<ConfigEntry>& out,
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

std::optional<Workload> ExtractWorkload(const json& object, const std::string& request_namespace) {
  if (!object.is_object()) return std::nullopt;
  Workload w;
  w.kind = std::string(StringView(Child(object, "kind")));
  w.api_version = std::string(StringView(Child(object, "apiVersion")));
  const json* meta = Child(object, "metadata");
  if (meta != nullptr) {
    w.name = std::string(StringView(Child(*meta, "name")));
    if (w.name.empty()) w.name = std::string(StringView(Child(*meta, "generateName")));
    w.namespace_ = std::string(StringView(Child(*meta, "namespace")));
    w.annotations = Child(*meta, "annotations");
  }
  if (w.namespace_.empty()) w.namespace_ = request_namespace.empty() ? "default" : request_namespace;

  if (w.kind == "Pod") {
    const json* spec = Child(object, "spec");
    if (spec == nullptr || !spec->is_object()) return w;
    static const json kEmpty = json::object();
    w.units.push_back(PodSpecUnit(meta != nullptr ? *meta : kEmpty, "/metadata", *spec, "/spec"));
    return w;
  }
  if (auto template_path = TemplatePath(w.kind)) {
    const json* tmpl = &object;
    std::string path;
    for (auto key : *template_path) {
      tmpl = Child(*tmpl, key);
      if (tmpl == nullptr) return w;
      AppendPointerToken(path, key);
    }
    const json* spec = Child(*tmpl, "spec");
    if (spec == nullptr || !spec->is_object()) return w;
    static const json kEmpty = json::object();
    const json* tmeta = Child(*tmpl, "metadata");
    w.units.push_back(PodSpecUnit(tmeta != nullptr ? *tmeta : kEmpty, path + "/metadata", *spec, path + "/spec"));
    return w;
  }
  if (w.kind == "SparkApplication") {
    w.is_spark_application = true;
    AddSparkApplicationUnits(object, w);
    return w;
  }
  if (w.kind == "ConfigMap") {
    w.is_config_map = true;
    AddConfigMapUnit(object, w);
    return w;
  }
  if (w.kind == kProfileKind) {
    w.is_profile = true;
    return w;
  }
  return std::nullopt;
}

}  // namespace pipeguard::policy
