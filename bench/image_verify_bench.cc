// Image verification on a loopback registry, in ONE run (docs: issue 3, "Benchmark"):
//   1. cold verification (fresh cache each time; tag resolution + signature discovery + crypto) per cosign format,
//   2. cached verdict (the admission path once the digest was verified),
//   3. 100 concurrent admissions of one new digest -> exactly one verification (asserted: exit 1 otherwise),
//   4. the same images verified by `cosign verify --key` (what a CI job would script), as a ratio to (1).
// Everything runs against a real docker-registry started with scripts/registry/start.sh in a temp dir, images
// pushed by skopeo and signed by the real cosign 2.x / 3.x CLIs. Loopback only; about a minute.
//
// Usage: image_verify_bench [--cold N] [--cached N] [--cosign N]
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "pipeguard/imageverify/service.h"
#include "test_registries.h"

namespace {

using Clock = std::chrono::steady_clock;
using pipeguard::imageverify::CountingMetricsSink;
using pipeguard::imageverify::ImageVerificationService;
using pipeguard::imageverify::ServiceOptions;
using pipeguard::imageverify::VerificationCache;
using pipeguard::registry::testing::RealRegistry;
using pipeguard::registry::testing::RunCommand;
using pipeguard::registry::testing::ShellQuote;

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

struct Stats {
  double median_us = 0;
  double p99_us = 0;
};

Stats Summarise(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  if (samples.empty()) return {};
  return Stats{samples[samples.size() / 2], samples[std::min(samples.size() - 1, samples.size() * 99 / 100)]};
}

[[noreturn]] void Die(const std::string& message) {
  std::cerr << "image_verify_bench: " << message << "\n";
  std::exit(2);
}

std::string EnvValue(const std::string& env_lines, const std::string& key) {
  const std::string prefix = key + "=";
  size_t at = env_lines.find(prefix);
  if (at == std::string::npos) return "";
  size_t end = env_lines.find('\n', at);
  return env_lines.substr(at + prefix.size(), end == std::string::npos ? std::string::npos : end - at - prefix.size());
}

}  // namespace

int main(int argc, char** argv) {
  int cold_runs = 30, cached_runs = 20000, cosign_runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (value <= 0) Die("flag values must be positive integers");
    if (flag == "--cold") {
      cold_runs = value;
    } else if (flag == "--cached") {
      cached_runs = value;
    } else if (flag == "--cosign") {
      cosign_runs = value;
    } else {
      Die("unknown flag " + flag + " (use --cold N, --cached N, --cosign N)");
    }
  }

  // The registry client's warnings (plain-HTTP registry) go to stderr; stdout is the table.
  spdlog::set_default_logger(
      std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::stderr_sink_mt>()));
  std::cerr << "setting up: registry, keys, images, cosign signatures ...\n";
  auto started = RealRegistry::Start("");
  if (!started.ok()) Die(started.status().message());
  RealRegistry& registry = **started;
  auto key = registry.Keygen("bench");
  if (!key.ok()) Die(key.status().message());
  struct Subject {
    std::string label, repo_tag, format, digest;
  };
  std::vector<Subject> subjects = {{"cosign v2 legacy .sig", "bench/app:v2", "v2-legacy", ""},
                                   {"cosign v3 bundle (fallback tag)", "bench/app:v3", "v3-bundle", ""}};
  for (auto& subject : subjects) {
    auto digest = registry.Push(subject.repo_tag, subject.repo_tag);
    if (!digest.ok()) Die(digest.status().message());
    subject.digest = *digest;
    const std::string repo = subject.repo_tag.substr(0, subject.repo_tag.find(':'));
    if (auto s = registry.Sign(repo + "@" + subject.digest, "bench", subject.format); !s.ok()) Die(s.message());
  }
  auto burst_digest = registry.Push("bench/burst:new", "burst");
  if (!burst_digest.ok()) Die(burst_digest.status().message());
  if (auto s = registry.Sign("bench/burst@" + *burst_digest, "bench", "v3-bundle"); !s.ok()) Die(s.message());
  auto tools = RunCommand(ShellQuote(std::string(PIPEGUARD_SOURCE_DIR) + "/scripts/registry/install.sh") +
                          " --no-build 2>/dev/null");
  if (!tools.ok()) Die(tools.status().message());

  pipeguard::policy::ImagesConfig config;
  config.keys = {{"bench", *key, ""}};
  config.registries = {{registry.host(), "", true, ""}};
  config.deadline = std::chrono::seconds(4);
  auto http = pipeguard::imageverify::MakeHttpRegistry(config);
  if (!http.ok()) Die(http.status().message());
  const auto make_service = [&](std::shared_ptr<CountingMetricsSink> metrics = nullptr) {
    ServiceOptions options;
    options.registry = *http;  // one client for the process, like the webhook (connections and tokens reused)
    options.metrics = std::move(metrics);
    options.cache = std::make_shared<VerificationCache>();  // fresh cache
    auto service = ImageVerificationService::Create(config, std::move(options));
    if (!service.ok()) Die(service.status().message());
    return std::move(service).value();
  };
  const auto deadline = [] { return Clock::now() + std::chrono::seconds(10); };

  std::printf("\nimage verification on a loopback docker-registry 2.8 (plain HTTP), ECDSA P-256 keys\n\n");
  std::printf("%-44s %12s %12s %8s\n", "measurement", "median", "p99", "runs");
  std::map<std::string, double> cold_median_us;
  bool targets_met = true;

  // 1. Cold: a new service (empty cache) per run; the image by tag, so tag resolution is included.
  for (const auto& subject : subjects) {
    const std::string image = registry.host() + "/" + subject.repo_tag;
    for (int i = 0; i < 3; ++i) (void)make_service()->Verify(image, deadline());  // warm connections
    std::vector<double> samples;
    for (int i = 0; i < cold_runs; ++i) {
      auto service = make_service();
      const auto start = Clock::now();
      const auto outcome = service->Verify(image, deadline());
      samples.push_back(Micros(Clock::now() - start));
      if (!outcome.verdict.verified) Die("cold verification failed: " + outcome.message);
    }
    const Stats stats = Summarise(samples);
    cold_median_us[subject.format] = stats.median_us;
    targets_met &= stats.median_us <= 20000;
    std::printf("%-44s %9.2f ms %9.2f ms %8d   (target <= 20 ms)\n", ("cold: " + subject.label).c_str(),
                stats.median_us / 1000, stats.p99_us / 1000, cold_runs);
  }

  // 2. Cached: the same service, the same image string (tag cache + verdict cache).
  {
    auto service = make_service();
    const std::string image = registry.host() + "/" + subjects[1].repo_tag;
    if (!service->Verify(image, deadline()).verdict.verified) Die("warm-up verification failed");
    std::vector<double> samples;
    samples.reserve(cached_runs);
    for (int i = 0; i < cached_runs; ++i) {
      const auto start = Clock::now();
      const auto verdicts = service->VerifyAll({image}, deadline());
      samples.push_back(Micros(Clock::now() - start));
      if (!verdicts.begin()->second.verified) Die("cached verdict not verified");
    }
    const Stats stats = Summarise(samples);
    targets_met &= stats.median_us <= 50;
    std::printf("%-44s %9.2f us %9.2f us %8d   (target <= 50 us)\n", "cached verdict (VerifyAll, 1 image by tag)",
                stats.median_us, stats.p99_us, cached_runs);
  }

  // 3. Burst: 100 concurrent admissions of a digest this service has never seen.
  int burst_verifications = 0;
  {
    auto metrics = std::make_shared<CountingMetricsSink>();
    auto service = make_service(metrics);
    const std::string image = registry.host() + "/bench/burst@" + *burst_digest;
    std::barrier start_line(100);
    std::vector<std::thread> threads;
    std::atomic<int> verified{0};
    const auto start = Clock::now();
    for (int i = 0; i < 100; ++i) {
      threads.emplace_back([&] {
        start_line.arrive_and_wait();
        if (service->Verify(image, deadline()).verdict.verified) ++verified;
      });
    }
    for (auto& thread : threads) thread.join();
    const double wall_ms = Micros(Clock::now() - start) / 1000;
    burst_verifications = metrics->verifications();
    std::printf("%-44s %9.2f ms %12s %8d   verifications: %d (must be 1), verified: %d/100, shared: %d\n",
                "burst: 100 concurrent admissions, new digest", wall_ms, "", 1, burst_verifications, verified.load(),
                metrics->shared_flights(pipeguard::imageverify::CacheKind::kVerdict));
    if (verified.load() != 100) Die("not every burst admission was verified");
  }

  // 4. cosign verify --key on the same images (process per verification, as a CI script runs it).
  std::printf("\n%-44s %12s %12s %8s %s\n", "cosign verify --key (same images)", "median", "p99", "runs",
              "ratio pipeguard cold / cosign");
  const std::string docker_config = registry.env("DOCKER_CONFIG");
  for (const auto& subject : subjects) {
    const bool v2 = subject.format == "v2-legacy";
    const std::string cosign = EnvValue(*tools, v2 ? "COSIGN_V2" : "COSIGN_V3");
    if (cosign.empty()) Die("install.sh --no-build printed no cosign path");
    const std::string repo = subject.repo_tag.substr(0, subject.repo_tag.find(':'));
    const std::string command =
        "env DOCKER_CONFIG=" + ShellQuote(docker_config) + " HOME=" + ShellQuote(registry.dir() + "/home") +
        " TUF_ROOT=" + ShellQuote(registry.dir() + "/tuf") + " SIGSTORE_NO_CACHE=true " + ShellQuote(cosign) +
        " verify --key " + ShellQuote(*key) + " --insecure-ignore-tlog=true --allow-insecure-registry" +
        " --allow-http-registry" + (v2 ? "" : " --new-bundle-format=true") + " " +
        ShellQuote(registry.host() + "/" + repo + "@" + subject.digest) + " >/dev/null 2>&1";
    std::vector<double> samples;
    for (int i = 0; i < cosign_runs; ++i) {
      const auto start = Clock::now();
      const int rc = std::system(command.c_str());
      samples.push_back(Micros(Clock::now() - start));
      if (rc != 0) Die("cosign verify failed: " + command);
    }
    const Stats stats = Summarise(samples);
    std::printf("%-44s %9.2f ms %9.2f ms %8d   %.3f (pipeguard %.2f ms; %.0fx faster)\n",
                ("cosign: " + subject.label).c_str(), stats.median_us / 1000, stats.p99_us / 1000, cosign_runs,
                cold_median_us[subject.format] / stats.median_us, cold_median_us[subject.format] / 1000,
                stats.median_us / cold_median_us[subject.format]);
  }

  std::printf("\nburst singleflight: %s; latency targets: %s\n", burst_verifications == 1 ? "PASS" : "FAIL",
              targets_met ? "met" : "NOT met");
  return burst_verifications == 1 ? 0 : 1;
}
