// pipeguard-webhook: wires the HTTPS admission server to the policy engine, the file-backed context, TLS
// rotation, metrics and the audit log. Exit codes: 0 clean shutdown, 1 cannot serve, 2 usage or input error.
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pipeguard/audit/background_audit.h"
#include "pipeguard/guardrails/guardrails.h"
#include "pipeguard/kube/config.h"
#include "pipeguard/kube/context_provider.h"
#include "pipeguard/kube/http_client.h"
#include "pipeguard/policy/engine.h"
#include "pipeguard/webhook/audit_log.h"
#include "pipeguard/webhook/decorators.h"
#include "pipeguard/webhook/file_context_provider.h"
#include "pipeguard/webhook/flags.h"
#include "pipeguard/webhook/guardrails.h"
#include "pipeguard/webhook/handlers.h"
#include "pipeguard/webhook/image_verification.h"
#include "pipeguard/webhook/logging.h"
#include "pipeguard/webhook/metrics.h"
#include "pipeguard/webhook/server.h"
#include "pipeguard/webhook/tls.h"

// jemalloc's settings (it reads this symbol at start; linked in Release builds, see cmake/Dependencies.cmake): a
// background thread hands freed pages back to the OS within about a second (the server also purges right after
// each large review), so memory taken by a burst of large reviews does not stay resident.
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0";
}

namespace {

using namespace pipeguard;
using namespace pipeguard::webhook;

// Longest wait for running requests after SIGTERM; Kubernetes' default grace period is 30 s.
constexpr std::chrono::seconds kDrainTimeout{20};

// Every open connection is a descriptor: raise the soft limit to the hard one (the cap the server enforces,
// ServerOptions::max_connections, is meant to bind first).
void RaiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// Writes the port to FILE.tmp and renames it over FILE, so readers never see a partial file.
Status WritePortFile(const std::string& path, int port) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << port << "\n";
    out.close();
    if (!out) return Status::InvalidArgument("--port-file " + path + ": cannot write " + temp);
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) return Status::InvalidArgument("--port-file " + path + ": cannot rename " + temp + ": " + ec.message());
  return Status::Ok();
}

using PrepareSnapshot = std::function<Status(const std::shared_ptr<const policy::ContextSnapshot>&)>;

// The running source of the policy context: files (reloaded when they change) or the Kubernetes API (informers;
// ready after the first full sync). The destructor stops it; the client outlives the provider (member order).
struct ContextSource {
  std::unique_ptr<kube::KubeClient> client;
  std::unique_ptr<FileContextProvider> files;
  std::unique_ptr<kube::KubeContextProvider> informers;

  const policy::ContextProvider& provider() const {
    if (files != nullptr) return *files;
    return *informers;
  }
  ~ContextSource() {
    if (files != nullptr) files->Stop();
    if (informers != nullptr) informers->Stop();
  }
};

StatusOr<std::unique_ptr<ContextSource>> StartFileContext(const WebhookFlags& flags, PrepareSnapshot prepare,
                                                          WebhookMetrics& metrics) {
  FileContextOptions options{flags.config_path, flags.context_paths, std::move(prepare)};
  auto files =
      FileContextProvider::Create(std::move(options), [&metrics](bool ok) { metrics.RecordReload("context", ok); });
  if (!files.ok()) return files.status();
  auto source = std::make_unique<ContextSource>();
  source->files = std::move(files).value();
  source->files->Start();
  return source;
}

// The configuration is read once (restart to change it; the chart rolls the pods when it changes); profiles,
// namespaces, service accounts and RBAC follow the cluster through watches.
StatusOr<std::unique_ptr<ContextSource>> StartKubernetesContext(const WebhookFlags& flags, PrepareSnapshot prepare,
                                                                WebhookMetrics& metrics) {
  auto config = LoadConfigFile(flags.config_path);
  if (!config.ok()) return config.status();
  kube::KubeconfigOptions kubeconfig;
  kubeconfig.path = flags.kubeconfig_path;
  auto client_config = flags.in_cluster ? kube::LoadInClusterConfig() : kube::LoadKubeconfig(kubeconfig);
  if (!client_config.ok()) {
    return Status(client_config.status().code(),
                  (flags.in_cluster ? "--in-cluster: " : "--kubeconfig " + flags.kubeconfig_path + ": ") +
                      client_config.status().message());
  }
  auto client = kube::NewHttpKubeClient(*client_config);
  if (!client.ok()) return client.status();
  kube::KubeContextOptions options;
  options.config = std::move(config).value();
  options.prepare = std::move(prepare);
  options.on_error = [&metrics](const Status&) { metrics.RecordReload("context", false); };
  options.on_rebuilt = [&metrics](uint64_t) { metrics.RecordReload("context", true); };
  auto source = std::make_unique<ContextSource>();
  source->client = std::move(client).value();
  auto informers = kube::KubeContextProvider::Create(*source->client, std::move(options));
  if (!informers.ok()) return informers.status();
  source->informers = std::move(informers).value();
  source->informers->Start();
  spdlog::info("policy context from the Kubernetes API at {} (readyz turns 200 after the first full sync)",
               client_config->server);
  return source;
}

// The background audit's image verdicts: the verification service of the snapshot's configuration (the webhook's
// cache, so a pass over images admission has seen costs no registry call), one review at a time.
audit::ImageVerdictsForSnapshot BackgroundImageVerdicts(const ImageVerifiers& verifiers) {
  return [&verifiers](const policy::ContextSnapshot& snapshot) -> audit::ImageVerdictsFor {
    std::shared_ptr<imageverify::ImageVerificationService> service = verifiers.For(snapshot);
    if (service == nullptr) return {};
    return [service](const policy::Review& review) {
      const registry::Deadline deadline = std::chrono::steady_clock::now() + service->config().deadline;
      return imageverify::MakeLookup(service->VerifyChecks(review.image_checks(), deadline));
    };
  };
}

// The background audit on the Kubernetes context's client (--background-audit); Start() it once serving.
std::unique_ptr<audit::BackgroundAudit> MakeBackgroundAudit(const WebhookFlags& flags, ContextSource& context,
                                                            const policy::Engine& engine,
                                                            const ImageVerifiers& verifiers,
                                                            audit::AuditMetrics& metrics) {
  audit::BackgroundAuditOptions options;
  options.period = std::chrono::seconds(flags.audit_period_seconds);
  options.writes_per_second = flags.audit_writes_per_second;
  options.metrics = &metrics;
  if (!flags.audit_lease.empty()) {
    kube::LeaderElectionConfig election;
    const size_t slash = flags.audit_lease.find('/');
    election.lease_namespace = flags.audit_lease.substr(0, slash);
    election.lease_name = flags.audit_lease.substr(slash + 1);
    const char* pod = std::getenv("POD_NAME");
    char host[256] = {};
    if (pod == nullptr || *pod == '\0') gethostname(host, sizeof host - 1);
    election.identity = pod != nullptr && *pod != '\0' ? pod : host;
    options.leader_election = std::move(election);
  }
  return std::make_unique<audit::BackgroundAudit>(*context.client, context.provider(), engine,
                                                  BackgroundImageVerdicts(verifiers), std::move(options));
}

int Run(const WebhookFlags& flags) {
  // Signals are taken synchronously by this thread; block them before any other thread starts.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  RaiseOpenFileLimit();

  policy::ProfileCheck profile_check;
  if (!flags.guardrails_config_path.empty()) {
    auto guardrails = LoadGuardrailsFile(flags.guardrails_config_path);
    if (!guardrails.ok()) {
      spdlog::critical("cannot load --guardrails-config: {}", guardrails.status().message());
      return 2;
    }
    profile_check = guardrails::GuardrailsProfileCheck(std::move(guardrails).value());
  }

  WebhookMetrics metrics;
  CertificateStore certificates;
  auto watcher = CertificateWatcher::Create(flags.tls_cert_path, flags.tls_key_path, certificates,
                                            [&metrics](bool ok) { metrics.RecordReload("tls", ok); });
  if (!watcher.ok()) {
    spdlog::critical("cannot load the TLS pair: {}", watcher.status().message());
    return 2;
  }
  // One verification service per configuration, rebuilt on reloads that change images.*, sharing one cache.
  imageverify::ServiceOptions image_options;
  image_options.metrics = std::make_shared<PrometheusImageMetrics>(metrics.registry());
  ImageVerifiers verifiers(std::move(image_options));
  auto prepare = [&verifiers](const std::shared_ptr<const policy::ContextSnapshot>& snapshot) {
    return verifiers.Prepare(snapshot);
  };
  auto context = flags.UsesKubernetesContext() ? StartKubernetesContext(flags, prepare, metrics)
                                               : StartFileContext(flags, prepare, metrics);
  if (!context.ok()) {
    spdlog::critical("cannot load the policy context: {}", context.status().message());
    return 2;
  }

  const policy::Engine engine(std::move(profile_check));
  std::unique_ptr<ContextSource> context_source = std::move(context).value();
  // With the background audit, its informers index which workloads read which ConfigMaps, and the handlers see that
  // index through the context (a ConfigMap created after the governed pods that read it is judged as theirs).
  std::unique_ptr<audit::AuditMetrics> audit_metrics;
  std::unique_ptr<audit::BackgroundAudit> background_audit;
  std::unique_ptr<ContextWithConfigMapReaders> context_with_readers;
  if (flags.background_audit) {
    audit_metrics = std::make_unique<audit::AuditMetrics>(metrics.registry());
    background_audit = MakeBackgroundAudit(flags, *context_source, engine, verifiers, *audit_metrics);
    context_with_readers = std::make_unique<ContextWithConfigMapReaders>(
        context_source->provider(), [audit = background_audit.get()](const std::string& ns, const std::string& name) {
          return audit->ConfigMapReaders(ns, name);
        });
  }
  const policy::ContextProvider& current_context =
      context_with_readers != nullptr ? *context_with_readers : context_source->provider();
  const AuditSink audit = StdoutAuditSink();
  auto on_panic = [&metrics](std::string_view) { metrics.RecordPanic(); };
  WebhookEndpoints endpoints;
  endpoints.validate =
      WithMetrics(WithAuditLog(WithPanicGuard(MakeValidatingHandler(engine, current_context, verifiers), on_panic),
                               audit, "validate"),
                  metrics, "validate");
  endpoints.mutate = WithMetrics(
      WithAuditLog(WithPanicGuard(MakeMutatingHandler(current_context, verifiers), on_panic), audit, "mutate"), metrics,
      "mutate");

  ServerOptions options;
  options.host = flags.host;
  options.port = flags.port;
  options.max_body_bytes = flags.max_body_bytes;
  WebhookServer server(options, certificates, current_context, metrics, std::move(endpoints));
  if (auto status = server.Start(); !status.ok()) {
    spdlog::critical("{}", status.message());
    return 1;
  }
  if (!flags.port_file.empty()) {
    if (auto status = WritePortFile(flags.port_file, server.port()); !status.ok()) {
      spdlog::critical("{}", status.message());
      server.Shutdown(kDrainTimeout);
      return 1;
    }
  }
  (*watcher)->Start();
  if (background_audit != nullptr) {
    background_audit->Start();
    spdlog::info(
        "background audit on: PolicyReports per namespace, every {} s and on every change{}; ConfigMap "
        "readers indexed for admission",
        flags.audit_period_seconds, flags.audit_lease.empty() ? "" : ", leader-elected on " + flags.audit_lease);
  }
  spdlog::info("pipeguard-webhook listening on https://{}:{} (max body {} bytes, {} max connections)", flags.host,
               server.port(), flags.max_body_bytes, options.max_connections);

  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) != 0) {
  }
  spdlog::info(
      "received {}, draining: readiness fails, no new connections, idle connections closed, running requests "
      "answered with Connection: close (up to {} s)",
      signal_number == SIGTERM ? "SIGTERM" : "SIGINT", kDrainTimeout.count());
  server.StartDraining();
  const bool drained = server.Shutdown(kDrainTimeout);
  (*watcher)->Stop();
  if (background_audit != nullptr) background_audit->Stop();
  context_source.reset();
  if (!drained) {
    spdlog::warn("drain timeout reached with requests still running; exiting anyway");
    spdlog::default_logger()->flush();
    std::fflush(stdout);
    std::_Exit(0);  // worker threads still hold references to objects on this stack
  }
  spdlog::info("drained; exiting");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  auto flags = ParseWebhookFlags(args);
  if (!flags.ok()) {
    std::fprintf(stderr, "pipeguard-webhook: %s\n\n%s", flags.status().message().c_str(), WebhookUsage().c_str());
    return 2;
  }
  if (flags->help) {
    std::fputs(WebhookUsage().c_str(), stdout);
    return 0;
  }
  auto level = ParseLogLevel(flags->log_level);
  if (!level.ok()) {
    std::fprintf(stderr, "pipeguard-webhook: --log-level: %s\n", level.status().message().c_str());
    return 2;
  }
  InitJsonLogging(*level);
  try {
    return Run(*flags);
  } catch (const std::exception& e) {
    spdlog::critical("pipeguard-webhook stopped by an unexpected error ({})", typeid(e).name());
    return 1;
  }
}
