// The reference that StreamBoundedYamlScalars is held to (tests/policy/bounded_yaml_test.cc and the config_files
// fuzzer): the non-null scalars of ParseBoundedYaml's tree with the path and key the stream gives each, sorted.
#pragma once

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

namespace pipeguard::policy::testing {

using Scalar = std::tuple<std::string, std::string, std::string>;  // path, key, value

inline void AppendTreeScalars(const nlohmann::json& node, const std::string& path, const std::string& key,
                              std::vector<Scalar>& out) {
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      AppendTreeScalars(it.value(), path.empty() ? it.key() : path + "." + it.key(), it.key(), out);
    }
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      AppendTreeScalars(node[i], path + "[" + std::to_string(i) + "]", key, out);
    }
  } else if (node.is_string()) {
    out.emplace_back(path, key, node.get<std::string>());
  }
}

// The scalars of `tree`, whose root's key is `root_key`, sorted.
inline std::vector<Scalar> TreeScalars(const nlohmann::json& tree, const std::string& root_key) {
  std::vector<Scalar> out;
  AppendTreeScalars(tree, "", root_key, out);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace pipeguard::policy::testing
