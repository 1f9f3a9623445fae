#include "pipeguard/webhook/server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>
#include <vector>

#include "pipeguard/webhook/http_adapter.h"

namespace pipeguard::webhook {

namespace {

// Exposes the listening socket so Start() can raise the accept backlog that cpp-httplib fixes at compile time.
class ListeningServer final : public httplib::SSLServer {
 public:
  using httplib::SSLServer::SSLServer;
  int listening_socket() const { return svr_sock_; }
};

enum class RouteKind { kAdmission, kPlain };

// One endpoint. Admission routes take POST with an AdmissionReview body; plain routes take GET (and HEAD).
struct Route {
  std::string path;
  std::string method;
  RouteKind kind;
  AdmissionHandler admission;                     // kAdmission
  std::function<void(httplib::Response&)> plain;  // kPlain
};

constexpr const char* kJson = "application/json";

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// "application/json" with optional parameters such as "; charset=utf-8".
bool IsJsonMediaType(const std::string& header) {
  std::string type = Lower(header.substr(0, header.find(';')));
  const auto first = type.find_first_not_of(" \t");
  const auto last = type.find_last_not_of(" \t");
  if (first == std::string::npos) return false;
  return type.substr(first, last - first + 1) == kJson;
}

bool HasBody(const httplib::Request& req) {
  return req.has_header("Transfer-Encoding") ||
         (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0");
}

// Makes cpp-httplib answer with "Connection: close"; the logger hook then shuts the socket down so the keep-alive
// loop ends instead of parsing an unread body as the next request. cpp-httplib owns the Request as a
// non-const object; the const is only in the handler signature.
void CloseAfterReply(const httplib::Request& req) {
  auto& headers = const_cast<httplib::Request&>(req).headers;
  headers.erase("Connection");
  headers.emplace("Connection", "close");
}

std::optional<size_t> ParseContentLength(const std::string& text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  size_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<size_t>(c - '0');
  }
  return value;
}

}  // namespace

struct WebhookServer::Impl {
  ServerOptions options;
  const CertificateStore& certificates;
  const policy::ContextProvider& context;
  WebhookMetrics& metrics;
  std::vector<Route> routes;  // the routing table; never resized after construction
  std::unique_ptr<ListeningServer> http;
  std::thread thread;
  int port = -1;
  std::atomic<bool> draining{false};
  std::mutex mutex;
  std::condition_variable finished_cv;
  bool finished = false;
  bool stop_requested = false;

  Impl(ServerOptions o, const CertificateStore& c, const policy::ContextProvider& ctx, WebhookMetrics& m,
       WebhookEndpoints endpoints)
      : options(std::move(o)), certificates(c), context(ctx), metrics(m) {
    routes = {
        {"/validate", "POST", RouteKind::kAdmission, std::move(endpoints.validate), {}},
        {"/mutate", "POST", RouteKind::kAdmission, std::move(endpoints.mutate), {}},
        {"/healthz",
         "GET",
         RouteKind::kPlain,
         {},
         [](httplib::Response& res) { res.set_content("ok\n", "text/plain"); }},
        {"/readyz", "GET", RouteKind::kPlain, {}, [this](httplib::Response& res) { Readyz(res); }},
        {"/metrics",
         "GET",
         RouteKind::kPlain,
         {},
         [this](httplib::Response& res) {
           res.set_content(metrics.Serialize(), "text/plain; version=0.0.4; charset=utf-8");
         }},
    };
  }

  bool Ready(std::string* why) const {
    if (draining) {
      if (why) *why = "draining";
      return false;
    }
    if (http == nullptr || !http->is_running()) {
      if (why) *why = "TLS listener not running";
      return false;
    }
    if (!context.Ready()) {
      if (why) *why = "policy context not loaded yet (files unread or Kubernetes informers not synced)";
      return false;
    }
    return true;
  }

  void Readyz(httplib::Response& res) const {
    std::string why;
    if (Ready(&why)) {
      res.set_content("ready\n", "text/plain");
    } else {
      res.status = 503;
      res.set_content("not ready: " + why + "\n", "text/plain");
    }
  }

  const Route* Find(const std::string& path) const {
    for (const auto& route : routes) {
      if (route.path == path) return &route;
    }
    return nullptr;
  }

  // Refuses a request before its body is read. A request with a body gets its connection closed after the reply.
  httplib::Server::HandlerResponse Refuse(const httplib::Request& req, httplib::Response& res, int status,
                                          std::string_view reason, const std::string& message, bool admission) {
    metrics.RecordRejected(reason);
    res.status = status;
    if (admission) {
      res.set_content(AdmissionErrorBody("", status, message), kJson);
    } else {
      res.set_content(nlohmann::json({{"error", message}}).dump(), kJson);
    }
    if (HasBody(req) || status == 413 || status == 411) CloseAfterReply(req);
    return httplib::Server::HandlerResponse::Handled;
  }

  // Boundary checks that need only the request line and headers.
  httplib::Server::HandlerResponse PreRoute(const httplib::Request& req, httplib::Response& res) {
    const Route* route = Find(req.path);
    if (route == nullptr) {
      return Refuse(req, res, 404, "not_found",
                    "no such endpoint; pipeguard serves POST /validate, POST /mutate, GET /healthz, GET /readyz and "
                    "GET /metrics",
                    false);
    }
    const bool method_ok = req.method == route->method || (route->method == "GET" && req.method == "HEAD");
    if (!method_ok) {
      res.set_header("Allow", route->method == "GET" ? "GET, HEAD" : route->method);
      return Refuse(req, res, 405, "method_not_allowed", req.path + " accepts " + route->method + " only", false);
    }
    if (route->kind != RouteKind::kAdmission) return httplib::Server::HandlerResponse::Unhandled;

    if (!IsJsonMediaType(req.get_header_value("Content-Type"))) {
      return Refuse(req, res, 415, "unsupported_media_type",
                    "Content-Type must be application/json (an admission.k8s.io/v1 AdmissionReview)", true);
    }
    if (req.has_header("Transfer-Encoding")) {
      if (Lower(req.get_header_value("Transfer-Encoding")) != "chunked") {
        return Refuse(req, res, 400, "malformed", "unsupported Transfer-Encoding; send Content-Length or chunked",
                      true);
      }
      return httplib::Server::HandlerResponse::Unhandled;  // the body reader enforces the limit
    }
    if (!req.has_header("Content-Length")) {
      return Refuse(req, res, 411, "length_required", "Content-Length is required for an AdmissionReview body", true);
    }
    const auto length = ParseContentLength(req.get_header_value("Content-Length"));
    if (!length) return Refuse(req, res, 400, "malformed", "Content-Length is not a number", true);
    if (*length / 4 > options.max_body_bytes) {  // too large to read and discard politely: refuse unread
      return Refuse(req, res, 413, "too_large", TooLargeMessage(), true);
    }
    return httplib::Server::HandlerResponse::Unhandled;
  }

  std::string TooLargeMessage() const {
    return "request body exceeds the limit of " + std::to_string(options.max_body_bytes) +
           " bytes (pipeguard-webhook --max-body-bytes)";
  }

  void ServeAdmissionRoute(const Route& route, const httplib::Request& req, httplib::Response& res,
                           const httplib::ContentReader& reader) {
    std::string body;
    if (auto declared = ParseContentLength(req.get_header_value("Content-Length"))) {
      body.reserve(std::min(*declared, options.max_body_bytes));
    }
    bool too_large = false;
    const bool complete = reader([&](const char* data, size_t length) {
      if (body.size() + length > options.max_body_bytes) {
        too_large = true;
        return false;
      }
      body.append(data, length);
      return true;
    });
    if (res.status == 413 || too_large) {
      // 413 from cpp-httplib: a Content-Length body over the limit was read and discarded (the connection stays
      // usable). too_large: a chunked body crossed the limit mid-stream (the connection must close).
      if (too_large) CloseAfterReply(req);
      metrics.RecordRejected("too_large");
      res.status = 413;
      res.set_content(AdmissionErrorBody("", 413, TooLargeMessage()), kJson);
      return;
    }
    if (!complete) {
      CloseAfterReply(req);
      metrics.RecordRejected("incomplete_body");
      res.status = 400;
      res.set_content(AdmissionErrorBody("", 400, "the request body could not be read completely"), kJson);
      return;
    }
    HttpReply reply = ServeAdmission(body, route.admission, std::chrono::steady_clock::now());
    if (!reply.rejected_reason.empty()) metrics.RecordRejected(reply.rejected_reason);
    res.status = reply.status;
    res.set_content(std::move(reply.body), kJson);
  }

  void Configure() {
    const size_t hardware = std::max(1u, std::thread::hardware_concurrency());
    const size_t workers =
        options.worker_threads != 0 ? options.worker_threads : std::min<size_t>(64, std::max<size_t>(16, 4 * hardware));
    http->new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
    http->set_read_timeout(options.read_timeout);
    http->set_write_timeout(options.write_timeout);
    http->set_keep_alive_timeout(static_cast<time_t>(options.keep_alive_timeout.count()));
    http->set_keep_alive_max_count(options.keep_alive_max_count);
    http->set_payload_max_length(options.max_body_bytes);
    http->set_tcp_nodelay(true);
    // SO_REUSEADDR only: cpp-httplib's default adds SO_REUSEPORT, which would let a second process bind the same
    // port and silently share (or take) the admission traffic.
    http->set_socket_options([](int sock) {
      const int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });

    http->set_pre_routing_handler(
        [this](const httplib::Request& req, httplib::Response& res) { return PreRoute(req, res); });
    for (const Route& route : routes) {
      if (route.kind == RouteKind::kPlain) {
        http->Get(route.path, [&route](const httplib::Request&, httplib::Response& res) { route.plain(res); });
      } else {
        http->Post(route.path, [this, &route](const httplib::Request& req, httplib::Response& res,
                                              const httplib::ContentReader& reader) {
          ServeAdmissionRoute(route, req, res, reader);
        });
      }
    }
    // Errors cpp-httplib produces itself (unparsable request line or headers, URI too long) arrive without a body.
    // The connection is closed after them: the stream position is unknown (a read timeout, a garbled request).
    // (When the headers could not be read at all, cpp-httplib has not attached the TLS session to the request yet;
    // such a connection ends at the keep-alive timeout instead.)
    http->set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      CloseAfterReply(req);
      metrics.RecordRejected("malformed");
      res.set_content(
          nlohmann::json({{"error", "HTTP " + std::to_string(res.status) + ": the request could not be parsed"}})
              .dump(),
          kJson);
    });
    // Unreachable while the handlers above keep their no-throw contracts; a last line of defence.
    http->set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      metrics.RecordRejected("internal");
      res.status = 500;
      res.set_content(AdmissionErrorBody("", 500, "pipeguard failed to process this request (internal error)"), kJson);
    });
    // Runs after the reply is written: finish connections marked by CloseAfterReply. SHUT_WR sends FIN after the
    // reply's bytes, so the client reads the reply and then EOF; SHUT_RD ends cpp-httplib's keep-alive loop (any
    // unread request bytes it still parses get no reply, as writes now fail).
    http->set_logger([](const httplib::Request& req, const httplib::Response& res) {
      if (req.ssl != nullptr && res.get_header_value("Connection") == "close") {
        const int fd = SSL_get_fd(req.ssl);
        if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
      }
    });
  }
};

WebhookServer::WebhookServer(ServerOptions options, const CertificateStore& certificates,
                             const policy::ContextProvider& context, WebhookMetrics& metrics,
                             WebhookEndpoints endpoints)
    : impl_(std::make_unique<Impl>(std::move(options), certificates, context, metrics, std::move(endpoints))) {}

WebhookServer::~WebhookServer() {
  Shutdown(std::chrono::hours(24));
  if (impl_->thread.joinable()) impl_->thread.join();
}

Status WebhookServer::Start() {
  Impl& s = *impl_;
  if (s.http != nullptr) return Status::FailedPrecondition("the server was already started");
  s.http = std::make_unique<ListeningServer>([&s](SSL_CTX& ctx) { return ConfigureServerTls(ctx, s.certificates); });
  if (!s.http->is_valid()) return Status::Internal("TLS setup failed (see the error logged before)");
  s.Configure();
  const std::string address = s.options.host + ":" + std::to_string(s.options.port);
  if (s.options.port == 0) {
    s.port = s.http->bind_to_any_port(s.options.host);
  } else {
    s.port = s.http->bind_to_port(s.options.host, s.options.port) ? s.options.port : -1;
  }
  if (s.port <= 0) {
    return Status::Unavailable("cannot listen on " + address +
                               " (address in use, not local, or not permitted); choose another --listen address");
  }
  ::listen(s.http->listening_socket(), s.options.listen_backlog);  // raise cpp-httplib's backlog of 5
  s.thread = std::thread([&s] {
    s.http->listen_after_bind();
    std::lock_guard lock(s.mutex);
    s.finished = true;
    s.finished_cv.notify_all();
  });
  return Status::Ok();
}

int WebhookServer::port() const { return impl_->port; }

bool WebhookServer::ready() const { return impl_->Ready(nullptr); }

bool WebhookServer::Shutdown(std::chrono::milliseconds drain_timeout) {
  Impl& s = *impl_;
  s.draining = true;
  if (s.http == nullptr || !s.thread.joinable()) return true;
  std::unique_lock lock(s.mutex);
  if (!s.stop_requested) {
    s.stop_requested = true;
    // stop() must not race with the listener's start: wait until it runs (or already ended).
    lock.unlock();
    while (!s.http->is_running()) {
      {
        std::lock_guard check(s.mutex);
        if (s.finished) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    s.http->stop();
    lock.lock();
  }
  if (!s.finished_cv.wait_for(lock, drain_timeout, [&s] { return s.finished; })) return false;
  lock.unlock();
  if (s.thread.joinable() && s.thread.get_id() != std::this_thread::get_id()) s.thread.join();
  return true;
}

}  // namespace pipeguard::webhook
