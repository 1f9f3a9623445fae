#include "pipeguard/reconcilers/metrics.h"

#include <httplib.h>
#include <prometheus/text_serializer.h>

namespace pipeguard::reconcilers {

OperatorMetrics::OperatorMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      reconciles_(prometheus::BuildCounter()
                      .Name("pipeguard_operator_reconciles_total")
                      .Help("PipelineSecurityProfile reconciles by result (success, requeue, error).")
                      .Register(*registry_)),
      duration_(prometheus::BuildHistogram()
                    .Name("pipeguard_operator_reconcile_duration_seconds")
                    .Help("Time spent in one reconcile.")
                    .Register(*registry_)),
      drift_(prometheus::BuildCounter()
                 .Name("pipeguard_operator_drift_reverted_total")
                 .Help("Out-of-band changes to owned objects or IAM roles that the operator reverted, by kind.")
                 .Register(*registry_)),
      aws_calls_(prometheus::BuildCounter()
                     .Name("pipeguard_operator_aws_api_calls_total")
                     .Help("AWS API calls by action and result (success or the AWS error code).")
                     .Register(*registry_)),
      leader_(prometheus::BuildGauge()
                  .Name("pipeguard_operator_leader")
                  .Help("1 while this replica holds the leader lease, else 0.")
                  .Register(*registry_)
                  .Add({})),
      kube_requests_(prometheus::BuildCounter()
                         .Name("pipeguard_operator_kube_requests_total")
                         .Help("Requests to the Kubernetes API server by verb and resource.")
                         .Register(*registry_)),
      tamper_(prometheus::BuildCounter()
                  .Name("pipeguard_operator_tamper_total")
                  .Help("pipeguard's own webhook configurations found deleted or changed and restored, by the "
                        "object's kind and what changed.")
                  .Register(*registry_)),
      duration_histogram_(duration_.Add(
          {}, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30})) {}

void OperatorMetrics::RecordReconcile(std::string_view result, double seconds) {
  reconciles_.Add({{"result", std::string(result)}}).Increment();
  duration_histogram_.Observe(seconds);
}

void OperatorMetrics::RecordDriftReverted(std::string_view kind) {
  drift_.Add({{"kind", std::string(kind)}}).Increment();
}

void OperatorMetrics::RecordAwsCall(std::string_view action, std::string_view result) {
  aws_calls_.Add({{"action", std::string(action)}, {"result", std::string(result)}}).Increment();
}

void OperatorMetrics::SetLeader(bool leader) { leader_.Set(leader ? 1 : 0); }

void OperatorMetrics::RecordKubeRequest(std::string_view verb, std::string_view resource) {
  kube_requests_.Add({{"verb", std::string(verb)}, {"resource", std::string(resource)}}).Increment();
}

void OperatorMetrics::RecordTamper(std::string_view kind, std::string_view change) {
  tamper_.Add({{"kind", std::string(kind)}, {"change", std::string(change)}}).Increment();
}

aws::CallObserver OperatorMetrics::AwsCallObserver() {
  return [this](const aws::CallRecord& record) {
    RecordAwsCall(record.action, record.error.empty() ? std::string_view("success") : record.error);
  };
}

namespace {
template <typename T>
double CounterValue(prometheus::Family<T>& family, const std::map<std::string, std::string>& labels) {
  if (!family.Has(labels)) return 0;
  return family.Add(labels).Value();
}
}  // namespace

double OperatorMetrics::ReconcileCount(std::string_view result) const {
  return CounterValue(reconciles_, {{"result", std::string(result)}});
}
double OperatorMetrics::DriftRevertedCount(std::string_view kind) const {
  return CounterValue(drift_, {{"kind", std::string(kind)}});
}
double OperatorMetrics::AwsCallCount(std::string_view action, std::string_view result) const {
  return CounterValue(aws_calls_, {{"action", std::string(action)}, {"result", std::string(result)}});
}
double OperatorMetrics::LeaderValue() const { return leader_.Value(); }
double OperatorMetrics::KubeRequestCount(std::string_view verb, std::string_view resource) const {
  return CounterValue(kube_requests_, {{"verb", std::string(verb)}, {"resource", std::string(resource)}});
}
double OperatorMetrics::TamperCount(std::string_view kind, std::string_view change) const {
  return CounterValue(tamper_, {{"kind", std::string(kind)}, {"change", std::string(change)}});
}

std::string OperatorMetrics::Serialize() const {
  const prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

MetricsServer::MetricsServer(const OperatorMetrics& metrics, std::function<bool()> ready)
    : metrics_(metrics), ready_(std::move(ready)) {}

MetricsServer::~MetricsServer() { Stop(); }

Status MetricsServer::Start(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 >= listen.size()) {
    return Status::InvalidArgument("--metrics-listen \"" + listen + "\": expected HOST:PORT, e.g. 0.0.0.0:8080");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = 0;
  try {
    size_t used = 0;
    port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || port < 0 || port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    return Status::InvalidArgument("--metrics-listen \"" + listen + "\": the port must be a number in 0..65535");
  }
  server_ = std::make_unique<httplib::Server>();
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.Serialize(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server_->Get("/healthz",
               [](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
  server_->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    const bool ready = ready_ ? ready_() : true;
    res.status = ready ? 200 : 503;
    res.set_content(ready ? "ok" : "not ready", "text/plain");
  });
  port_ = port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (port_ <= 0) {
    server_.reset();
    return Status::Unavailable("cannot listen on " + listen + " (address in use or not local?)");
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return Status::Ok();
}

void MetricsServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

}  // namespace pipeguard::reconcilers
