// The real KubeClient: HTTPS to the API server through cpp-httplib and OpenSSL.
//
// TLS: the server certificate is verified against ClientConfig::ca_pem only (the system store only when no CA is
// configured) and the URL host (or tls_server_name), unless insecure_skip_tls_verify. Client certificates and
// bearer tokens come from the ClientConfig; the token source is asked before every request (rotation).
//
// Thread-safety: all methods are thread-safe. Requests use a small pool of keep-alive connections (one connection
// per in-flight request); each Watch uses its own connection, closed when the watch ends.
//
// Process-wide effect: the first NewHttpKubeClient() sets SIGPIPE to SIG_IGN if it still has the default action
// (stopping a watch shuts its TLS socket down from another thread; a later write must fail with EPIPE, not kill
// the process).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "pipeguard/kube/client.h"
#include "pipeguard/kube/config.h"

namespace pipeguard::kube {

struct HttpClientOptions {
  std::chrono::seconds connect_timeout{5};
  std::chrono::seconds read_timeout{30};  // per read; watches use timeout_seconds + 30 s instead
  std::chrono::seconds write_timeout{30};
  size_t max_idle_connections = 4;
  size_t max_response_bytes = 256u << 20;   // larger responses fail with InvalidResponse
  size_t max_watch_line_bytes = 16u << 20;  // one watch event
  std::string user_agent = "pipeguard/0.1";
};

// Validates the configuration (URL, PEM material) and builds the client. Errors name the ClientConfig::source.
StatusOr<std::unique_ptr<KubeClient>> NewHttpKubeClient(const ClientConfig& config, HttpClientOptions options = {});

}  // namespace pipeguard::kube
