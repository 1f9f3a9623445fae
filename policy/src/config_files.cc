#include "config_files.h"

#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>

#include "bounded_yaml.h"
#include "pipeguard/base/json.h"
#include "workload.h"

namespace pipeguard::policy {

using nlohmann::json;

namespace {

// Files nest shallowly; a deeper or larger one is scanned as one value instead (nothing goes unread).
constexpr int kMaxFileDepth = 64;
constexpr std::size_t kMaxFileValues = 20000;

bool EndsWith(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (std::size_t i = 0; i < suffix.size(); ++i) {
    const char c = s[s.size() - suffix.size() + i];
    if (std::tolower(static_cast<unsigned char>(c)) != suffix[i]) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::string FileLabel(std::string_view file_key) { return "data[\"" + std::string(file_key) + "\"]: "; }

// Labels the entries from `first` on with the file and their own key (readers whose keys are already full paths).
void LabelEntries(std::string_view file_key, std::size_t first, std::vector<ConfigEntry>& out,
                  std::deque<std::string>& storage) {
  const std::string prefix = FileLabel(file_key);
  for (std::size_t i = first; i < out.size(); ++i) {
    storage.push_back(prefix + std::string(out[i].key));
    out[i].label = storage.back();
  }
}

// `[section]` headers and `key = value` / `key: value` lines; `#` and `;` start comments.
void ParseIni(std::string_view file_key, std::string_view text, const LazyPointer& path, std::vector<ConfigEntry>& out,
              std::deque<std::string>& storage) {
  const std::string prefix = FileLabel(file_key);
  std::string_view section;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = Trim(text.substr(pos, end - pos));
    pos = end + 1;
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = Trim(line.substr(1, line.size() - 2));
      continue;
    }
    const std::size_t sep = line.find_first_of("=:");
    if (sep == std::string_view::npos || sep == 0) continue;
    const std::string_view key = Trim(line.substr(0, sep));
    std::string_view value = Trim(line.substr(sep + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    if (key.empty()) continue;
    storage.push_back(prefix + (section.empty() ? "" : std::string(section) + ".") + std::string(key));
    out.push_back({key, value, path, Surface::kProperties, ValueSource::kLiteral, storage.back()});
  }
}

// One setting read from a file's parsed form, whose key and value live only as long as the parse: both are copied
// into `storage`, with the label that names the setting.
void AddCopiedSetting(std::string_view key, std::string_view value, std::string label, const LazyPointer& path,
                      std::vector<ConfigEntry>& out, std::deque<std::string>& storage) {
  const std::string_view stored_value = storage.emplace_back(value);
  const std::string_view stored_key = storage.emplace_back(key);
  const std::string_view stored_label = storage.emplace_back(std::move(label));
  out.push_back({stored_key, stored_value, path, Surface::kProperties, ValueSource::kLiteral, stored_label});
}

// One entry per scalar of a JSON document (YAML is read into the same shape): key = the member name holding it
// (for list items, the list's), label = its path. Null values hold nothing and are skipped. `label` is a working
// buffer that each call returns as it found it, so a path is copied once, for its scalar, not once per level.
void Flatten(const json& node, std::string& label, std::string_view key, const LazyPointer& path,
             std::vector<ConfigEntry>& out, std::deque<std::string>& storage) {
  const std::size_t mark = label.size();
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!label.empty() && label.back() != ' ') label += '.';
      label += it.key();
      Flatten(it.value(), label, it.key(), path, out, storage);
      label.resize(mark);
    }
    return;
  }
  if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      label.append("[").append(std::to_string(i)).append("]");
      Flatten(node[i], label, key, path, out, storage);
      label.resize(mark);
    }
    return;
  }
  if (node.is_null()) return;
  if (node.is_string()) {
    AddCopiedSetting(key, node.get_ref<const std::string&>(), label, path, out, storage);
  } else {
    AddCopiedSetting(key, node.dump(), label, path, out, storage);
  }
}

// A YAML file's settings read in one pass over libyaml's events (StreamBoundedYamlScalars), with the labels and keys
// Flatten gives the same file's tree. False, with nothing added, when only the tree can read it (anchors, aliases,
// repeated keys) or it is not a mapping or sequence.
bool StreamYamlFile(std::string_view file_key, std::string_view text, const LazyPointer& path,
                    std::vector<ConfigEntry>& out, std::deque<std::string>& storage) {
  const std::size_t first_entry = out.size();
  const std::size_t first_stored = storage.size();
  const std::string prefix = FileLabel(file_key);
  const YamlStream streamed =
      StreamBoundedYamlScalars(text, file_key, [&](std::string_view at, std::string_view key, std::string_view value) {
        AddCopiedSetting(key, value, prefix + std::string(at), path, out, storage);
      });
  if (streamed == YamlStream::kDone) return true;
  out.erase(out.begin() + static_cast<std::ptrdiff_t>(first_entry), out.end());
  while (storage.size() > first_stored) storage.pop_back();
  return false;
}

std::optional<json> ParseJsonFile(std::string_view text) {
  const base::JsonShape shape = base::MeasureJson(text, kMaxFileDepth);
  if (shape.max_depth > kMaxFileDepth || shape.values > kMaxFileValues) return std::nullopt;
  auto parsed = base::ParseJson(text, "file", kMaxFileDepth);
  if (!parsed.ok()) return std::nullopt;
  return std::move(parsed).value();
}

}  // namespace

ConfigFileType ConfigFileTypeOf(std::string_view file_key) {
  if (EndsWith(file_key, ".properties") || file_key == "spark-defaults.conf") return ConfigFileType::kProperties;
  if (EndsWith(file_key, ".xml")) return ConfigFileType::kHadoopXml;
  if (EndsWith(file_key, ".ini") || EndsWith(file_key, ".cfg") || EndsWith(file_key, ".conf")) {
    return ConfigFileType::kIni;
  }
  if (EndsWith(file_key, ".env") || EndsWith(file_key, ".sh")) return ConfigFileType::kEnv;
  if (EndsWith(file_key, ".json")) return ConfigFileType::kJson;
  if (EndsWith(file_key, ".yml") || EndsWith(file_key, ".yaml")) return ConfigFileType::kYaml;
  return ConfigFileType::kUnknown;
}

bool ParseConfigFile(ConfigFileType type, std::string_view file_key, std::string_view text, const LazyPointer& path,
                     std::vector<ConfigEntry>& out, std::deque<std::string>& storage) {
  const std::size_t first = out.size();
  switch (type) {
    case ConfigFileType::kUnknown:
      return false;
    case ConfigFileType::kProperties:
      ParseProperties(text, path, Surface::kProperties, out, storage);
      LabelEntries(file_key, first, out, storage);
      return true;
    case ConfigFileType::kHadoopXml:
      ParseHadoopXml(text, path, out, storage);
      LabelEntries(file_key, first, out, storage);
      return true;
    case ConfigFileType::kIni:
      ParseIni(file_key, text, path, out, storage);
      return true;
    case ConfigFileType::kEnv:
      ParseShellAssignments(text, path, out, storage);
      LabelEntries(file_key, first, out, storage);
      return true;
    case ConfigFileType::kJson:
    case ConfigFileType::kYaml: {
      // Nearly every YAML configuration file streams; the few with anchors or repeated keys are read as a tree.
      if (type == ConfigFileType::kYaml && StreamYamlFile(file_key, text, path, out, storage)) return true;
      std::optional<json> document = type == ConfigFileType::kJson ? ParseJsonFile(text) : ParseBoundedYaml(text);
      if (!document || (!document->is_object() && !document->is_array())) return false;
      std::string label = FileLabel(file_key);
      Flatten(*document, label, file_key, path, out, storage);
      return true;
    }
  }
  return false;
}

}  // namespace pipeguard::policy
