// Configuration files carried in ConfigMaps, read by type so that the detectors judge each setting by its own key:
// dbt profiles.yml and other YAML, JSON, Java/Kafka/JDBC .properties, Hadoop *-site.xml, .ini/.cfg and .env files.
// Internal to the engine; pure.
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/policy/detect.h"

namespace pipeguard::policy {

enum class ConfigFileType : std::uint8_t {
  kUnknown,     // not a file type pipeguard reads: the whole value is one setting named by the data key
  kProperties,  // *.properties, spark-defaults.conf (java.util.Properties syntax)
  kHadoopXml,   // *.xml: <property><name>K</name><value>V</value></property>
  kIni,         // *.ini, *.cfg, *.conf other than spark-defaults.conf: [section] key = value
  kEnv,         // *.env, .env, *.sh: NAME=value assignments (read with the env-var rules)
  kJson,        // *.json
  kYaml,        // *.yml, *.yaml (dbt profiles.yml among them)
};

// The type of the file held under ConfigMap data key `file_key`, by its name.
ConfigFileType ConfigFileTypeOf(std::string_view file_key);

// Reads the file `text` (ConfigMap data key `file_key`, at JSON pointer `path`) as `type` and appends one entry per
// setting it holds. Each entry's `key` is the setting's own name (the last key of a YAML/JSON path, the property
// name, the INI key), which the key rules judge; its `label` names the file and the setting's path inside it
// (`data["profiles.yml"]: outputs.prod.password`), which findings show. Values a reader had to build (unescaped,
// decoded, numbers and booleans of JSON) and the labels live in `storage`; the rest view into `text`.
// Returns false when `type` is kUnknown or `text` does not parse as `type` (too deep, too large, not JSON/YAML):
// the caller then scans the value as one setting, so nothing goes unread.
bool ParseConfigFile(ConfigFileType type, std::string_view file_key, std::string_view text, const LazyPointer& path,
                     std::vector<ConfigEntry>& out, std::deque<std::string>& storage);

}  // namespace pipeguard::policy
