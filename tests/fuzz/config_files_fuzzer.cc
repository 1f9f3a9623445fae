// libFuzzer target for the readers of configuration files inside ConfigMaps (policy/src/config_files.h): the first
// byte picks the file type (properties, Hadoop XML, ini, env, JSON, YAML), the rest is the file. Every reader must
// return without a sanitizer report, and its entries must view memory that lives (their bytes are read back).
//
// Also differential: StreamBoundedYamlScalars (YAML read in one pass) must give exactly the scalars, paths and keys
// of ParseBoundedYaml's tree whenever it says it could (kDone), and must not say so for text the tree refuses.
//
// Build and run: tests/fuzz/run.sh [SECONDS] config_files
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "bounded_yaml.h"
#include "config_files.h"
#include "tree_scalars.h"

namespace {

using namespace pipeguard::policy;
using nlohmann::json;
using testing::Scalar;

void CheckStreamAgainstTree(std::string_view text) {
  std::vector<Scalar> streamed;
  const YamlStream result = StreamBoundedYamlScalars(
      text, "f.yaml", [&](std::string_view path, std::string_view key, std::string_view value) {
        streamed.emplace_back(std::string(path), std::string(key), std::string(value));
      });
  if (result != YamlStream::kDone) return;
  const auto tree = ParseBoundedYaml(text);
  if (!tree || (!tree->is_object() && !tree->is_array())) std::abort();  // streamed what the tree refuses
  std::sort(streamed.begin(), streamed.end());
  if (streamed != testing::TreeScalars(*tree, "f.yaml")) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static constexpr const char* kFileKeys[] = {"client.properties", "core-site.xml", "airflow.cfg",
                                              "app.env",           "settings.json", "profiles.yml"};
  const std::string_view file_key = kFileKeys[data[0] % std::size(kFileKeys)];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<ConfigEntry> entries;
  std::deque<std::string> storage;
  const std::string path = "/data/" + std::string(file_key);
  if (ParseConfigFile(ConfigFileTypeOf(file_key), file_key, text, path, entries, storage)) {
    std::size_t bytes = 0;
    for (const ConfigEntry& e : entries) bytes += e.key.size() + e.value.size() + e.label.size() + e.path.str().size();
    for (const ConfigEntry& e : entries) {  // every view must point at live memory (ASan checks the reads)
      for (char c : e.key) bytes += static_cast<unsigned char>(c) & 1;
      for (char c : e.value) bytes += static_cast<unsigned char>(c) & 1;
      for (char c : e.label) bytes += static_cast<unsigned char>(c) & 1;
    }
    if (bytes == static_cast<std::size_t>(-1)) std::abort();
  }
  if (ConfigFileTypeOf(file_key) == ConfigFileType::kYaml) CheckStreamAgainstTree(text);
  return 0;
}
