// pipeguard-operator: reconciles PipelineSecurityProfiles into ServiceAccounts, IAM roles and NetworkPolicies.
//
//   pipeguard-operator --config operator.yaml [--kubeconfig PATH] [--aws-endpoint URL] [--metrics-listen HOST:PORT]
//                      [--leader-election-namespace NS --leader-election-id NAME] [--identity ID]
//                      [--workers N] [--resync DURATION] [--namespace NS] [--webhook-configurations FILE
//                      [--webhook-configurations-configmap NS/NAME]]
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
#include <map>
#include <memory>
#include <sstream>
#include <vector>

#include "pipeguard/aws/credentials.h"
#include "pipeguard/aws/iam.h"
#include "pipeguard/aws/service_client.h"
#include "pipeguard/aws/sts.h"
#include "pipeguard/guardrails/config.h"
#include "pipeguard/kube/config.h"
#include "pipeguard/kube/http_client.h"
#include "pipeguard/operator/counting_kube_client.h"
#include "pipeguard/operator/iam_api.h"
#include "pipeguard/operator/metrics.h"
#include "pipeguard/operator/profile_controller.h"
#include "pipeguard/operator/reconciler.h"
#include "pipeguard/operator/webhook_guard.h"
#include "pipeguard/operator/webhook_tamper.h"

namespace {

using namespace pipeguard;
using namespace pipeguard::reconcilers;

constexpr const char* kUsage =
    "usage: pipeguard-operator --config FILE [--kubeconfig PATH] [--aws-endpoint URL]\n"
    "         [--metrics-listen HOST:PORT] [--leader-election-namespace NS] [--leader-election-id NAME]\n"
    "         [--identity ID] [--workers N] [--resync DURATION] [--namespace NS]\n"
    "         [--webhook-configurations FILE [--webhook-configurations-configmap NS/NAME]]\n";

int UsageError(const std::string& message) {
  std::cerr << "pipeguard-operator: " << message << "\n" << kUsage;
  return 2;
}

// "90s", "10m", "1h", "500ms".
std::optional<std::chrono::milliseconds> ParseDuration(const std::string& text) {
  size_t used = 0;
  long long n = 0;
  try {
    n = std::stoll(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  const std::string unit = text.substr(used);
  if (n <= 0) return std::nullopt;
  if (unit == "ms") return std::chrono::milliseconds(n);
  if (unit == "s") return std::chrono::seconds(n);
  if (unit == "m") return std::chrono::minutes(n);
  if (unit == "h") return std::chrono::hours(n);
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags = {{"--metrics-listen", "0.0.0.0:8080"}, {"--workers", "2"}};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    std::string value;
    const size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return UsageError(arg + " needs a value");
    }
    static const char* const kKnown[] = {"--kubeconfig",
                                         "--config",
                                         "--aws-endpoint",
                                         "--metrics-listen",
                                         "--leader-election-namespace",
                                         "--leader-election-id",
                                         "--identity",
                                         "--workers",
                                         "--resync",
                                         "--namespace",
                                         "--webhook-configurations",
                                         "--webhook-configurations-configmap"};
    if (std::find(std::begin(kKnown), std::end(kKnown), arg) == std::end(kKnown)) {
      return UsageError("unknown flag " + arg);
    }
    flags[arg] = value;
  }
  if (flags.count("--config") == 0) return UsageError("--config FILE (the OperatorConfig YAML) is required");

  std::ifstream config_file(flags["--config"]);
  if (!config_file) return UsageError("cannot read --config " + flags["--config"]);
  std::stringstream config_text;
  config_text << config_file.rdbuf();
  auto config = ParseOperatorConfig(config_text.str(), flags["--config"]);
  if (!config.ok()) return UsageError(config.status().message());

  std::vector<nlohmann::json> desired_webhooks;
  if (flags.count("--webhook-configurations") != 0) {
    std::ifstream file(flags["--webhook-configurations"]);
    if (!file) return UsageError("cannot read --webhook-configurations " + flags["--webhook-configurations"]);
    std::stringstream text;
    text << file.rdbuf();
    auto parsed = ParseDesiredWebhookConfigurations(text.str(), flags["--webhook-configurations"]);
    if (!parsed.ok()) return UsageError(parsed.status().message());
    desired_webhooks = std::move(parsed).value();
  }
  std::string desired_configmap_namespace, desired_configmap_name;
  if (flags.count("--webhook-configurations-configmap") != 0) {
    const std::string& ref = flags["--webhook-configurations-configmap"];
    const size_t slash = ref.find('/');
    if (desired_webhooks.empty() || slash == std::string::npos || slash == 0 || slash + 1 == ref.size() ||
        ref.find('/', slash + 1) != std::string::npos) {
      return UsageError("--webhook-configurations-configmap \"" + ref +
                        "\": expected NAMESPACE/NAME, together with --webhook-configurations");
    }
    desired_configmap_namespace = ref.substr(0, slash);
    desired_configmap_name = ref.substr(slash + 1);
  }

  int workers = 0;
  try {
    workers = std::stoi(flags["--workers"]);
  } catch (const std::exception&) {
  }
  if (workers < 1 || workers > 64) return UsageError("--workers must be a number in 1..64");
  std::chrono::milliseconds resync = config->resync_period;
  if (flags.count("--resync") != 0) {
    auto d = ParseDuration(flags["--resync"]);
    if (!d) return UsageError("--resync \"" + flags["--resync"] + "\": expected a duration such as 30s, 10m or 1h");
    resync = *d;
  }
  const bool leader_election = flags.count("--leader-election-namespace") != 0 || flags.count("--leader-election-id");
  if (leader_election &&
      (flags.count("--leader-election-namespace") == 0 || flags.count("--leader-election-id") == 0)) {
    return UsageError("--leader-election-namespace and --leader-election-id go together");
  }

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  kube::KubeconfigOptions kube_options;
  if (flags.count("--kubeconfig") != 0) kube_options.path = flags["--kubeconfig"];
  auto kube_config =
      flags.count("--kubeconfig") != 0 ? kube::LoadKubeconfig(kube_options) : kube::LoadDefaultConfig(kube_options);
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
  if (flags.count("--aws-endpoint") != 0) {
    auto endpoint = aws::Endpoint::Parse(flags["--aws-endpoint"]);
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
  const std::string identity =
      flags.count("--identity") != 0 ? flags["--identity"] : std::string(host) + "_" + std::to_string(getpid());

  ProfileReconcilerOptions reconciler_options;
  reconciler_options.config = *config;
  reconciler_options.reporting_instance = identity;
  reconciler_options.metrics = &metrics;
  ProfileReconciler reconciler(kube, iam, reconciler_options);

  ProfileControllerOptions controller_options;
  controller_options.workers = workers;
  controller_options.resync_period = resync;
  controller_options.metrics = &metrics;
  if (flags.count("--namespace") != 0) controller_options.namespace_ = flags["--namespace"];
  if (leader_election) {
    kube::LeaderElectionConfig le;
    le.lease_namespace = flags["--leader-election-namespace"];
    le.lease_name = flags["--leader-election-id"];
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
    guard_options.desired_configmap_namespace = desired_configmap_namespace;
    guard_options.desired_configmap_name = desired_configmap_name;
    guard = std::make_unique<WebhookGuard>(kube, guard_options);
    if (controller_options.leader_election) {
      WebhookGuard* g = guard.get();
      controller_options.leader_election->on_started_leading = [g] { g->SetLeader(true); };
      controller_options.leader_election->on_stopped_leading = [g] { g->SetLeader(false); };
    }
  }
  ProfileController controller(kube, reconciler, controller_options);

  MetricsServer server(metrics, [&controller, &guard] { return controller.Ready() && (!guard || guard->Ready()); });
  if (Status s = server.Start(flags["--metrics-listen"]); !s.ok()) return UsageError(s.message());
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
