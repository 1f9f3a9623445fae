// The HTTPS admission server: an event-driven adapter from HTTP/1.1 over TLS to AdmissionHandlers, with hard
// limits at the boundary (DESIGN.md guideline 4).
//
// Serving model (Envoy's shape, on Boost.Asio/Beast): `event_loops` threads each run one io_context and own the
// connections handed to them for life; no loop thread ever waits on a peer, so idle, slow or hostile connections
// cost memory and a timer, never a thread. A review runs inline on its loop when it needs no registry call (its
// image verdicts are cached) and its body is small; a review that would wait on a registry, or a large one, runs on
// a separate pool of `handler_threads` with a bounded queue; a full queue is answered at once with 503 and
// Retry-After.
//
// Routes (one table in server.cc):
//   POST /validate   AdmissionReview -> validating handler
//   POST /mutate     AdmissionReview -> mutating handler
//   GET  /healthz    200 while the process serves
//   GET  /readyz     200 once a context snapshot is loaded and TLS is listening; 503 otherwise and while draining
//   GET  /metrics    Prometheus text format
// Boundary replies: unknown path 404; wrong method 405 (with Allow); admission POST without a JSON content type
// 415; without Content-Length and not chunked 411; headers over max_header_bytes or max_header_fields 431; body
// over max_body_bytes 413 (bodies up to 4x the limit are read and discarded so the client sees the 413 on a usable
// connection; larger ones are refused unread and the connection is closed); a connection whose headers or body
// do not arrive within their deadline is closed without a reply; malformed or non-AdmissionReview body 400 with an
// AdmissionReview error response; handler queue full 503. Every refusal that leaves the stream position unknown closes
// the connection after the reply.
//
// Deadlines (each a total for its phase, so dribbling bytes cannot extend it): TLS handshake, request headers
// (from the first byte of a request), request body, response write; an idle keep-alive connection closes after
// idle_timeout (longer than the API server's 90 s, so the client closes first). The handshake, header and idle
// deadlines are spread per connection (ServerOptions::deadline_spread). The handler deadline is the
// API server's `?timeout=Ns` (less a margin), capped at handler_timeout; it reaches the handler as
// AdmissionRequest::deadline.
//
// Overload: at max_connections, new connections are accepted and closed at once (counted as
// rejected{reason="connection_limit"}); above 90 % of it, replies carry Connection: close so clients spread out.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "pipeguard/base/status.h"
#include "pipeguard/policy/context.h"
#include "pipeguard/webhook/admission.h"
#include "pipeguard/webhook/metrics.h"
#include "pipeguard/webhook/tls.h"

namespace pipeguard::webhook {

inline constexpr size_t kDefaultMaxBodyBytes = 3u << 20;  // 3 MiB: an object near etcd's 1.5 MiB limit, twice

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8443;  // 0 picks a free port; see WebhookServer::port()
  size_t max_body_bytes = kDefaultMaxBodyBytes;
  size_t max_header_bytes = 16 * 1024;  // request line + header fields
  size_t max_header_fields = 64;

  // Event-loop threads that own connections; 0 = one per hardware thread.
  size_t event_loops = 0;
  // Threads that run admission handlers; 0 = max(4, 4 x hardware threads). Handlers wait on registries (image
  // verification), so this bounds how many reviews wait at once, not CPU.
  size_t handler_threads = 0;
  // Admission requests waiting for or running on a handler thread; beyond it, 503 at once.
  size_t max_pending_reviews = 1024;
  // Reviews up to this size run inline on their loop unless they need a registry call (imageverify::WouldBlock);
  // larger ones always go to the handler pool, so evaluating a huge object never stalls a loop's other connections.
  size_t max_inline_body_bytes = 256 * 1024;
  // Threads that evaluate those larger reviews: at most this many large DOMs exist at once (memory bound).
  size_t large_review_threads = 2;

  std::chrono::milliseconds handshake_timeout{5000};
  std::chrono::milliseconds header_timeout{5000};
  std::chrono::milliseconds body_timeout{10000};
  std::chrono::milliseconds write_timeout{10000};
  std::chrono::milliseconds idle_timeout{120000};
  // Each connection draws a share s from [0, deadline_spread] once: its handshake and header deadlines are the values
  // above times (1 - s), so they stay upper bounds, and its idle timeout times (1 + s), so it stays above the
  // client's. Connections opened together are then not all cut, and do not all reconnect, at one moment. 0: every
  // connection is cut at the exact deadline.
  double deadline_spread = 0.25;
  // Upper bound of a review's deadline; the API server's ?timeout= (less timeout_margin) lowers it.
  std::chrono::milliseconds handler_timeout{10000};
  std::chrono::milliseconds timeout_margin{500};
  // On Shutdown(), idle keep-alive connections stay open this long (a request arriving on one is answered with
  // Connection: close) before they are closed.
  std::chrono::milliseconds drain_idle_grace{1000};

  size_t max_connections = 16384;          // open connections, all phases
  size_t max_requests_per_connection = 0;  // 0 = unlimited; else Connection: close on the last one
  int listen_backlog = 4096;
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
  ~WebhookServer();  // Shutdown() with a short bound, then stops the loops
  WebhookServer(const WebhookServer&) = delete;
  WebhookServer& operator=(const WebhookServer&) = delete;

  // Binds and listens on host:port, then serves on background threads. Errors: TLS setup failed, or the address
  // cannot be bound. Call once.
  Status Start();
  // The bound port (after Start()).
  int port() const;
  // Ready: serving, not draining, and a context snapshot is loaded.
  bool ready() const;
  // Open connections right now (all phases). Thread-safe.
  size_t open_connections() const;

  // Readiness fails from now on (/readyz 503); everything else keeps serving. The first step of a graceful stop:
  // call it, wait for the endpoints to drop this replica, then Shutdown(). Idempotent.
  void StartDraining();

  // Graceful stop: StartDraining(), stop accepting, answer every request with Connection: close, close the
  // connections still idle after drain_idle_grace, then stop the loops. Waits up to `drain_timeout` for the open
  // connections to finish; returns true when all did. Idempotent.
  bool Shutdown(std::chrono::milliseconds drain_timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pipeguard::webhook
