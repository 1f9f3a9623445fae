// Reads settings files (YAML) into typed values with errors that say where and how to fix:
// "SOURCE:LINE: KEY: problem". The one reader of the webhook's policy configuration and the operator's
// configuration, so both refuse the same malformed values with the same words.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "pipeguard/base/status.h"

namespace pipeguard::base {

class YamlReader {
 public:
  // `source` names the file in every error (for example "/etc/pipeguard/config.yaml"); it must outlive the reader.
  explicit YamlReader(const std::string& source) : source_(source) {}

  // "SOURCE:LINE: KEY: problem" (no line when the node has none).
  Status Error(const YAML::Node& node, const std::string& key, const std::string& problem) const;

  // Refuses a key of `map` not in `allowed`, listing the accepted ones, so a typo in a security setting is an error
  // rather than a silently ignored line. `where` is the mapping's dotted path ("" at the top level).
  Status CheckKeys(const YAML::Node& map, const std::string& where, const std::set<std::string>& allowed) const;

  Status Bool(const YAML::Node& node, const std::string& key, bool& out) const;
  Status String(const YAML::Node& node, const std::string& key, std::string& out) const;
  // A null node leaves `out` as it is (the default); otherwise it is replaced by the list.
  Status StringList(const YAML::Node& node, const std::string& key, std::vector<std::string>& out) const;
  // A decimal integer in [min, max].
  Status Int(const YAML::Node& node, const std::string& key, int min, int max, int& out) const;
  // "500ms", "4s", "15m", "168h": a count of up to 9 digits and one unit.
  Status Duration(const YAML::Node& node, const std::string& key, std::chrono::milliseconds& out) const;
  // The same without "ms", for settings kept in whole seconds.
  Status Duration(const YAML::Node& node, const std::string& key, std::chrono::seconds& out) const;

  // "where.key", or "key" at the top level.
  static std::string Join(const std::string& where, const std::string& key) {
    return where.empty() ? key : where + "." + key;
  }

 private:
  const std::string& source_;
};

}  // namespace pipeguard::base
