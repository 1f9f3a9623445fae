#include "pipeguard/webhook/flags.h"

#include <optional>
#include <string_view>

namespace pipeguard::webhook {

namespace {

std::optional<unsigned long long> ParseUnsigned(const std::string& text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  unsigned long long value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned long long>(c - '0');
  }
  return value;
}

}  // namespace

std::string WebhookUsage() {
  return R"(Usage: pipeguard-webhook --tls-cert FILE --tls-key FILE [options]

Serves the pipeguard validating admission webhook over HTTPS:
  POST /validate, POST /mutate (admission.k8s.io/v1 AdmissionReview), GET /healthz, /readyz, /metrics.

Options:
  --tls-cert FILE        PEM certificate (chain) to serve; reloaded when the file changes (required)
  --tls-key FILE         PEM private key matching --tls-cert; reloaded with it (required)
  --config FILE          pipeguard configuration (YAML); default: built-in (enforce, images.verify: true)
  --context PATH         file or directory of context objects: PipelineSecurityProfiles, Namespaces,
                         ServiceAccounts, Roles, ClusterRoles, RoleBindings, ClusterRoleBindings
                         (repeatable; reloaded when files change)
  --kubeconfig PATH      read the context from the Kubernetes API (informers on PipelineSecurityProfiles,
                         Namespaces, ServiceAccounts and RBAC; needs get/list/watch on them) with this kubeconfig
  --in-cluster           the same, with the pod's service-account token and CA (KUBERNETES_SERVICE_HOST);
                         /readyz stays 503 until the first full sync. Not combinable with --context
  --guardrails-config FILE
                         platform guardrails for PipelineSecurityProfiles (rule profile-guardrail): the operator's
                         configuration file (its guardrails: key; the whole file is validated as the operator does)
                         or a bare guardrails document; read once at start. Default: no guardrail checks
  --listen HOST:PORT     address to listen on (default 127.0.0.1:8443; port 0 picks a free port)
  --port-file FILE       write the bound port to FILE once listening (atomically)
  --max-body-bytes N     largest accepted request body (default 3145728 = 3 MiB); larger bodies get 413
  --log-level LEVEL      trace, debug, info, warn, error, critical or off (default info)
  --background-audit     also judge what is already stored (Pods, Jobs, CronJobs, Deployments, SparkApplications)
                         with the same engine and context, and keep one wgpolicyk8s.io PolicyReport per namespace
                         (needs --kubeconfig or --in-cluster, list/watch on those kinds, write on policyreports)
  --audit-period-seconds N
                         re-judge every namespace at least every N seconds (default 600; changes are judged
                         within a second)
  --audit-writes-per-second N
                         at most N PolicyReport writes per second (default 10)
  --audit-lease NAMESPACE/NAME
                         with several replicas: only the holder of this Lease writes reports (default: this
                         process always writes; the identity is $POD_NAME, else the host name)
  --help                 print this help

Audit lines (one JSON object per admission decision) go to standard output; application logs (JSON lines) to
standard error. SIGTERM or SIGINT stops accepting connections, finishes running requests, and exits 0.
Exit codes: 0 after a clean shutdown, 1 when the server cannot run, 2 on usage or input errors.
)";
}

Status ParseListenAddress(const std::string& text, std::string& host, int& port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    return Status::InvalidArgument("--listen must be HOST:PORT, e.g. 127.0.0.1:8443 (got \"" + text + "\")");
  }
  std::string h = text.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty()) return Status::InvalidArgument("--listen needs a host, e.g. 127.0.0.1:8443 or 0.0.0.0:8443");
  const auto p = ParseUnsigned(text.substr(colon + 1));
  if (!p || *p > 65535) {
    return Status::InvalidArgument("--listen port must be a number from 0 to 65535 (got \"" + text.substr(colon + 1) +
                                   "\")");
  }
  host = std::move(h);
  port = static_cast<int>(*p);
  return Status::Ok();
}

StatusOr<WebhookFlags> ParseWebhookFlags(const std::vector<std::string>& args) {
  WebhookFlags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    std::optional<std::string> inline_value;
    if (arg.rfind("--", 0) == 0) {
      if (const size_t eq = arg.find('='); eq != std::string::npos) {
        inline_value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      }
    }
    if (arg == "--help" || arg == "-h") {
      if (inline_value) return Status::InvalidArgument("--help takes no value");
      flags.help = true;
      continue;
    }
    if (arg == "--in-cluster") {
      if (inline_value) return Status::InvalidArgument("--in-cluster takes no value");
      flags.in_cluster = true;
      continue;
    }
    if (arg == "--background-audit") {
      if (inline_value) return Status::InvalidArgument("--background-audit takes no value");
      flags.background_audit = true;
      continue;
    }
    static constexpr std::string_view kValued[] = {"--config",
                                                   "--context",
                                                   "--tls-cert",
                                                   "--tls-key",
                                                   "--listen",
                                                   "--port-file",
                                                   "--max-body-bytes",
                                                   "--log-level",
                                                   "--guardrails-config",
                                                   "--kubeconfig",
                                                   "--audit-period-seconds",
                                                   "--audit-writes-per-second",
                                                   "--audit-lease"};
    bool known = false;
    for (auto name : kValued) known |= arg == name;
    if (!known) {
      if (arg.rfind("-", 0) == 0) return Status::InvalidArgument("unknown flag " + arg + " (see --help)");
      return Status::InvalidArgument("unexpected argument \"" + arg + "\"; pipeguard-webhook takes only flags");
    }
    std::string value;
    if (inline_value) {
      value = *inline_value;
    } else {
      if (i + 1 >= args.size()) return Status::InvalidArgument(arg + " needs a value (see --help)");
      value = args[++i];
    }
    if (value.empty()) return Status::InvalidArgument(arg + " needs a non-empty value");
    if (arg == "--config") {
      flags.config_path = value;
    } else if (arg == "--context") {
      flags.context_paths.push_back(value);
    } else if (arg == "--kubeconfig") {
      flags.kubeconfig_path = value;
    } else if (arg == "--guardrails-config") {
      flags.guardrails_config_path = value;
    } else if (arg == "--tls-cert") {
      flags.tls_cert_path = value;
    } else if (arg == "--tls-key") {
      flags.tls_key_path = value;
    } else if (arg == "--listen") {
      if (auto s = ParseListenAddress(value, flags.host, flags.port); !s.ok()) return s;
    } else if (arg == "--port-file") {
      flags.port_file = value;
    } else if (arg == "--max-body-bytes") {
      const auto n = ParseUnsigned(value);
      if (!n || *n < 1024 || *n > (1ull << 30)) {
        return Status::InvalidArgument("--max-body-bytes must be a byte count from 1024 to 1073741824 (got \"" + value +
                                       "\")");
      }
      flags.max_body_bytes = static_cast<size_t>(*n);
    } else if (arg == "--log-level") {
      flags.log_level = value;
    } else if (arg == "--audit-period-seconds") {
      const auto n = ParseUnsigned(value);
      if (!n || *n < 10 || *n > 86400) {
        return Status::InvalidArgument("--audit-period-seconds must be a number of seconds from 10 to 86400 (got \"" +
                                       value + "\")");
      }
      flags.audit_period_seconds = static_cast<int>(*n);
    } else if (arg == "--audit-writes-per-second") {
      const auto n = ParseUnsigned(value);
      if (!n || *n < 1 || *n > 1000) {
        return Status::InvalidArgument("--audit-writes-per-second must be a whole number from 1 to 1000 (got \"" +
                                       value + "\")");
      }
      flags.audit_writes_per_second = static_cast<double>(*n);
    } else if (arg == "--audit-lease") {
      const size_t slash = value.find('/');
      if (slash == std::string::npos || slash == 0 || slash + 1 == value.size() ||
          value.find('/', slash + 1) != std::string::npos) {
        return Status::InvalidArgument("--audit-lease must be NAMESPACE/NAME, e.g. pipeguard/pipeguard-audit (got \"" +
                                       value + "\")");
      }
      flags.audit_lease = value;
    }
  }
  if (flags.help) return flags;
  if (!flags.kubeconfig_path.empty() && flags.in_cluster) {
    return Status::InvalidArgument(
        "--kubeconfig and --in-cluster are two ways to reach the API server; give one (--in-cluster inside a pod)");
  }
  if (flags.UsesKubernetesContext() && !flags.context_paths.empty()) {
    return Status::InvalidArgument(
        "--context reads profiles and RBAC from files, --kubeconfig/--in-cluster from the API server; give one "
        "source (the Helm value context.source chooses it)");
  }
  if (flags.background_audit && !flags.UsesKubernetesContext()) {
    return Status::InvalidArgument(
        "--background-audit judges what is stored in a cluster: it needs --kubeconfig or --in-cluster");
  }
  if (!flags.audit_lease.empty() && !flags.background_audit) {
    return Status::InvalidArgument(
        "--audit-lease elects the replica that writes audit reports: add --background-audit");
  }
  if (flags.tls_cert_path.empty() || flags.tls_key_path.empty()) {
    return Status::InvalidArgument(
        "--tls-cert and --tls-key are required (the webhook serves HTTPS only; for a local run generate a pair "
        "with: openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 -subj /CN=localhost "
        "-addext subjectAltName=IP:127.0.0.1 -keyout key.pem -out cert.pem)");
  }
  return flags;
}

}  // namespace pipeguard::webhook
