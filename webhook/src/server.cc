#include "pipeguard/webhook/server.h"

#include <dlfcn.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <condition_variable>
#include <functional>
#include <list>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "http_framing.h"
#include "pipeguard/imageverify/blocking.h"
#include "pipeguard/webhook/http_adapter.h"

namespace pipeguard::webhook {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using Clock = std::chrono::steady_clock;
using Request = http::request_parser<http::string_body>;
using Response = http::response<http::string_body>;

// Completion token: errors come back as values (the first tuple element), never as exceptions.
constexpr auto kAsValues = asio::as_tuple(asio::use_awaitable);

constexpr const char* kJson = "application/json";
// A closing TLS connection waits this long for the peer's close_notify before the socket is closed.
constexpr std::chrono::seconds kCloseNotifyWait{1};

enum class RouteKind { kAdmission, kPlain };

struct PlainReply {
  http::status status = http::status::ok;
  std::string content_type;
  std::string body;
};

// One endpoint. Admission routes take POST with an AdmissionReview body; plain routes take GET (and HEAD).
struct Route {
  std::string_view path;
  http::verb method;
  RouteKind kind;
  AdmissionHandler admission;         // kAdmission
  std::function<PlainReply()> plain;  // kPlain
};

std::string ErrorJson(const std::string& message) { return nlohmann::json({{"error", message}}).dump(); }

// Hands the pages a large review freed back to the OS now rather than at the allocator's own pace, so a burst of
// large reviews does not hold their DOMs' memory after the fact. Uses jemalloc's mallctl when the process runs on
// jemalloc (the Release binary); a no-op under any other allocator.
void ReleaseFreedMemory() {
  using Mallctl = int (*)(const char*, void*, size_t*, void*, size_t);
  static const auto mallctl = reinterpret_cast<Mallctl>(::dlsym(RTLD_DEFAULT, "mallctl"));
  if (mallctl != nullptr) mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);  // 4096: every arena
}

std::chrono::milliseconds Scaled(std::chrono::milliseconds deadline, double factor) {
  return std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(deadline.count()) * factor));
}

// One connection's state, owned by its coroutine frame and listed on its loop (for draining).
struct Connection {
  Connection(TlsStream s, double jitter) : stream(std::move(s)), deadline_jitter(jitter) {}
  TlsStream stream;
  bool idle = false;  // waiting for the first byte of the next request
  // Drawn once from [0, deadline_spread]: the handshake and header deadlines are shortened by this share and the idle
  // timeout lengthened by it (it must stay above the API server's own idle timeout). Connections opened in one burst
  // (an attacker's, or a client pool's after a restart) are then cut over a spread of time and reconnect spread
  // out, instead of as one burst of TLS handshakes.
  double deadline_jitter;
  std::chrono::milliseconds Shortened(std::chrono::milliseconds deadline) const {
    return Scaled(deadline, 1 - deadline_jitter);
  }
  std::chrono::milliseconds Lengthened(std::chrono::milliseconds deadline) const {
    return Scaled(deadline, 1 + deadline_jitter);
  }
};

// An event loop and the connections it owns. `connections` is touched only on the loop's thread.
struct Loop {
  std::list<Connection*> connections;  // declared before `io`: destroyed after it (frames unlink themselves)
  asio::io_context io{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
  std::minstd_rand random{std::random_device{}()};  // connections' deadline jitter; used on the loop's thread only
};

}  // namespace

struct WebhookServer::Impl {
  ServerOptions options;
  framing::Limits limits;
  const CertificateStore& certificates;
  const policy::ContextProvider& context;
  WebhookMetrics& metrics;
  std::vector<Route> routes;  // the routing table; never changed after construction

  std::unique_ptr<ssl::context> tls;
  std::vector<std::unique_ptr<Loop>> loops;
  std::unique_ptr<asio::thread_pool> handler_pool;
  std::unique_ptr<asio::thread_pool> large_pool;  // reviews over max_inline_body_bytes: bounds their DOMs' memory
  std::optional<tcp::acceptor> acceptor;          // owned by loops[0]
  size_t next_loop = 0;                           // touched by the accepting coroutine only
  int port = -1;

  std::atomic<bool> started{false};
  std::atomic<bool> draining{false};
  std::atomic<bool> closing{false};  // stop accepting; close idle connections; no keep-alive
  std::atomic<size_t> open{0};
  std::atomic<size_t> pending_reviews{0};
  // Guards nothing but the wait for `open` to reach 0 (Shutdown) and its notification (a closing connection).
  // Never held while joining threads: a loop thread closing its last connection takes it.
  std::mutex drain_mutex;
  std::condition_variable all_closed;
  std::atomic<bool> stopped{false};

  Impl(ServerOptions o, const CertificateStore& c, const policy::ContextProvider& ctx, WebhookMetrics& m,
       WebhookEndpoints endpoints)
      : options(std::move(o)), certificates(c), context(ctx), metrics(m) {
    limits.max_header_bytes = options.max_header_bytes;
    limits.max_header_fields = options.max_header_fields;
    limits.max_body_bytes = options.max_body_bytes;
    routes = {
        {"/validate", http::verb::post, RouteKind::kAdmission, std::move(endpoints.validate), {}},
        {"/mutate", http::verb::post, RouteKind::kAdmission, std::move(endpoints.mutate), {}},
        {"/healthz",
         http::verb::get,
         RouteKind::kPlain,
         {},
         [] {
           return PlainReply{http::status::ok, "text/plain", "ok\n"};
         }},
        {"/readyz", http::verb::get, RouteKind::kPlain, {}, [this] { return Readyz(); }},
        {"/metrics",
         http::verb::get,
         RouteKind::kPlain,
         {},
         [this] {
           return PlainReply{http::status::ok, "text/plain; version=0.0.4; charset=utf-8", metrics.Serialize()};
         }},
    };
  }

  bool Ready(std::string* why) const {
    if (draining) {
      if (why) *why = "draining";
      return false;
    }
    if (!started || closing) {
      if (why) *why = "TLS listener not running";
      return false;
    }
    if (!context.Ready()) {
      if (why) *why = "policy context not loaded yet (files unread or Kubernetes informers not synced)";
      return false;
    }
    return true;
  }

  PlainReply Readyz() const {
    std::string why;
    if (Ready(&why)) return {http::status::ok, "text/plain", "ready\n"};
    return {http::status::service_unavailable, "text/plain", "not ready: " + why + "\n"};
  }

  const Route* Find(std::string_view path) const {
    for (const auto& route : routes) {
      if (route.path == path) return &route;
    }
    return nullptr;
  }

  // Keep-alive is offered while the server is not closing and holds under 90 % of its connection cap.
  bool KeepAliveAllowed() const { return !closing && open.load() * 10 < options.max_connections * 9; }

  // ---- accepting -------------------------------------------------------------------------------------------

  asio::awaitable<void> Accept() {
    for (;;) {
      Loop& loop = *loops[next_loop];
      next_loop = (next_loop + 1) % loops.size();
      auto [ec, socket] = co_await acceptor->async_accept(loop.io, kAsValues);
      if (closing || !acceptor->is_open()) co_return;
      if (ec) {
        // EMFILE and friends: back off briefly instead of spinning; the connections already open keep serving.
        spdlog::warn("accept failed: {}", ec.message());
        asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
        co_await pause.async_wait(kAsValues);
        continue;
      }
      if (open.load() >= options.max_connections) {
        metrics.RecordRejected("connection_limit");
        beast::error_code ignored;
        socket.close(ignored);
        continue;
      }
      open.fetch_add(1);
      metrics.AddOpenConnections(1);
      asio::co_spawn(loop.io, Serve(std::move(socket), loop), asio::detached);
    }
  }

  // ---- one connection --------------------------------------------------------------------------------------

  // Unlinks the connection from its loop and updates the counters when the coroutine frame ends, however it ends.
  struct Registration {
    Impl& impl;
    Loop& loop;
    std::list<Connection*>::iterator self;
    Registration(Impl& i, Loop& l, Connection* c) : impl(i), loop(l) {
      self = loop.connections.insert(loop.connections.end(), c);
    }
    ~Registration() {
      loop.connections.erase(self);
      impl.metrics.AddOpenConnections(-1);
      if (impl.open.fetch_sub(1) == 1 && impl.closing) {
        std::lock_guard lock(impl.drain_mutex);
        impl.all_closed.notify_all();
      }
    }
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
  };

  asio::awaitable<void> Serve(tcp::socket socket, Loop& loop) {
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    const double spread = std::clamp(options.deadline_spread, 0.0, 1.0);
    Connection connection{TlsStream(beast::tcp_stream(std::move(socket)), *tls),
                          std::uniform_real_distribution<double>(0.0, spread)(loop.random)};
    Registration registration(*this, loop, &connection);
    TlsStream& stream = connection.stream;
    auto& transport = beast::get_lowest_layer(stream);

    transport.expires_after(connection.Shortened(options.handshake_timeout));
    if (auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, kAsValues); ec) {
      if (ec == beast::error::timeout) metrics.RecordRejected("handshake_timeout");
      co_return;  // nothing was received that could be answered
    }

    beast::flat_buffer buffer(std::max<size_t>(2 * options.max_header_bytes, 64 * 1024));
    for (size_t served = 0;;) {
      if (buffer.size() == 0) {  // idle: wait for the first byte of the next request
        if (closing) break;
        connection.idle = true;
        transport.expires_after(served == 0 ? connection.Shortened(options.header_timeout)
                                            : connection.Lengthened(options.idle_timeout));
        auto [ec, n] = co_await stream.async_read_some(buffer.prepare(16 * 1024), kAsValues);
        connection.idle = false;
        if (ec) break;  // closed, reset, idle timeout or drained: no request is pending
        buffer.commit(n);
      }
      const bool keep_going =
          co_await ServeOneRequest(stream, buffer, ++served, connection.Shortened(options.header_timeout));
      if (!keep_going) break;
      if (buffer.size() == 0) buffer.shrink_to_fit();  // idle connections hold no read buffer
    }
    transport.expires_after(kCloseNotifyWait);
    co_await stream.async_shutdown(kAsValues);
  }

  // Reads one request (its first bytes are in `buffer`; its headers due within `header_deadline`), answers it, and
  // says whether the connection may serve another.
  asio::awaitable<bool> ServeOneRequest(TlsStream& stream, beast::flat_buffer& buffer, size_t served,
                                        std::chrono::milliseconds header_deadline) {
    auto& transport = beast::get_lowest_layer(stream);
    Request parser;
    framing::ConfigureParser(parser, limits);
    transport.expires_after(header_deadline);
    if (auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, kAsValues); ec) {
      if (ec == beast::error::timeout) {
        // The stream closed itself at the deadline; a client this slow gets no reply.
        metrics.RecordRejected("header_timeout");
      } else if (ec == http::error::header_limit) {
        co_await Reply(
            stream,
            RefusalResponse(431, "headers_too_large",
                            "the request headers exceed " + std::to_string(options.max_header_bytes) + " bytes", false,
                            11),
            false);
      } else if (ec == http::error::body_limit) {
        co_await Reply(stream, RefusalResponse(413, "too_large", framing::TooLargeMessage(limits), true, 11), false);
      } else if (ec != http::error::end_of_stream && ec != ssl::error::stream_truncated &&
                 ec != asio::error::operation_aborted && ec != asio::error::eof &&
                 ec != asio::error::connection_reset) {
        co_await Reply(stream,
                       RefusalResponse(400, "malformed",
                                       "HTTP 400: the request could not be parsed (" + ec.message() + ")", false, 11),
                       false);
      }
      co_return false;
    }
    auto& head = parser.get();
    const unsigned version = head.version();
    const std::string_view target(head.target().data(), head.target().size());
    const Route* route = Find(framing::TargetPath(target));
    const bool has_body = parser.chunked() || (parser.content_length() && *parser.content_length() > 0);
    if (route == nullptr) {
      co_await Reply(stream,
                     RefusalResponse(404, "not_found",
                                     "no such endpoint; pipeguard serves POST /validate, POST /mutate, GET /healthz, "
                                     "GET /readyz and GET /metrics",
                                     false, version),
                     !has_body);
      co_return !has_body && parser.keep_alive() && KeepAliveAllowed();
    }
    const http::verb method = head.method();
    if (method != route->method && !(route->method == http::verb::get && method == http::verb::head)) {
      Response response = RefusalResponse(
          405, "method_not_allowed",
          std::string(route->path) + " accepts " + (route->method == http::verb::get ? "GET" : "POST") + " only", false,
          version);
      response.set(http::field::allow, route->method == http::verb::get ? "GET, HEAD" : "POST");
      co_await Reply(stream, std::move(response), !has_body && parser.keep_alive());
      co_return !has_body && parser.keep_alive() && KeepAliveAllowed();
    }
    const bool keep_alive = parser.keep_alive() && KeepAliveAllowed() &&
                            (options.max_requests_per_connection == 0 || served < options.max_requests_per_connection);

    if (route->kind == RouteKind::kPlain) {
      if (auto too_many = framing::CheckFieldCount(head, limits)) {
        co_await Reply(stream, RefusalResponse(*too_many, false, version), false);
        co_return false;
      }
      if (has_body) {  // GET with a body: not worth reading
        co_await Reply(stream, RefusalResponse(400, "malformed", "GET requests take no body", false, version), false);
        co_return false;
      }
      PlainReply plain = route->plain();
      Response response{plain.status, version};
      response.set(http::field::content_type, plain.content_type);
      response.body() = std::move(plain.body);
      response.keep_alive(keep_alive);
      response.prepare_payload();
      if (method == http::verb::head) response.body().clear();  // Content-Length stays that of the GET reply
      co_return co_await Reply(stream, std::move(response), keep_alive) && keep_alive;
    }

    const auto declared = parser.content_length();
    const std::optional<std::uint64_t> length = declared ? std::optional<std::uint64_t>(*declared) : std::nullopt;
    const framing::HeadCheck check = framing::CheckAdmissionHead(head, length, parser.chunked(), limits);
    if (check.outcome == framing::HeadCheck::Outcome::kRefuse) {
      co_await Reply(stream, RefusalResponse(check, true, version), false);
      co_return false;
    }
    if (check.outcome == framing::HeadCheck::Outcome::kDiscardBodyThenRefuse) {
      const bool discarded = co_await DiscardBody(stream, buffer, *parser.content_length());
      const bool again = discarded && keep_alive;
      co_await Reply(stream, RefusalResponse(check, true, version), again);
      co_return again;
    }

    parser.body_limit(framing::BodyLimitForReading(limits));
    transport.expires_after(options.body_timeout);
    if (auto [ec, n] = co_await http::async_read(stream, buffer, parser, kAsValues); ec) {
      if (ec == http::error::body_limit) {
        co_await Reply(stream, RefusalResponse(413, "too_large", framing::TooLargeMessage(limits), true, version),
                       false);
      } else if (ec == beast::error::timeout) {
        metrics.RecordRejected("body_timeout");  // the stream closed itself at the deadline
      } else {
        co_await Reply(
            stream,
            RefusalResponse(400, "incomplete_body", "the request body could not be read completely", true, version),
            false);
      }
      co_return false;
    }
    const Clock::time_point received_at = Clock::now();
    auto budget = options.handler_timeout;
    if (auto requested = framing::TimeoutParameter(target)) {
      budget = std::min(budget, std::max(*requested - options.timeout_margin, std::chrono::milliseconds(1)));
    }
    HttpReply reply = co_await RunAdmission(*route, parser.release().body(), received_at, received_at + budget);
    if (!reply.rejected_reason.empty()) metrics.RecordRejected(reply.rejected_reason);
    Response response{static_cast<http::status>(reply.status), version};
    response.set(http::field::content_type, kJson);
    if (reply.status == 503) response.set(http::field::retry_after, "1");
    response.body() = std::move(reply.body);
    const bool still_keep_alive = keep_alive && KeepAliveAllowed();  // the server may have begun closing meanwhile
    response.prepare_payload();
    co_return co_await Reply(stream, std::move(response), still_keep_alive) && still_keep_alive;
  }

  // Runs the admission handler inline on this loop when it needs no registry call (the common case: every image
  // verdict is cached, or nothing to verify) and the body is small enough that evaluating it cannot stall the loop;
  // otherwise on the handler pool, answering 503 at once when max_pending_reviews are already waiting there.
  asio::awaitable<HttpReply> RunAdmission(const Route& route, std::string body, Clock::time_point received_at,
                                          Clock::time_point deadline) {
    if (body.size() <= options.max_inline_body_bytes) {
      try {
        imageverify::NonBlockingScope non_blocking;
        co_return ServeAdmission(body, route.admission, received_at, {}, deadline);
      } catch (const imageverify::WouldBlock&) {
        // runs again on the pool, where it may wait
      }
    }
    if (pending_reviews.fetch_add(1) >= options.max_pending_reviews) {
      pending_reviews.fetch_sub(1);
      co_return HttpReply{503,
                          AdmissionErrorBody("", 503,
                                             "pipeguard is overloaded (" + std::to_string(options.max_pending_reviews) +
                                                 " reviews waiting); the request was not evaluated, retry"),
                          "overloaded"};
    }
    asio::thread_pool& pool = body.size() > options.max_inline_body_bytes ? *large_pool : *handler_pool;
    HttpReply reply = co_await asio::co_spawn(
        pool,
        [&]() -> asio::awaitable<HttpReply> {
          if (Clock::now() >= deadline) {
            co_return HttpReply{503,
                                AdmissionErrorBody("", 503,
                                                   "pipeguard could not start this review before its deadline "
                                                   "(overloaded); it was not evaluated, retry"),
                                "deadline_in_queue"};
          }
          HttpReply served = ServeAdmission(body, route.admission, received_at, {}, deadline);
          if (body.size() > options.max_inline_body_bytes) {
            std::string().swap(body);
            ReleaseFreedMemory();
          }
          co_return served;
        },
        asio::use_awaitable);
    pending_reviews.fetch_sub(1);
    co_return reply;
  }

  // Reads and drops `length` body bytes (some may already be in `buffer`) within the body deadline.
  asio::awaitable<bool> DiscardBody(TlsStream& stream, beast::flat_buffer& buffer, std::uint64_t length) {
    const size_t buffered = std::min<std::uint64_t>(buffer.size(), length);
    buffer.consume(buffered);
    std::uint64_t remaining = length - buffered;
    beast::get_lowest_layer(stream).expires_after(options.body_timeout);
    std::vector<char> scratch(16 * 1024);
    while (remaining > 0) {
      const size_t want = std::min<std::uint64_t>(remaining, scratch.size());
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(scratch.data(), want), kAsValues);
      if (ec) co_return false;
      remaining -= n;
    }
    co_return true;
  }

  Response RefusalResponse(int status, const std::string& reason, const std::string& message, bool admission,
                           unsigned version) {
    metrics.RecordRejected(reason);
    Response response{static_cast<http::status>(status), version};
    response.set(http::field::content_type, kJson);
    response.body() = admission ? AdmissionErrorBody("", status, message) : ErrorJson(message);
    response.prepare_payload();
    return response;
  }
  Response RefusalResponse(const framing::HeadCheck& check, bool admission, unsigned version) {
    return RefusalResponse(check.status, check.reason, check.message, admission, version);
  }

  // Writes `response` within the write deadline, with Connection: keep-alive or close as `keep_alive` says.
  // Returns false when the write failed.
  asio::awaitable<bool> Reply(TlsStream& stream, Response response, bool keep_alive) {
    response.keep_alive(keep_alive);
    beast::get_lowest_layer(stream).expires_after(options.write_timeout);
    auto [ec, n] = co_await http::async_write(stream, response, kAsValues);
    co_return !ec;
  }

  // ---- stopping --------------------------------------------------------------------------------------------

  // On each loop: close idle keep-alive connections (busy ones close after their current reply).
  void CloseIdleConnections() {
    for (auto& loop : loops) {
      asio::post(loop->io, [l = loop.get()] {
        for (Connection* c : l->connections) {
          if (c->idle) beast::get_lowest_layer(c->stream).cancel();
        }
      });
    }
  }

  void StopLoops() {
    if (stopped.exchange(true)) return;
    for (auto& loop : loops) {
      loop->work.reset();
      loop->io.stop();
    }
    for (auto& loop : loops) {
      if (loop->thread.joinable() && loop->thread.get_id() != std::this_thread::get_id()) loop->thread.join();
    }
    for (auto* pool : {handler_pool.get(), large_pool.get()}) {
      if (pool == nullptr) continue;
      pool->stop();
      pool->join();
    }
  }
};

WebhookServer::WebhookServer(ServerOptions options, const CertificateStore& certificates,
                             const policy::ContextProvider& context, WebhookMetrics& metrics,
                             WebhookEndpoints endpoints)
    : impl_(std::make_unique<Impl>(std::move(options), certificates, context, metrics, std::move(endpoints))) {}

WebhookServer::~WebhookServer() {
  Shutdown(std::chrono::seconds(5));
  impl_->StopLoops();
  // Connection frames still suspended on a loop unlink themselves from it and touch Impl's counters: destroy the
  // loops (the acceptor first, it belongs to loops[0]) while the rest of Impl is alive.
  impl_->acceptor.reset();
  impl_->loops.clear();
}

Status WebhookServer::Start() {
  Impl& s = *impl_;
  if (s.started || !s.loops.empty()) return Status::FailedPrecondition("the server was already started");
  s.tls = std::make_unique<ssl::context>(ssl::context::tls_server);
  if (!ConfigureServerTls(*s.tls->native_handle(), s.certificates)) {
    return Status::Internal("TLS setup failed (see the error logged before)");
  }
  SSL_CTX_set_mode(s.tls->native_handle(), SSL_MODE_RELEASE_BUFFERS);  // idle connections keep no TLS buffers

  const size_t hardware = std::max(1u, std::thread::hardware_concurrency());
  const size_t loop_count = s.options.event_loops != 0 ? s.options.event_loops : hardware;
  const size_t handler_count =
      s.options.handler_threads != 0 ? s.options.handler_threads : std::max<size_t>(4, 4 * hardware);
  for (size_t i = 0; i < loop_count; ++i) {
    auto loop = std::make_unique<Loop>();
    loop->work.emplace(loop->io.get_executor());
    s.loops.push_back(std::move(loop));
  }

  const std::string address = s.options.host + ":" + std::to_string(s.options.port);
  beast::error_code ec;
  const auto ip = asio::ip::make_address(s.options.host, ec);
  if (ec) {
    return Status::InvalidArgument("cannot listen on " + address + ": \"" + s.options.host +
                                   "\" is not an IP address; use e.g. 127.0.0.1 or 0.0.0.0");
  }
  tcp::acceptor acceptor(s.loops[0]->io);
  const tcp::endpoint endpoint(ip, static_cast<unsigned short>(s.options.port));
  acceptor.open(endpoint.protocol(), ec);
  // SO_REUSEADDR only, never SO_REUSEPORT: that would let a second process bind the same port and silently share
  // (or take) the admission traffic.
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(s.options.listen_backlog, ec);
  if (ec) {
    return Status::Unavailable("cannot listen on " + address + " (" + ec.message() +
                               "; address in use, not local, or not permitted); choose another --listen address");
  }
  s.port = acceptor.local_endpoint().port();
  s.acceptor.emplace(std::move(acceptor));
  s.handler_pool = std::make_unique<asio::thread_pool>(handler_count);
  s.large_pool = std::make_unique<asio::thread_pool>(std::max<size_t>(1, s.options.large_review_threads));
  asio::co_spawn(s.loops[0]->io, s.Accept(), asio::detached);
  for (auto& loop : s.loops) {
    loop->thread = std::thread([l = loop.get()] { l->io.run(); });
  }
  s.started = true;
  return Status::Ok();
}

int WebhookServer::port() const { return impl_->port; }

bool WebhookServer::ready() const { return impl_->Ready(nullptr); }

size_t WebhookServer::open_connections() const { return impl_->open.load(); }

void WebhookServer::StartDraining() { impl_->draining = true; }

bool WebhookServer::Shutdown(std::chrono::milliseconds drain_timeout) {
  Impl& s = *impl_;
  s.draining = true;
  if (!s.started) return true;
  const auto give_up = Clock::now() + drain_timeout;
  const auto all_closed = [&s] { return s.open.load() == 0; };
  std::unique_lock lock(s.drain_mutex);
  if (!s.closing.exchange(true)) {
    asio::post(s.loops[0]->io, [&s] {
      beast::error_code ignored;
      s.acceptor->close(ignored);
    });
    // Connections that carry a request within the grace get it answered with Connection: close, so their client
    // closes them; only connections still idle after it are closed by us (a client writing into one at that very
    // moment is the one race left, and it needs a connection idle for the whole grace).
    s.all_closed.wait_until(lock, std::min(give_up, Clock::now() + s.options.drain_idle_grace), all_closed);
    s.CloseIdleConnections();
  }
  const bool drained = s.all_closed.wait_until(lock, give_up, all_closed);
  lock.unlock();
  if (drained) s.StopLoops();
  return drained;
}

}  // namespace pipeguard::webhook
