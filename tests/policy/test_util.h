// Helpers shared by the policy tests: YAML test tables to JSON, data file paths.
#pragma once

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "pipeguard/policy/engine.h"

namespace pipeguard::testing {

// The request of an engine case (tests/policy/data/engine_cases/*.yaml): user alice at `now`, with what the case's
// `request` sets (operation, user, namespace, kind, groups).
inline policy::RequestInfo CaseRequest(const nlohmann::json& body, std::int64_t now) {
  policy::RequestInfo request;
  request.username = "alice";
  request.now_unix_seconds = now;
  if (body.contains("request")) {
    const nlohmann::json& r = body["request"];
    request.operation = r.value("operation", request.operation);
    request.username = r.value("user", request.username);
    request.namespace_ = r.value("namespace", request.namespace_);
    request.kind = r.value("kind", request.kind);
    if (r.contains("groups")) request.groups = r["groups"].get<std::vector<std::string>>();
  }
  return request;
}

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
