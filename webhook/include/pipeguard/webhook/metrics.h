// The webhook's Prometheus metrics, declared once (DESIGN.md guideline 12). Names: pipeguard_webhook_*.
//
//   pipeguard_webhook_requests_total{webhook,decision}            admission replies by decision (allowed|denied|error)
//   pipeguard_webhook_rule_requests_total{webhook,rule,decision}  replies in which a rule found a violation
//   pipeguard_webhook_request_duration_seconds{webhook}           latency histogram, 250 us .. 5 s
//   pipeguard_webhook_in_flight_requests                          admission requests being handled now
//   pipeguard_webhook_open_connections                            client connections open now (all phases)
//   pipeguard_webhook_reloads_total{source,result}                context (config + objects) and tls reloads
//   pipeguard_webhook_rejected_requests_total{reason}             requests refused at the HTTP boundary
//   pipeguard_webhook_panics_total                                handler exceptions turned into error replies
//   pipeguard_webhook_break_glass_total{webhook}                  honoured break-glass waivers
//
// Label values come from fixed vocabularies (rule IDs from the engine, reasons from this component), never from
// request content. Thread-safe.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "pipeguard/webhook/admission.h"

namespace pipeguard::webhook {

class WebhookMetrics {
 public:
  WebhookMetrics();
  ~WebhookMetrics();
  WebhookMetrics(const WebhookMetrics&) = delete;
  WebhookMetrics& operator=(const WebhookMetrics&) = delete;

  // Records one admission reply of `webhook` ("validate" or "mutate") that took `seconds`.
  void RecordAdmission(std::string_view webhook, const AdmissionReply& reply, double seconds);
  void AddInFlight(double delta);
  void AddOpenConnections(double delta);
  // source: "context" (the configuration file and the context objects, reloaded together) or "tls".
  void RecordReload(std::string_view source, bool success);
  // reason: malformed, too_large, unsupported_media_type, length_required, incomplete_body, method_not_allowed,
  // not_found, internal, headers_too_large, header_timeout, body_timeout, handshake_timeout, connection_limit,
  // overloaded, deadline_in_queue.
  void RecordRejected(std::string_view reason);
  void RecordPanic();

  // The registry, for adding collectables; and the Prometheus text exposition of everything in it.
  prometheus::Registry& registry() { return *registry_; }
  std::string Serialize() const;

 private:
  prometheus::Counter& Counter(prometheus::Family<prometheus::Counter>& family,
                               const std::map<std::string, std::string>& labels);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Counter>* rule_requests_;
  prometheus::Family<prometheus::Histogram>* duration_;
  prometheus::Family<prometheus::Counter>* reloads_;
  prometheus::Family<prometheus::Counter>* rejected_;
  prometheus::Family<prometheus::Counter>* break_glass_;
  prometheus::Gauge* in_flight_;
  prometheus::Gauge* open_connections_;
  prometheus::Counter* panics_;
  std::mutex histogram_mutex_;
  std::map<std::string, prometheus::Histogram*, std::less<>> histograms_;
};

// Adds 1 to the in-flight gauge for its lifetime.
class ScopedInFlight {
 public:
  explicit ScopedInFlight(WebhookMetrics& metrics) : metrics_(metrics) { metrics_.AddInFlight(1); }
  ~ScopedInFlight() { metrics_.AddInFlight(-1); }
  ScopedInFlight(const ScopedInFlight&) = delete;
  ScopedInFlight& operator=(const ScopedInFlight&) = delete;

 private:
  WebhookMetrics& metrics_;
};

}  // namespace pipeguard::webhook
