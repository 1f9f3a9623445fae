#include "pipeguard/audit/config_map_readers.h"

#include <utility>

namespace pipeguard::audit {

void ConfigMapReaderIndex::Set(const std::string& object_key, const nlohmann::json* object) {
  std::vector<policy::ConfigMapRead> reads;
  if (object != nullptr) reads = policy::ConfigMapReadsOf(*object);  // outside the lock: it parses the object
  std::lock_guard lock(mu_);
  if (auto it = by_object_.find(object_key); it != by_object_.end()) {
    for (const std::string& config_map : it->second) {
      auto entries = by_config_map_.find(config_map);
      if (entries == by_config_map_.end()) continue;
      std::erase_if(entries->second, [&](const auto& entry) { return entry.first.first == object_key; });
      if (entries->second.empty()) by_config_map_.erase(entries);
    }
    by_object_.erase(it);
  }
  if (reads.empty()) return;
  std::vector<std::string>& keys = by_object_[object_key];
  for (policy::ConfigMapRead& read : reads) {
    std::string key = ConfigMapKey(read.reader.namespace_, read.config_map);
    std::pair<std::string, std::string> entry(object_key, read.reader.path);
    by_config_map_[key].insert_or_assign(std::move(entry), std::move(read.reader));
    keys.push_back(std::move(key));
  }
}

std::vector<policy::ConfigMapReader> ConfigMapReaderIndex::Readers(const std::string& ns,
                                                                   const std::string& name) const {
  std::vector<policy::ConfigMapReader> out;
  std::lock_guard lock(mu_);
  auto it = by_config_map_.find(ConfigMapKey(ns, name));
  if (it == by_config_map_.end()) return out;
  out.reserve(it->second.size());
  for (const auto& entry : it->second) out.push_back(entry.second);
  return out;
}

std::size_t ConfigMapReaderIndex::size() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& entry : by_config_map_) n += entry.second.size();
  return n;
}

}  // namespace pipeguard::audit
