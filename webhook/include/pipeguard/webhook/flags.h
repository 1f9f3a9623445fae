// Command-line flags of `pipeguard-webhook`. The demo script and the end-to-end tests depend on these names.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/webhook/server.h"

namespace pipeguard::webhook {

struct WebhookFlags {
  std::string config_path;                 // --config FILE (optional)
  std::vector<std::string> context_paths;  // --context PATH (repeatable)
  std::string kubeconfig_path;             // --kubeconfig PATH: context from the API server
  bool in_cluster = false;                 // --in-cluster: context from the API server, in-cluster credentials
  std::string guardrails_config_path;      // --guardrails-config FILE (optional; see guardrails.h)
  std::string tls_cert_path;               // --tls-cert FILE (required)
  std::string tls_key_path;                // --tls-key FILE (required)
  std::string host = "127.0.0.1";          // --listen HOST:PORT
  int port = 8443;
  std::string port_file;                         // --port-file FILE
  size_t max_body_bytes = kDefaultMaxBodyBytes;  // --max-body-bytes N
  std::string log_level = "info";                // --log-level LEVEL
  bool background_audit = false;                 // --background-audit (needs --kubeconfig or --in-cluster)
  int audit_period_seconds = 600;                // --audit-period-seconds N
  double audit_writes_per_second = 10;           // --audit-writes-per-second N
  std::string audit_lease;                       // --audit-lease NAMESPACE/NAME: leader election among replicas
  bool help = false;                             // --help

  // True when the context comes from the Kubernetes API (--kubeconfig or --in-cluster) instead of files.
  bool UsesKubernetesContext() const { return in_cluster || !kubeconfig_path.empty(); }
};

// Parses argv[1..]. Accepts "--flag value" and "--flag=value". Errors say which flag and what is expected; the
// caller prints them with Usage() and exits 2.
StatusOr<WebhookFlags> ParseWebhookFlags(const std::vector<std::string>& args);

std::string WebhookUsage();

// Splits "HOST:PORT" ("[::1]:8443" for IPv6). Port 0..65535.
Status ParseListenAddress(const std::string& text, std::string& host, int& port);

}  // namespace pipeguard::webhook
