// The index of ConfigMap readers: (namespace, ConfigMap name) -> the objects that read that ConfigMap (mount it, or
// read it through envFrom or configMapKeyRef), kept from the background audit's informers (Pods, Jobs, CronJobs,
// Deployments, SparkApplications). It answers policy::ConfigMapReaders for a ConfigMap's admission, so that a
// ConfigMap created after the governed pods that read it is judged as part of their pipeline (PrepareReview),
// without scanning every pod per request.
//
// Pure bookkeeping (no I/O): the caller feeds it each object's latest state. Thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipeguard/policy/context.h"
#include "pipeguard/policy/engine.h"

namespace pipeguard::audit {

class ConfigMapReaderIndex {
 public:
  // Records what the object `object_key` (unique among the indexed objects, e.g. "pods/etl/dbt-run") reads now,
  // replacing what it read before (policy::ConfigMapReadsOf `object`); null `object`: the object is gone.
  void Set(const std::string& object_key, const nlohmann::json* object);
  // The objects that read ConfigMap `ns`/`name`, ordered by object key, then by the field naming the ConfigMap.
  std::vector<policy::ConfigMapReader> Readers(const std::string& ns, const std::string& name) const;
  // Number of (object, ConfigMap) entries; for tests and metrics.
  std::size_t size() const;

 private:
  // "ns/configmap"
  static std::string ConfigMapKey(const std::string& ns, const std::string& name) { return ns + "/" + name; }

  mutable std::mutex mu_;
  // object key -> the ConfigMap keys it is indexed under
  std::map<std::string, std::vector<std::string>> by_object_;
  // ConfigMap key -> (object key, field path) -> reader
  std::map<std::string, std::map<std::pair<std::string, std::string>, policy::ConfigMapReader>> by_config_map_;
};

}  // namespace pipeguard::audit
