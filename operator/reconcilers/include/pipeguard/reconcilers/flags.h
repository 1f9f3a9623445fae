// The pipeguard-operator command line, parsed without I/O (the files it names are read by main).
//
//   pipeguard-operator --config FILE [--kubeconfig PATH] [--aws-endpoint URL] [--metrics-listen HOST:PORT]
//                      [--leader-election-namespace NS --leader-election-id NAME] [--identity ID]
//                      [--workers N] [--resync DURATION] [--namespace NS] [--webhook-configurations FILE
//                      [--webhook-configurations-configmap NS/NAME]]
// Each flag takes a value, as "--flag value" or "--flag=value"; a repeated flag keeps the last value. --help / -h
// asks for the usage. Errors (InvalidArgument) say which flag is wrong and what is expected.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/base/status.h"

namespace pipeguard::reconcilers {

struct OperatorFlags {
  bool help = false;                      // --help or -h: print OperatorUsage(), nothing else is checked
  std::string config;                     // the guardrails::OperatorConfig YAML (required)
  std::optional<std::string> kubeconfig;  // absent: in-cluster when KUBERNETES_SERVICE_HOST is set, else the default
  std::optional<std::string> aws_endpoint;
  std::string metrics_listen = "0.0.0.0:8080";
  bool leader_election = false;           // --leader-election-namespace and --leader-election-id, both or neither
  std::string leader_election_namespace;  // as given (main validates them with the Lease configuration)
  std::string leader_election_id;
  std::optional<std::string> identity;                // absent: hostname_pid
  int workers = 2;                                    // 1..64
  std::optional<std::chrono::milliseconds> resync;    // absent: the configuration's resync period
  std::string namespace_;                             // "" = all namespaces
  std::optional<std::string> webhook_configurations;  // the desired webhook configurations file
  std::string webhook_configmap_namespace;            // with webhook_configurations: the ConfigMap it comes from
  std::string webhook_configmap_name;
};

std::string OperatorUsage();

// `args` without the program name.
StatusOr<OperatorFlags> ParseOperatorFlags(const std::vector<std::string>& args);

// A positive duration: "500ms", "90s", "10m", "1h". nullopt otherwise.
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);

}  // namespace pipeguard::reconcilers
