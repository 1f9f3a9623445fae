// Test helpers: YAML tables under tests/operator/data, read into JSON.
#pragma once

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>

namespace pipeguard::reconcilers::testing {

// Plain scalars become booleans, integers or null when they look like one; quoted scalars stay strings.
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
      const std::string& s = node.Scalar();
      if (node.Tag() == "!") return s;  // quoted
      if (s == "true") return true;
      if (s == "false") return false;
      if (s == "null" || s == "~") return nullptr;
      if (!s.empty() && s.find_first_not_of("-0123456789") == std::string::npos && s != "-") {
        try {
          size_t used = 0;
          long long n = std::stoll(s, &used);
          if (used == s.size()) return n;
        } catch (const std::exception&) {
        }
      }
      return s;
    }
    default:
      return nullptr;
  }
}

inline std::string ReadDataFile(const std::string& name) {
  const std::string path = std::string(PIPEGUARD_TEST_DATA) + "/operator/data/" + name;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The table in data file `name`: its top-level `cases` list as JSON.
inline nlohmann::json LoadCases(const std::string& name) {
  const YAML::Node root = YAML::Load(ReadDataFile(name));
  nlohmann::json cases = YamlToJson(root["cases"]);
  if (!cases.is_array() || cases.empty()) throw std::runtime_error(name + ": no cases");
  return cases;
}

// The `base` profile of profiles.yaml (namespace etl, name nightly-etl, with a UID) with `spec_patch` merged into its
// spec (RFC 7386).
inline nlohmann::json ProfileWith(const nlohmann::json& spec_patch = nlohmann::json::object()) {
  const YAML::Node root = YAML::Load(ReadDataFile("profiles.yaml"));
  nlohmann::json profile = YamlToJson(root["base"]);
  profile["spec"].merge_patch(spec_patch);
  return profile;
}

}  // namespace pipeguard::reconcilers::testing
