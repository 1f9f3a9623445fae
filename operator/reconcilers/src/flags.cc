#include "pipeguard/reconcilers/flags.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>

namespace pipeguard::reconcilers {

std::string OperatorUsage() {
  return "usage: pipeguard-operator --config FILE [--kubeconfig PATH] [--aws-endpoint URL]\n"
         "         [--metrics-listen HOST:PORT] [--leader-election-namespace NS] [--leader-election-id NAME]\n"
         "         [--identity ID] [--workers N] [--resync DURATION] [--namespace NS]\n"
         "         [--webhook-configurations FILE [--webhook-configurations-configmap NS/NAME]]\n";
}

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  long long n = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (error != std::errc() || n <= 0) return std::nullopt;
  const std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  if (unit == "ms") return std::chrono::milliseconds(n);
  if (unit == "s") return std::chrono::seconds(n);
  if (unit == "m") return std::chrono::minutes(n);
  if (unit == "h") return std::chrono::hours(n);
  return std::nullopt;
}

StatusOr<OperatorFlags> ParseOperatorFlags(const std::vector<std::string>& args) {
  static constexpr std::array<std::string_view, 12> kKnown = {"--kubeconfig",
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
  std::map<std::string, std::string, std::less<>> given;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "--help" || arg == "-h") return OperatorFlags{.help = true};
    std::string value;
    if (const size_t eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return Status::InvalidArgument(arg + " needs a value");
    }
    if (std::find(kKnown.begin(), kKnown.end(), arg) == kKnown.end()) {
      return Status::InvalidArgument("unknown flag " + arg);
    }
    given[arg] = value;
  }
  auto take = [&given](std::string_view flag) -> std::optional<std::string> {
    auto it = given.find(flag);
    if (it == given.end()) return std::nullopt;
    return it->second;
  };

  OperatorFlags flags;
  const auto config = take("--config");
  if (!config) return Status::InvalidArgument("--config FILE (the guardrails::OperatorConfig YAML) is required");
  flags.config = *config;
  flags.kubeconfig = take("--kubeconfig");
  flags.aws_endpoint = take("--aws-endpoint");
  flags.metrics_listen = take("--metrics-listen").value_or(flags.metrics_listen);
  flags.identity = take("--identity");
  flags.namespace_ = take("--namespace").value_or("");
  flags.webhook_configurations = take("--webhook-configurations");

  if (const auto workers = take("--workers")) {
    int n = 0;
    const auto [end, error] = std::from_chars(workers->data(), workers->data() + workers->size(), n);
    if (error != std::errc() || end != workers->data() + workers->size() || n < 1 || n > 64) {
      return Status::InvalidArgument("--workers must be a number in 1..64");
    }
    flags.workers = n;
  }
  if (const auto resync = take("--resync")) {
    flags.resync = ParseDuration(*resync);
    if (!flags.resync) {
      return Status::InvalidArgument("--resync \"" + *resync + "\": expected a duration such as 30s, 10m or 1h");
    }
  }
  const auto le_namespace = take("--leader-election-namespace");
  const auto le_id = take("--leader-election-id");
  if (le_namespace.has_value() != le_id.has_value()) {
    return Status::InvalidArgument("--leader-election-namespace and --leader-election-id go together");
  }
  flags.leader_election = le_id.has_value();
  flags.leader_election_namespace = le_namespace.value_or("");
  flags.leader_election_id = le_id.value_or("");
  if (const auto ref = take("--webhook-configurations-configmap")) {
    const size_t slash = ref->find('/');
    if (!flags.webhook_configurations || slash == std::string::npos || slash == 0 || slash + 1 == ref->size() ||
        ref->find('/', slash + 1) != std::string::npos) {
      return Status::InvalidArgument("--webhook-configurations-configmap \"" + *ref +
                                     "\": expected NAMESPACE/NAME, together with --webhook-configurations");
    }
    flags.webhook_configmap_namespace = ref->substr(0, slash);
    flags.webhook_configmap_name = ref->substr(slash + 1);
  }
  return flags;
}

}  // namespace pipeguard::reconcilers
