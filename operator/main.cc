// pipeguard-operator: reconciles PipelineSecurityProfiles into ServiceAccounts, IAM roles and NetworkPolicies, and
// guards pipeguard's own webhook configurations. Flags: operator/reconcilers/include/pipeguard/reconcilers/flags.h.
// --webhook-configurations: the desired Validating/MutatingWebhookConfigurations (the chart renders them into a
// ConfigMap); the operator restores them when they are deleted or changed (webhook_guard.h), with Warning Events in
// the namespace "default" (the only one, besides kube-system, the API accepts for cluster-scoped objects).
// --webhook-configurations-configmap: the ConfigMap that file is mounted from (key webhook-configurations.yaml);
// watched, and read again before every restore, so that helm upgrade is followed and helm uninstall (which deletes
// it) is not undone.
// Without --kubeconfig: in-cluster configuration when KUBERNETES_SERVICE_HOST is set, else the default kubeconfig.
// AWS credentials: the environment (AWS_ACCESS_KEY_ID, ...) or IRSA (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE).
// SIGTERM/SIGINT: stop reconciling, release the leader lease, exit 0. Exit 2 on a usage or configuration error.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <vector>

#include "pipeguard/aws/credentials.h"
#include "pipeguard/aws/iam.h"
#include "pipeguard/aws/service_client.h"
#include "pipeguard/aws/sts.h"
#include "pipeguard/desired/webhook_tamper.h"
#include "pipeguard/guardrails/config.h"
#include "pipeguard/kube/config.h"
#include "pipeguard/kube/http_client.h"
#include "pipeguard/reconcilers/counting_kube_client.h"
#include "pipeguard/reconcilers/flags.h"
#include "pipeguard/reconcilers/iam_api.h"
#include "pipeguard/reconcilers/metrics.h"
#include "pipeguard/reconcilers/profile_controller.h"
#include "pipeguard/reconcilers/reconciler.h"
#include "pipeguard/reconcilers/webhook_guard.h"

namespace {

using namespace pipeguard;
using namespace pipeguard::reconcilers;

int UsageError(const std::string& message) {
  std::cerr << "pipeguard-operator: " << message << "\n" << OperatorUsage();
  return 2;
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) return std::nullopt;
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace

int main(int argc, char** argv) {
  auto flags = ParseOperatorFlags(std::vector<std::string>(argv + 1, argv + argc));
  if (!flags.ok()) return UsageError(flags.status().message());
  if (flags->help) {
    std::cout << OperatorUsage();
    return 0;
  }
  const auto config_text = ReadFile(flags->config);
  if (!config_text) return UsageError("cannot read --config " + flags->config);
  auto config = guardrails::ParseOperatorConfig(*config_text, flags->config);
  if (!config.ok()) return UsageError(config.status().message());

  std::vector<nlohmann::json> desired_webhooks;
  if (flags->webhook_configurations) {
    const auto text = ReadFile(*flags->webhook_configurations);
    if (!text) return UsageError("cannot read --webhook-configurations " + *flags->webhook_configurations);
    auto parsed = desired::ParseDesiredWebhookConfigurations(*text, *flags->webhook_configurations);
    if (!parsed.ok()) return UsageError(parsed.status().message());
    desired_webhooks = std::move(parsed).value();
  }
  const int workers = flags->workers;
  const std::chrono::milliseconds resync = flags->resync.value_or(config->resync_period);
  const bool leader_election = flags->leader_election;

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  kube::KubeconfigOptions kube_options;
  if (flags->kubeconfig) kube_options.path = *flags->kubeconfig;
  auto kube_config = flags->kubeconfig ? kube::LoadKubeconfig(kube_options) : kube::LoadDefaultConfig(kube_options);
  if (!kube_config.ok()) return UsageError(kube_config.status().message());
  auto kube_client = kube::NewHttpKubeClient(*kube_config);
  if (!kube_client.ok()) return UsageError(kube_client.status().message());

  OperatorMetrics metrics;
  CountingKubeClient kube(**kube_client, metrics);  // every API request counted by verb and resource
  auto http = aws::MakeHttplibAwsHttpClient();
  aws::SystemRandom random;
  const char* region_env = std::getenv("AWS_REGION");
  aws::ServiceConfig sts_config = aws::StsServiceConfig(region_env != nullptr ? region_env : "us-east-1");
  aws::ServiceConfig iam_config = aws::IamServiceConfig();
  if (flags->aws_endpoint) {
    auto endpoint = aws::Endpoint::Parse(*flags->aws_endpoint);
    if (!endpoint.ok()) return UsageError("--aws-endpoint: " + endpoint.error().message);
    iam_config.endpoint = *endpoint;
    sts_config.endpoint = *endpoint;
  }
  aws::ServiceClient sts_service(sts_config, *http, nullptr, aws::SystemClock(), random, metrics.AwsCallObserver());
  aws::StsClient sts(sts_service);
  auto credentials = aws::MakeDefaultCredentialsChain(aws::ProcessEnvironment(), sts, aws::SystemClock());
  aws::ServiceClient iam_service(iam_config, *http, credentials.get(), aws::SystemClock(), random,
                                 metrics.AwsCallObserver());
  aws::IamClient iam_client(iam_service);
  IamClientApi iam(iam_client);

  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  const std::string identity = flags->identity.value_or(std::string(host) + "_" + std::to_string(getpid()));

  ProfileReconcilerOptions reconciler_options;
  reconciler_options.config = *config;
  reconciler_options.reporting_instance = identity;
  reconciler_options.metrics = &metrics;
  ProfileReconciler reconciler(kube, iam, reconciler_options);

  ProfileControllerOptions controller_options;
  controller_options.workers = workers;
  controller_options.resync_period = resync;
  controller_options.metrics = &metrics;
  controller_options.namespace_ = flags->namespace_;
  if (leader_election) {
    kube::LeaderElectionConfig le;
    le.lease_namespace = flags->leader_election_namespace;
    le.lease_name = flags->leader_election_id;
    le.identity = identity;
    if (Status s = kube::ValidateLeaderElectionConfig(le); !s.ok()) return UsageError(s.message());
    controller_options.leader_election = le;
  }
  std::unique_ptr<WebhookGuard> guard;
  if (!desired_webhooks.empty()) {
    WebhookGuardOptions guard_options;
    guard_options.desired = desired_webhooks;
    guard_options.reporting_instance = identity;
    guard_options.leader = !leader_election;
    guard_options.metrics = &metrics;
    guard_options.desired_configmap_namespace = flags->webhook_configmap_namespace;
    guard_options.desired_configmap_name = flags->webhook_configmap_name;
    guard = std::make_unique<WebhookGuard>(kube, guard_options);
    if (controller_options.leader_election) {
      WebhookGuard* g = guard.get();
      controller_options.leader_election->on_started_leading = [g] { g->SetLeader(true); };
      controller_options.leader_election->on_stopped_leading = [g] { g->SetLeader(false); };
    }
  }
  ProfileController controller(kube, reconciler, controller_options);

  MetricsServer server(metrics, [&controller, &guard] { return controller.Ready() && (!guard || guard->Ready()); });
  if (Status s = server.Start(flags->metrics_listen); !s.ok()) return UsageError(s.message());
  spdlog::info(
      "pipeguard-operator {} starting: cluster {}, {} workers, resync {} s, metrics on port {}{}, guarding {} "
      "webhook configurations",
      identity, config->cluster_name, workers, std::chrono::duration_cast<std::chrono::seconds>(resync).count(),
      server.port(), leader_election ? ", leader election on" : "", desired_webhooks.size());
  if (guard) guard->Start();
  controller.Start();

  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) != 0) {
  }
  spdlog::info("pipeguard-operator: signal {}, stopping", signal_number);
  controller.Stop();
  if (guard) guard->Stop();
  server.Stop();
  spdlog::info("pipeguard-operator: stopped");
  return 0;
}
