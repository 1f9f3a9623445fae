#include "pipeguard/webhook/metrics.h"

#include <prometheus/text_serializer.h>

#include <set>

namespace pipeguard::webhook {

namespace {

// 250 us to 5 s: admission latency lives in the low milliseconds; the API server's default timeout is 10 s.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                                   0.05,    0.1,    0.25,  0.5,    1.0,   2.5,  5.0};
  return kBuckets;
}

}  // namespace

WebhookMetrics::WebhookMetrics() : registry_(std::make_shared<prometheus::Registry>()) {
  requests_ = &prometheus::BuildCounter()
                   .Name("pipeguard_webhook_requests_total")
                   .Help("Admission replies by webhook (validate, mutate) and decision (allowed, denied, error).")
                   .Register(*registry_);
  rule_requests_ = &prometheus::BuildCounter()
                        .Name("pipeguard_webhook_rule_requests_total")
                        .Help("Admission replies in which a rule found at least one violation, by rule and decision.")
                        .Register(*registry_);
  duration_ = &prometheus::BuildHistogram()
                   .Name("pipeguard_webhook_request_duration_seconds")
                   .Help("Time from reading an admission request body to its reply, in seconds.")
                   .Register(*registry_);
  reloads_ = &prometheus::BuildCounter()
                  .Name("pipeguard_webhook_reloads_total")
                  .Help(
                      "Reloads of the configuration with the context objects (source=context) and of the TLS pair "
                      "(source=tls), by result.")
                  .Register(*registry_);
  rejected_ = &prometheus::BuildCounter()
                   .Name("pipeguard_webhook_rejected_requests_total")
                   .Help("Requests refused at the HTTP boundary before any policy evaluation, by reason.")
                   .Register(*registry_);
  break_glass_ = &prometheus::BuildCounter()
                      .Name("pipeguard_webhook_break_glass_total")
                      .Help("Admission requests admitted under an honoured break-glass waiver.")
                      .Register(*registry_);
  in_flight_ = &prometheus::BuildGauge()
                    .Name("pipeguard_webhook_in_flight_requests")
                    .Help("Admission requests being handled now.")
                    .Register(*registry_)
                    .Add({});
  open_connections_ = &prometheus::BuildGauge()
                           .Name("pipeguard_webhook_open_connections")
                           .Help("Client connections open now, in every phase (handshake, idle, request).")
                           .Register(*registry_)
                           .Add({});
  panics_ = &prometheus::BuildCounter()
                 .Name("pipeguard_webhook_panics_total")
                 .Help("Exceptions escaping an admission handler, answered with an error reply.")
                 .Register(*registry_)
                 .Add({});
  // Pre-create the common series so dashboards see zeros rather than missing series.
  for (const char* webhook : {"validate", "mutate"}) {
    for (const char* decision : {"allowed", "denied", "error"}) {
      requests_->Add({{"webhook", webhook}, {"decision", decision}});
    }
  }
  for (const char* source : {"context", "tls"}) {
    for (const char* result : {"success", "failure"}) reloads_->Add({{"source", source}, {"result", result}});
  }
}

WebhookMetrics::~WebhookMetrics() = default;

prometheus::Counter& WebhookMetrics::Counter(prometheus::Family<prometheus::Counter>& family,
                                             const std::map<std::string, std::string>& labels) {
  return family.Add(labels);  // Family::Add is thread-safe and returns the existing series for known labels
}

void WebhookMetrics::RecordAdmission(std::string_view webhook, const AdmissionReply& reply, double seconds) {
  const std::string hook(webhook);
  const std::string decision(ToString(reply.decision));
  Counter(*requests_, {{"webhook", hook}, {"decision", decision}}).Increment();
  std::set<std::string_view> rules;
  for (const auto& f : reply.findings) rules.insert(f.rule);
  rules.insert(reply.unlisted_rules.begin(), reply.unlisted_rules.end());
  for (std::string_view rule : rules) {
    Counter(*rule_requests_, {{"webhook", hook}, {"rule", std::string(rule)}, {"decision", decision}}).Increment();
  }
  if (reply.break_glass_ticket) Counter(*break_glass_, {{"webhook", hook}}).Increment();

  prometheus::Histogram* histogram = nullptr;
  {
    std::lock_guard lock(histogram_mutex_);
    auto it = histograms_.find(webhook);
    if (it == histograms_.end()) {
      it = histograms_.emplace(hook, &duration_->Add({{"webhook", hook}}, LatencyBuckets())).first;
    }
    histogram = it->second;
  }
  histogram->Observe(seconds);
}

void WebhookMetrics::AddInFlight(double delta) { in_flight_->Increment(delta); }

void WebhookMetrics::AddOpenConnections(double delta) { open_connections_->Increment(delta); }

void WebhookMetrics::RecordReload(std::string_view source, bool success) {
  Counter(*reloads_, {{"source", std::string(source)}, {"result", success ? "success" : "failure"}}).Increment();
}

void WebhookMetrics::RecordRejected(std::string_view reason) {
  Counter(*rejected_, {{"reason", std::string(reason)}}).Increment();
}

void WebhookMetrics::RecordPanic() { panics_->Increment(); }

std::string WebhookMetrics::Serialize() const {
  const prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

}  // namespace pipeguard::webhook
