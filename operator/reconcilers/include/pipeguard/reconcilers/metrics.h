// The operator's Prometheus metrics, declared once (DESIGN.md guideline 12), and the HTTP endpoint serving them
// with /healthz and /readyz.
//
//   pipeguard_operator_reconciles_total{result}             result: success | requeue | error
//   pipeguard_operator_reconcile_duration_seconds           histogram
//   pipeguard_operator_drift_reverted_total{kind}           kind: DriftKindLabel()
//   pipeguard_operator_aws_api_calls_total{action,result}   result: "success" or the AWS error code
//   pipeguard_operator_leader                               1 while this replica leads, else 0
//   pipeguard_operator_kube_requests_total{verb,resource}   requests to the API server (CountingKubeClient);
//                                                           verb: get list watch create update apply patch delete
//   pipeguard_operator_tamper_total{kind,change}            a webhook configuration restored; kind: the object's
//                                                           Kubernetes kind, change: WebhookTamperLabel()
// Thread-safe.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "pipeguard/aws/service_client.h"
#include "pipeguard/base/status.h"
#include "pipeguard/controller/controller.h"

namespace httplib {
class Server;
}

namespace pipeguard::reconcilers {

// The profile controller's controller::Metrics (reconciles and leadership) plus the operator's own.
class OperatorMetrics final : public controller::Metrics {
 public:
  OperatorMetrics();

  void RecordReconcile(std::string_view result, double seconds) override;
  void RecordDriftReverted(std::string_view kind);
  void RecordAwsCall(std::string_view action, std::string_view result);
  void SetLeader(bool leader) override;
  // resource: kube::Resource::DisplayName(), e.g. "serviceaccounts", "pipelinesecurityprofiles.pipeguard.io".
  void RecordKubeRequest(std::string_view verb, std::string_view resource);
  void RecordTamper(std::string_view kind, std::string_view change);
  // An observer for aws::ServiceClient that feeds RecordAwsCall. `this` must outlive the clients using it.
  aws::CallObserver AwsCallObserver();

  // Current values, for tests.
  double ReconcileCount(std::string_view result) const;
  double DriftRevertedCount(std::string_view kind) const;
  double AwsCallCount(std::string_view action, std::string_view result) const;
  double LeaderValue() const;
  double KubeRequestCount(std::string_view verb, std::string_view resource) const;
  double TamperCount(std::string_view kind, std::string_view change) const;

  // The text exposition format.
  std::string Serialize() const;
  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& reconciles_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Counter>& drift_;
  prometheus::Family<prometheus::Counter>& aws_calls_;
  prometheus::Gauge& leader_;
  prometheus::Family<prometheus::Counter>& kube_requests_;
  prometheus::Family<prometheus::Counter>& tamper_;
  prometheus::Histogram& duration_histogram_;
};

// Serves GET /metrics, /healthz (200 while the process runs) and /readyz (200 when `ready()` is true, else 503) on
// a plain-HTTP listener. Start() binds (port 0 picks a free port) and serves on its own thread; Stop() is
// idempotent and also run by the destructor.
class MetricsServer {
 public:
  MetricsServer(const OperatorMetrics& metrics, std::function<bool()> ready);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // `listen` is "HOST:PORT". Errors: bad address, bind failure.
  Status Start(const std::string& listen);
  void Stop();
  int port() const { return port_; }

 private:
  const OperatorMetrics& metrics_;
  std::function<bool()> ready_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace pipeguard::reconcilers
