// Webhook throughput and latency over TLS keep-alive on loopback, with baselines measured in the same run.
//
// Starts the production server and handler chain in-process on 127.0.0.1 (port 0, real TLS), then drives it with
// N keep-alive TLS connections (one client thread each) sending a representative Airflow KubernetesPodOperator
// pod as an AdmissionReview (2 containers x 30 env vars, args; the same pod as bench/policy_eval):
//   1. closed loop, /healthz          baseline: TLS + HTTP + routing cost with no admission work
//   2. closed loop, /validate         maximum AdmissionReviews/s
//   3. open loop at fixed rates       p50/p90/p99 latency, measured from each request's scheduled send time
//   4. in-process breakdown           JSON parse, request extraction, engine, full ServeAdmission (no sockets)
// and resident memory (VmRSS, VmHWM from /proc/self/status; the in-process client is included).
// The client shares the machine's cores with the server, so absolute figures are a lower bound.
//
//   bench/webhook_throughput [--connections N] [--seconds S] [--rates R1,R2,...]
//   defaults: 8 connections, 3 s per phase, rates 500,1000,2000 (about 25 s in total)
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "pipeguard/policy/config.h"
#include "pipeguard/policy/engine.h"
#include "pipeguard/webhook/decorators.h"
#include "pipeguard/webhook/handlers.h"
#include "pipeguard/webhook/http_adapter.h"
#include "pipeguard/webhook/server.h"
#include "pipeguard/webhook/tls.h"
#include "representative_pod.h"
#include "tls_test_client.h"

namespace {

using namespace pipeguard;
using namespace pipeguard::webhook;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string ReviewBody() { return bench::RepresentativeReview(); }

class StaticContext final : public policy::ContextProvider {
 public:
  explicit StaticContext(std::shared_ptr<const policy::ContextSnapshot> s) : snapshot_(std::move(s)) {}
  std::shared_ptr<const policy::ContextSnapshot> Current() const override { return snapshot_; }

 private:
  std::shared_ptr<const policy::ContextSnapshot> snapshot_;
};

long StatusKb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return std::atol(line.c_str() + prefix.size());
  }
  return -1;
}

struct Latencies {
  std::vector<double> us;
  size_t errors = 0;
  double seconds = 0;
  double Percentile(double p) const {
    if (us.empty()) return 0;
    std::vector<double> sorted = us;
    const size_t index = std::min(sorted.size() - 1, static_cast<size_t>(p * static_cast<double>(sorted.size())));
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(index), sorted.end());
    return sorted[index];
  }
  double Rate() const { return static_cast<double>(us.size()) / seconds; }
};

bool Valid(const std::optional<testing::HttpResponse>& reply, bool admission) {
  if (!reply || reply->status != 200) return false;
  return !admission || reply->body.find("\"allowed\":true") != std::string::npos;
}

// Each of `connections` threads sends `request` back to back for `seconds`.
Latencies ClosedLoop(int port, int connections, double seconds, const std::string& request, bool admission) {
  std::vector<Latencies> per_thread(static_cast<size_t>(connections));
  std::vector<std::thread> threads;
  std::atomic<int> connected{0};
  std::atomic<bool> go{false};
  for (int t = 0; t < connections; ++t) {
    threads.emplace_back([&, t] {
      std::string error;
      auto c = testing::TlsTestConnection::Connect(port, &error);
      ++connected;
      while (!go) std::this_thread::yield();
      Latencies& mine = per_thread[static_cast<size_t>(t)];
      if (c == nullptr) {
        ++mine.errors;
        return;
      }
      const auto until = Clock::now() + std::chrono::duration<double>(seconds);
      for (auto start = Clock::now(); start < until; start = Clock::now()) {
        auto reply = c->RoundTrip(request);
        if (!Valid(reply, admission)) {
          ++mine.errors;
          c = testing::TlsTestConnection::Connect(port, &error);  // e.g. keep-alive max count reached
          if (c == nullptr) return;
          continue;
        }
        mine.us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
        if (reply->Header("connection") == "close") {  // keep-alive max count reached: reconnect, as clients do
          c = testing::TlsTestConnection::Connect(port, &error);
          if (c == nullptr) return;
        }
      }
    });
  }
  while (connected < connections) std::this_thread::yield();
  const auto start = Clock::now();
  go = true;
  for (auto& t : threads) t.join();
  Latencies all;
  all.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& l : per_thread) {
    all.us.insert(all.us.end(), l.us.begin(), l.us.end());
    all.errors += l.errors;
  }
  return all;
}

// `rate` requests/s spread evenly over `connections`; latency counts from each request's scheduled time, so a
// server that falls behind shows queueing delay instead of hiding it (no coordinated omission).
Latencies OpenLoop(int port, int connections, double seconds, double rate, const std::string& request) {
  std::vector<Latencies> per_thread(static_cast<size_t>(connections));
  std::vector<std::thread> threads;
  std::vector<std::unique_ptr<testing::TlsTestConnection>> conns;
  for (int t = 0; t < connections; ++t) {
    std::string error;
    conns.push_back(testing::TlsTestConnection::Connect(port, &error));
  }
  const auto start = Clock::now() + std::chrono::milliseconds(20);
  const auto interval = std::chrono::duration<double>(static_cast<double>(connections) / rate);
  const size_t per_connection = static_cast<size_t>(seconds * rate / connections);
  for (int t = 0; t < connections; ++t) {
    threads.emplace_back([&, t] {
      Latencies& mine = per_thread[static_cast<size_t>(t)];
      auto& c = conns[static_cast<size_t>(t)];
      if (c == nullptr) {
        ++mine.errors;
        return;
      }
      const auto offset = std::chrono::duration<double>(interval.count() * t / connections);
      for (size_t k = 0; k < per_connection; ++k) {
        const auto scheduled =
            start + std::chrono::duration_cast<Clock::duration>(offset + interval * static_cast<double>(k));
        std::this_thread::sleep_until(scheduled);
        auto reply = c->RoundTrip(request);
        if (!Valid(reply, true)) {
          ++mine.errors;
          std::string error;
          c = testing::TlsTestConnection::Connect(port, &error);
          if (c == nullptr) return;
          continue;
        }
        mine.us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - scheduled).count());
        if (reply->Header("connection") == "close") {
          std::string error;
          c = testing::TlsTestConnection::Connect(port, &error);
          if (c == nullptr) return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  Latencies all;
  all.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& l : per_thread) {
    all.us.insert(all.us.end(), l.us.begin(), l.us.end());
    all.errors += l.errors;
  }
  return all;
}

template <typename Fn>
double MicrosPerOp(double seconds, Fn&& fn) {
  for (int i = 0; i < 200; ++i) fn();
  size_t ops = 0;
  const auto start = Clock::now();
  const auto until = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < until) {
    for (int i = 0; i < 64; ++i) fn();
    ops += 64;
  }
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / static_cast<double>(ops);
}

}  // namespace

int main(int argc, char** argv) {
  int connections = 8;
  double seconds = 3;
  std::vector<double> rates = {500, 1000, 2000};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--connections" && i + 1 < argc) {
      connections = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::clamp(std::atof(argv[++i]), 0.5, 10.0);
    } else if (arg == "--rates" && i + 1 < argc) {
      rates.clear();
      std::string list = argv[++i];
      for (size_t pos = 0; pos < list.size();) {
        const size_t comma = list.find(',', pos);
        rates.push_back(std::atof(list.substr(pos, comma - pos).c_str()));
        pos = comma == std::string::npos ? list.size() : comma + 1;
      }
    } else {
      std::fprintf(stderr, "usage: %s [--connections N] [--seconds S] [--rates R1,R2,...]\n", argv[0]);
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::off);

  auto pem = GenerateSelfSigned();
  if (!pem.ok()) return 1;
  CertificateStore certificates(TlsCredentials::FromPem(pem->cert_pem, pem->key_pem, "bench").value());
  StaticContext context(bench::RepresentativeSnapshot());
  const policy::Engine engine;
  WebhookMetrics metrics;
  std::atomic<size_t> audit_bytes{0};
  AuditSink sink = [&](std::string_view line) { audit_bytes += line.size(); };  // formatted, not written
  WebhookEndpoints endpoints;
  endpoints.validate = WithMetrics(
      WithAuditLog(WithPanicGuard(MakeValidatingHandler(engine, context)), sink, "validate"), metrics, "validate");
  endpoints.mutate = MakeMutatingHandler();
  ServerOptions options;
  options.port = 0;
  WebhookServer server(options, certificates, context, metrics, std::move(endpoints));
  if (auto status = server.Start(); !status.ok()) {
    std::fprintf(stderr, "server: %s\n", status.message().c_str());
    return 1;
  }
  const int port = server.port();
  const std::string body = ReviewBody();
  const std::string admission = testing::BuildRequest("POST", "/validate?timeout=10s", body);
  const std::string healthz = testing::BuildRequest("GET", "/healthz", "", "");
  const long rss_idle = StatusKb("VmRSS");

  std::printf("webhook_throughput: %d keep-alive TLS connections, %.1f s per phase, AdmissionReview %zu bytes\n",
              connections, seconds, body.size());
  ClosedLoop(port, connections, 0.5, admission, true);  // warm-up
  const Latencies health = ClosedLoop(port, connections, seconds, healthz, false);
  const Latencies closed = ClosedLoop(port, connections, seconds, admission, true);
  const long rss_load = StatusKb("VmRSS");

  std::printf("\nclosed loop          req/s    p50 us   p99 us   errors\n");
  std::printf("  /healthz       %9.0f  %8.0f %8.0f   %zu\n", health.Rate(), health.Percentile(0.5),
              health.Percentile(0.99), health.errors);
  std::printf("  /validate      %9.0f  %8.0f %8.0f   %zu\n", closed.Rate(), closed.Percentile(0.5),
              closed.Percentile(0.99), closed.errors);
  std::printf("  ratio /validate cost vs /healthz: %.2fx\n", health.Rate() / closed.Rate());

  std::printf("\nopen loop  rate   achieved   p50 us   p90 us   p99 us   errors\n");
  struct RateResult {
    double rate;
    Latencies l;
  };
  std::vector<RateResult> open;
  long rss_peak_load = rss_load;
  for (double rate : rates) {
    open.push_back({rate, OpenLoop(port, connections, seconds, rate, admission)});
    rss_peak_load = std::max(rss_peak_load, StatusKb("VmRSS"));
    const Latencies& l = open.back().l;
    std::printf("        %7.0f  %9.0f %8.0f %8.0f %8.0f   %zu\n", rate, l.Rate(), l.Percentile(0.5), l.Percentile(0.9),
                l.Percentile(0.99), l.errors);
  }

  // Where the CPU goes inside one admission request (single thread, no sockets). The machine is shared, so each
  // step is measured in short interleaved rounds and the fastest round counts (the least disturbed one).
  size_t guard = 0;
  auto request = ParseAdmissionReview(body);
  policy::RequestInfo info;
  info.namespace_ = "etl";
  const auto snapshot = context.Current();
  AdmissionHandler bare = MakeValidatingHandler(engine, context);
  WebhookMetrics scratch_metrics;
  AdmissionHandler decorated =
      WithMetrics(WithAuditLog(WithPanicGuard(MakeValidatingHandler(engine, context)), sink, "validate"),
                  scratch_metrics, "validate");
  double parse_us = 1e9, extract_us = 1e9, engine_us = 1e9, serve_us = 1e9, decorated_us = 1e9;
  const double round_seconds = std::min(0.2, seconds / 10);
  for (int round = 0; round < 5; ++round) {
    parse_us = std::min(parse_us, MicrosPerOp(round_seconds, [&] { guard += json::parse(body).size(); }));
    extract_us = std::min(extract_us, MicrosPerOp(round_seconds, [&] { guard += ParseAdmissionReview(body).ok(); }));
    engine_us = std::min(engine_us, MicrosPerOp(round_seconds, [&] {
                           guard += engine.Evaluate(request->object, info, *snapshot).allowed;
                         }));
    serve_us = std::min(serve_us, MicrosPerOp(round_seconds, [&] { guard += ServeAdmission(body, bare).body.size(); }));
    decorated_us = std::min(decorated_us,
                            MicrosPerOp(round_seconds, [&] { guard += ServeAdmission(body, decorated).body.size(); }));
  }
  const double http_us = 1e6 * connections / closed.Rate();  // wall time per request per connection

  std::printf("\nper request (one thread, no sockets)      us     share of ServeAdmission\n");
  std::printf("  json::parse of the body           %8.1f     %5.1f%%\n", parse_us, 100 * parse_us / serve_us);
  std::printf("  ParseAdmissionReview (incl. parse)%8.1f     %5.1f%%\n", extract_us, 100 * extract_us / serve_us);
  std::printf("  engine.Evaluate                   %8.1f     %5.1f%%\n", engine_us, 100 * engine_us / serve_us);
  std::printf("  ServeAdmission (parse+eval+reply) %8.1f    100.0%%\n", serve_us);
  std::printf("  ... with metrics+audit+guard      %8.1f    %5.1f%%\n", decorated_us, 100 * decorated_us / serve_us);
  std::printf("  HTTPS round trip (closed loop, per connection) %.1f us\n", http_us);

  const long rss_hwm = StatusKb("VmHWM");
  std::printf("\nmemory: VmRSS idle %ld KiB, under load %ld KiB, peak (VmHWM) %ld KiB\n", rss_idle, rss_peak_load,
              rss_hwm);

  const double p99_at_2000 = [&] {
    for (const auto& r : open) {
      if (r.rate == 2000) return r.l.Percentile(0.99);
    }
    return -1.0;
  }();
  std::printf("\ntargets: >= 10000 AdmissionReviews/s: %s (%.0f)\n", closed.Rate() >= 10000 ? "met" : "NOT met",
              closed.Rate());
  if (p99_at_2000 >= 0) {
    std::printf("         p99 <= 5 ms at 2000 req/s:   %s (%.2f ms)\n", p99_at_2000 <= 5000 ? "met" : "NOT met",
                p99_at_2000 / 1000);
  }
  std::printf("         RSS <= 30 MB under load:     %s (%.1f MiB)\n", rss_hwm <= 30 * 1024 ? "met" : "NOT met",
              rss_hwm / 1024.0);

  json summary = {{"connections", connections},    {"healthz_rps", health.Rate()},
                  {"validate_rps", closed.Rate()}, {"validate_vs_healthz_cost", health.Rate() / closed.Rate()},
                  {"rss_kib_load", rss_peak_load}, {"rss_kib_peak", rss_hwm},
                  {"parse_us", parse_us},          {"extract_us", extract_us},
                  {"engine_us", engine_us},        {"serve_us", serve_us},
                  {"decorated_us", decorated_us},  {"audit_bytes", audit_bytes.load()}};
  for (const auto& r : open) {
    summary["open_loop"].push_back({{"rate", r.rate},
                                    {"achieved", r.l.Rate()},
                                    {"p50_us", r.l.Percentile(0.5)},
                                    {"p90_us", r.l.Percentile(0.9)},
                                    {"p99_us", r.l.Percentile(0.99)},
                                    {"errors", r.l.errors}});
  }
  std::printf("\n%s\n", summary.dump().c_str());
  server.Shutdown(std::chrono::seconds(10));
  return guard == 0 ? 1 : 0;
}
