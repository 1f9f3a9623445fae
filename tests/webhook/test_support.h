// Shared fixtures for the webhook tests: test data, temporary directories, AdmissionReview builders, a pod with
// planted secrets, captured logs, and an in-process server on real TLS (127.0.0.1, port 0).
#pragma once

#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "pipeguard/policy/context.h"
#include "pipeguard/policy/engine.h"
#include "pipeguard/webhook/admission.h"
#include "pipeguard/webhook/file_context_provider.h"
#include "pipeguard/webhook/metrics.h"
#include "pipeguard/webhook/server.h"
#include "pipeguard/webhook/tls.h"

namespace pipeguard::webhook::testing {

// tests/webhook/data/<relative>
std::string DataPath(const std::string& relative);
std::string ReadText(const std::string& path);
nlohmann::json ReadJson(const std::string& path);
void WriteText(const std::string& path, const std::string& text);

// A fresh directory under the system temp dir, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// An admission.k8s.io/v1 AdmissionReview carrying `object` for `operation` in namespace `ns`.
nlohmann::json MakeReview(const nlohmann::json& object, const std::string& ns, const std::string& uid,
                          const std::string& operation = "CREATE",
                          const std::string& user = "system:serviceaccount:airflow:airflow-scheduler",
                          const std::vector<std::string>& groups = {"system:serviceaccounts"});

struct PlantedSecret {
  std::string env_name;  // where it is planted (env var name, or "args" for a command-line option)
  std::string value;     // the secret; must never appear in any output
};
// Distinct, realistic-looking secrets (none is an allow-listed example value).
const std::vector<PlantedSecret>& PlantedSecrets();
// The clean KPO pod (data/pods/clean_kpo_pod.json): governed, compliant, admitted.
nlohmann::json CleanPod();
// The clean KPO pod with every planted secret added to its env, and one in args.
nlohmann::json SecretPod();

// Writes a self-signed pair with `serial` to dir/cert.pem and dir/key.pem.
PemPair WritePair(const std::string& dir, long serial);

// FileContextOptions for data/config.yaml and data/context/.
FileContextOptions TestContextOptions();

// Routes spdlog's default logger into memory (JSON lines) for its lifetime; restores the previous one after.
class CapturedLogs {
 public:
  CapturedLogs();
  ~CapturedLogs();
  std::string Text() const;

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<std::ostringstream> stream_;
};

// An in-process webhook server with the production handler chain, real TLS on 127.0.0.1:0, the test
// configuration and context, and audit lines captured in memory. Throws std::runtime_error if it cannot start.
class TestServer {
 public:
  explicit TestServer(ServerOptions options = {}, FileContextOptions context = TestContextOptions());
  ~TestServer();

  int port() const { return server_->port(); }
  WebhookServer& server() { return *server_; }
  WebhookMetrics& metrics() { return metrics_; }
  CertificateWatcher& watcher() { return *watcher_; }
  const TempDir& cert_dir() const { return cert_dir_; }
  const std::string& ca_pem() const { return pair_.cert_pem; }
  std::vector<std::string> AuditLines() const;

 private:
  TempDir cert_dir_;
  PemPair pair_;
  WebhookMetrics metrics_;
  CertificateStore certificates_;
  std::unique_ptr<CertificateWatcher> watcher_;
  std::unique_ptr<FileContextProvider> context_;
  policy::Engine engine_;
  mutable std::mutex audit_mutex_;
  std::vector<std::string> audit_lines_;
  std::unique_ptr<WebhookServer> server_;
};

// A static context (null: "not loaded yet"), for handlers and for servers around custom handlers.
class StaticContext final : public policy::ContextProvider {
 public:
  explicit StaticContext(std::shared_ptr<const policy::ContextSnapshot> s) : snapshot_(std::move(s)) {}
  std::shared_ptr<const policy::ContextSnapshot> Current() const override { return snapshot_; }
  // Like the Kubernetes-backed provider before its informers sync: a snapshot exists but is not yet complete.
  bool Ready() const override { return snapshot_ != nullptr && synced; }
  std::atomic<bool> synced{true};

 private:
  std::shared_ptr<const policy::ContextSnapshot> snapshot_;
};

// A server around custom handlers (real TLS on 127.0.0.1:0), for failure paths the production chain cannot
// produce on demand. `options.port` is forced to 0. Start() failures fail the test.
struct CustomServer {
  TempDir dir;
  CertificateStore certificates;
  WebhookMetrics metrics;
  StaticContext context;
  std::unique_ptr<WebhookServer> server;

  CustomServer(std::shared_ptr<const policy::ContextSnapshot> snapshot, WebhookEndpoints endpoints,
               ServerOptions options = {});
};

}  // namespace pipeguard::webhook::testing
