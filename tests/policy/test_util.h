// Helpers shared by the policy tests: YAML test tables to JSON, data file paths.
#pragma once

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace pipeguard::testing {

inline std::string DataPath(const std::string& relative) { return std::string(PIPEGUARD_TEST_DATA) + "/" + relative; }

// Converts YAML to JSON; quoted scalars stay strings, plain true/false/null/integers get their JSON types.
inline nlohmann::json YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = YamlToJson(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(YamlToJson(item));
      return out;
    }
    case YAML::NodeType::Scalar: {
      if (node.Tag() == "!") return node.Scalar();  // quoted
      const std::string& s = node.Scalar();
      if (s == "true") return true;
      if (s == "false") return false;
      if (s == "null" || s == "~") return nullptr;
      bool digits = !s.empty() && s.size() < 18;
      for (size_t i = 0; i < s.size(); ++i)
        digits &= std::isdigit(static_cast<unsigned char>(s[i])) || (i == 0 && s[i] == '-');
      if (digits && s != "-") return std::stoll(s);
      return s;
    }
    default:
      return nullptr;
  }
}

inline nlohmann::json LoadYamlFile(const std::string& path) { return YamlToJson(YAML::LoadFile(path)); }

}  // namespace pipeguard::testing
