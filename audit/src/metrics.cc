#include "pipeguard/audit/metrics.h"

#include <limits>

namespace pipeguard::audit {

AuditMetrics::AuditMetrics(prometheus::Registry& registry)
    : violations_(&prometheus::BuildGauge()
                       .Name("pipeguard_audit_violations")
                       .Help("Results that break a rule in the namespace's PolicyReport, by rule and result (fail: "
                             "would be denied, warn: audit mode or not blocking)")
                       .Register(registry)),
      oldest_age_(&prometheus::BuildGauge()
                       .Name("pipeguard_audit_oldest_violation_age_seconds")
                       .Help("How long the oldest failing or warning result of the namespace has held")
                       .Register(registry)),
      lag_(&prometheus::BuildGauge()
                .Name("pipeguard_audit_lag_seconds")
                .Help("From a change to the PolicyReport that reflects it, in the last pass")
                .Register(registry)
                .Add({})),
      last_pass_(&prometheus::BuildGauge()
                      .Name("pipeguard_audit_last_pass_timestamp_seconds")
                      .Help("Unix time the background audit last judged a namespace")
                      .Register(registry)
                      .Add({})),
      pass_duration_(&prometheus::BuildHistogram()
                          .Name("pipeguard_audit_pass_duration_seconds")
                          .Help("Duration of one namespace judged by the background audit")
                          .Register(registry)
                          .Add({}, prometheus::Histogram::BucketBoundaries{0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60})),
      objects_(&prometheus::BuildCounter()
                    .Name("pipeguard_audit_objects_evaluated_total")
                    .Help("Stored objects judged by the background audit")
                    .Register(registry)
                    .Add({})),
      writes_(&prometheus::BuildCounter()
                   .Name("pipeguard_audit_report_writes_total")
                   .Help("PolicyReport writes by the background audit, by verb and result")
                   .Register(registry)),
      leader_(&prometheus::BuildGauge()
                   .Name("pipeguard_audit_leader")
                   .Help("1 while this replica writes the PolicyReports")
                   .Register(registry)
                   .Add({})) {}

void AuditMetrics::RecordReport(const std::string& namespace_, const nlohmann::json* report,
                                std::int64_t now_unix_seconds) {
  std::map<std::pair<std::string, std::string>, double> counts;  // (rule, result) -> results
  std::int64_t oldest = std::numeric_limits<std::int64_t>::max();
  if (report != nullptr && report->contains("results") && (*report)["results"].is_array()) {
    for (const nlohmann::json& result : (*report)["results"]) {
      const std::string outcome = result.value("result", "");
      if (outcome != "fail" && outcome != "warn") continue;
      counts[{result.value("rule", ""), outcome}] += 1;
      if (result.contains("timestamp") && result["timestamp"].contains("seconds") &&
          result["timestamp"]["seconds"].is_number_integer()) {
        oldest = std::min(oldest, result["timestamp"]["seconds"].get<std::int64_t>());
      }
    }
  }
  std::lock_guard lock(mu_);
  auto& series = namespace_series_[namespace_];
  for (auto it = series.begin(); it != series.end();) {
    if (counts.count(it->first) == 0) {
      violations_->Remove(it->second);
      it = series.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [labels, count] : counts) {
    auto [it, inserted] = series.emplace(labels, nullptr);
    if (inserted) {
      it->second = &violations_->Add({{"namespace", namespace_}, {"rule", labels.first}, {"result", labels.second}});
    }
    it->second->Set(count);
  }
  if (series.empty()) namespace_series_.erase(namespace_);
  auto age = namespace_age_.find(namespace_);
  if (counts.empty()) {
    if (age != namespace_age_.end()) {
      oldest_age_->Remove(age->second);
      namespace_age_.erase(age);
    }
    return;
  }
  if (age == namespace_age_.end()) {
    age = namespace_age_.emplace(namespace_, &oldest_age_->Add({{"namespace", namespace_}})).first;
  }
  age->second->Set(oldest == std::numeric_limits<std::int64_t>::max()
                       ? 0.0
                       : static_cast<double>(std::max<std::int64_t>(0, now_unix_seconds - oldest)));
}

void AuditMetrics::RecordPass(std::chrono::steady_clock::duration duration, std::size_t objects,
                              std::int64_t now_unix_seconds) {
  pass_duration_->Observe(std::chrono::duration<double>(duration).count());
  objects_->Increment(static_cast<double>(objects));
  last_pass_->Set(static_cast<double>(now_unix_seconds));
}

void AuditMetrics::RecordLag(std::chrono::steady_clock::duration lag) {
  lag_->Set(std::chrono::duration<double>(lag).count());
}

void AuditMetrics::RecordWrite(std::string_view verb, std::string_view result) {
  writes_->Add({{"verb", std::string(verb)}, {"result", std::string(result)}}).Increment();
}

void AuditMetrics::SetLeader(bool leader) { leader_->Set(leader ? 1 : 0); }

}  // namespace pipeguard::audit
