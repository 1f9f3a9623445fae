// The HTTPS admission server: a thin adapter from cpp-httplib to AdmissionHandlers, with hard limits at the
// boundary (DESIGN.md guideline 4).
//
// Routes (one table in server.cc):
//   POST /validate   AdmissionReview -> validating handler
//   POST /mutate     AdmissionReview -> mutating handler
//   GET  /healthz    200 while the process serves
//   GET  /readyz     200 once a context snapshot is loaded and TLS is listening; 503 otherwise and while draining
//   GET  /metrics    Prometheus text format
// Boundary replies: unknown path 404; wrong method 405 (with Allow); admission POST without a JSON content type
// 415; without Content-Length and not chunked 411; body over max_body_bytes 413 (bodies up to 4x the limit are
// read and discarded so the client sees the 413 on a usable connection; larger ones are refused unread and the
// connection is closed); malformed or non-AdmissionReview body 400 with an AdmissionReview error response.
// Slow clients meet per-read and per-write timeouts; idle keep-alive connections close after keep_alive_timeout,
// and any connection after keep_alive_max_count requests.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "pipeguard/policy/context.h"
#include "pipeguard/policy/status.h"
#include "pipeguard/webhook/admission.h"
#include "pipeguard/webhook/metrics.h"
#include "pipeguard/webhook/tls.h"

namespace pipeguard::webhook {

inline constexpr size_t kDefaultMaxBodyBytes = 3u << 20;  // 3 MiB: an object near etcd's 1.5 MiB limit, twice

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8443;  // 0 picks a free port; see WebhookServer::port()
  size_t max_body_bytes = kDefaultMaxBodyBytes;
  // Worker threads; each serves one connection at a time (keep-alive connections hold theirs while open).
  // 0 = min(64, max(8, 4 x hardware threads)).
  size_t worker_threads = 0;
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds write_timeout{10};
  std::chrono::seconds keep_alive_timeout{5};
  size_t keep_alive_max_count = 1000;
  int listen_backlog = 512;
};

struct WebhookEndpoints {
  AdmissionHandler validate;
  AdmissionHandler mutate;
};

class WebhookServer {
 public:
  // `certificates`, `context` and `metrics` must outlive the server; the handlers must be thread-safe.
  WebhookServer(ServerOptions options, const CertificateStore& certificates, const policy::ContextProvider& context,
                WebhookMetrics& metrics, WebhookEndpoints endpoints);
  ~WebhookServer();  // Shutdown() with no bound, then joins
  WebhookServer(const WebhookServer&) = delete;
  WebhookServer& operator=(const WebhookServer&) = delete;

  // Binds and listens on host:port, then serves on a background thread. Errors: TLS setup failed, or the address
  // cannot be bound. Call once.
  Status Start();
  // The bound port (after Start()).
  int port() const;
  // Ready: serving, not draining, and a context snapshot is loaded.
  bool ready() const;

  // Stops accepting new connections, lets running requests finish (connections close after their current
  // request; idle keep-alive connections within keep_alive_timeout), and waits up to `drain_timeout` for the
  // serving thread. Returns true when fully drained. Idempotent.
  bool Shutdown(std::chrono::milliseconds drain_timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pipeguard::webhook
