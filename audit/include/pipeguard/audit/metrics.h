// The background audit's Prometheus metrics, in the registry of the process that runs it (the webhook's /metrics):
//
//   pipeguard_audit_violations{namespace,rule,result}      results in the namespace's report; result: fail (would be
//                                                          denied: the namespace enforces) or warn
//   pipeguard_audit_oldest_violation_age_seconds{namespace} since when the oldest fail/warn result has held
//   pipeguard_audit_lag_seconds                             from a change to the report that reflects it (last pass)
//   pipeguard_audit_last_pass_timestamp_seconds             Unix time a namespace was last judged (alert when it stops:
//                                                          every namespace is judged at least once per period)
//   pipeguard_audit_pass_duration_seconds                   histogram, one namespace judged
//   pipeguard_audit_objects_evaluated_total                 objects judged
//   pipeguard_audit_report_writes_total{verb,result}        verb: create|update|delete, result: ok|conflict|error
//   pipeguard_audit_leader                                  1 while this replica writes reports
// Namespaces whose reports disappear lose their series. Thread-safe.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

namespace pipeguard::audit {

class AuditMetrics {
 public:
  explicit AuditMetrics(prometheus::Registry& registry);

  // Sets the namespace's series from its report (none: the namespace has no report any more).
  void RecordReport(const std::string& namespace_, const nlohmann::json* report, std::int64_t now_unix_seconds);
  void RecordPass(std::chrono::steady_clock::duration duration, std::size_t objects, std::int64_t now_unix_seconds);
  void RecordLag(std::chrono::steady_clock::duration lag);
  void RecordWrite(std::string_view verb, std::string_view result);
  void SetLeader(bool leader);

 private:
  prometheus::Family<prometheus::Gauge>* violations_;
  prometheus::Family<prometheus::Gauge>* oldest_age_;
  prometheus::Gauge* lag_;
  prometheus::Gauge* last_pass_;
  prometheus::Histogram* pass_duration_;
  prometheus::Counter* objects_;
  prometheus::Family<prometheus::Counter>* writes_;
  prometheus::Gauge* leader_;
  std::mutex mu_;
  // The label sets set per namespace, so a report that shrinks or goes away removes its series.
  std::map<std::string, std::map<std::pair<std::string, std::string>, prometheus::Gauge*>> namespace_series_;
  std::map<std::string, prometheus::Gauge*> namespace_age_;
};

}  // namespace pipeguard::audit
