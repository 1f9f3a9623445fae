// Policy evaluation cost per pod, for a representative Airflow KubernetesPodOperator pod: 2 containers,
// 30 env vars each (a mix of plain settings, secretKeyRefs and $(VAR) references), and a command line with
// --conf options. Single-threaded (one core). Reported as evaluations/s and as a ratio against a baseline measured
// in the same run: parsing the same pod's JSON, work every admission request pays anyway.
//
// The machines are shared and noisy, so the measurements are interleaved: each of 5 rounds measures every variant
// for a fifth of the time, ratios are taken within a round, and the medians over the rounds are reported.
//
//   bench/policy_eval [--seconds N]      (default 3 seconds per measurement, spread over the rounds)
//   bench/policy_eval --only pod|first-sight N
//                                        N evaluations of one variant and nothing else, for instruction counts
//                                        (valgrind --tool=callgrind): repeatable on a busy machine, unlike seconds
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipeguard/policy/engine.h"
#include "representative_pod.h"

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

template <typename Fn>
double OpsPerSecond(double seconds, Fn&& fn) {
  // Warm up, then run batches until the time is spent.
  for (int i = 0; i < 1000; ++i) fn();
  size_t ops = 0;
  const auto start = Clock::now();
  const auto until = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < until) {
    for (int i = 0; i < 256; ++i) fn();
    ops += 256;
  }
  return static_cast<double>(ops) / std::chrono::duration<double>(Clock::now() - start).count();
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  std::string only;
  long only_count = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (std::string(argv[i]) == "--only" && i + 2 < argc &&
               (std::string(argv[i + 1]) == "pod" || std::string(argv[i + 1]) == "first-sight")) {
      only = argv[++i];
      only_count = std::atol(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--seconds N] | --only pod|first-sight N\n", argv[0]);
      return 2;
    }
  }
  using namespace pipeguard::policy;
  const auto snapshot = pipeguard::bench::RepresentativeSnapshot();

  const json pod = pipeguard::bench::RepresentativeKpoPod();
  const std::string pod_text = pod.dump();
  const Engine engine;
  RequestInfo request;
  request.username = "system:serviceaccount:airflow:airflow-worker";

  const Verdict check = engine.Evaluate(pod, request, *snapshot);
  if (!check.governed || !check.allowed) {
    std::fprintf(stderr, "bench pod unexpectedly %s\n", check.governed ? "denied" : "ungoverned");
    for (const auto& v : check.violations) std::fprintf(stderr, "  %s %s\n", v.rule.c_str(), v.path.c_str());
    return 1;
  }

  const json mounting = pipeguard::bench::RepresentativeKpoPodWithMounts();
  const Verdict mounted_check = engine.Evaluate(mounting, request, *snapshot);
  if (!mounted_check.governed || !mounted_check.allowed ||
      !PrepareReview(mounting, request, *snapshot).unresolved_config_maps().empty()) {
    std::fprintf(stderr, "bench pod with mounted ConfigMaps unexpectedly denied or unresolved\n");
    for (const auto& v : mounted_check.violations) std::fprintf(stderr, "  %s %s\n", v.rule.c_str(), v.path.c_str());
    return 1;
  }

  // The other order (a ConfigMap created after the pods that read it): its own admission, governed by the readers an
  // index hands it (the webhook's background audit keeps one). One reader, and 1000 (a large Deployment's pods).
  const json dbt_profiles = pipeguard::bench::RepresentativeMountedConfigMaps()[0];
  std::vector<ConfigMapReader> one_reader, many_readers;
  for (ConfigMapRead& read : ConfigMapReadsOf(mounting)) {
    if (read.config_map == "dbt-profiles") one_reader.push_back(std::move(read.reader));
  }
  for (int i = 0; !one_reader.empty() && i < 1000; ++i) {
    many_readers.push_back(one_reader.front());
    many_readers.back().name = "dbt-run-" + std::to_string(i);
  }
  const ConfigMapReaders one = [&](const std::string&, const std::string&) { return one_reader; };
  const ConfigMapReaders many = [&](const std::string&, const std::string&) { return many_readers; };
  const ConfigMapReaders none = [](const std::string&, const std::string&) { return std::vector<ConfigMapReader>(); };
  auto judge_config_map = [&](const ConfigMapReaders& readers) {
    return engine.Evaluate(PrepareReview(dbt_profiles, request, *snapshot, {}, readers));
  };
  if (one_reader.size() != 1 || !judge_config_map(one).governed || !judge_config_map(one).allowed ||
      !judge_config_map(many).governed || judge_config_map(none).governed) {
    std::fprintf(stderr, "bench ConfigMap unexpectedly not governed by its readers, or denied\n");
    return 1;
  }

  size_t sink = 0;
  if (!only.empty()) {
    for (long i = 0; i < only_count; ++i) {
      sink += only == "pod" ? engine.Evaluate(pod, request, *snapshot).allowed
                            : Engine().Evaluate(mounting, request, *snapshot).allowed;
    }
    std::printf("%s: %ld evaluations (%zu allowed)\n", only.c_str(), only_count, sink);
    return 0;
  }
  constexpr int kRounds = 5;
  std::vector<double> parse_rates, eval_rates, mounted_rates, cold_rates, mounted_ratios, cold_ratios;
  for (int round = 0; round < kRounds; ++round) {
    const double slice = seconds / kRounds;
    parse_rates.push_back(OpsPerSecond(slice, [&] { sink += json::parse(pod_text).size(); }));
    eval_rates.push_back(OpsPerSecond(slice, [&] { sink += engine.Evaluate(pod, request, *snapshot).allowed; }));
    // Steady state: the same ConfigMap versions for every pod (one informer object each), judged once.
    mounted_rates.push_back(
        OpsPerSecond(slice, [&] { sink += engine.Evaluate(mounting, request, *snapshot).allowed; }));
    // First sight: every evaluation reads and judges the three ConfigMaps again (a fresh engine, an empty memo).
    cold_rates.push_back(OpsPerSecond(slice, [&] { sink += Engine().Evaluate(mounting, request, *snapshot).allowed; }));
    mounted_ratios.push_back(eval_rates.back() / mounted_rates.back());
    cold_ratios.push_back(eval_rates.back() / cold_rates.back());
  }
  const double parse_rate = Median(parse_rates);
  const double eval_rate = Median(eval_rates);
  const double mounted_rate = Median(mounted_rates);
  const double cold_rate = Median(cold_rates);
  const double mounted_ratio = Median(mounted_ratios);
  const double cold_ratio = Median(cold_ratios);

  std::printf("policy_eval: pod JSON %zu bytes, 2 containers x 30 env vars\n", pod_text.size());
  std::printf("  baseline  json parse          %10.0f ops/s  (%6.2f us/op)\n", parse_rate, 1e6 / parse_rate);
  std::printf("  engine    Evaluate            %10.0f ops/s  (%6.2f us/op)\n", eval_rate, 1e6 / eval_rate);
  std::printf("  ratio     evaluate/parse cost %10.2f x\n", parse_rate / eval_rate);
  std::printf("  target    >= 50000 evaluations/s on one core: %s\n", eval_rate >= 50000 ? "met" : "NOT met");
  std::printf(
      "  mounted   Evaluate + 3 ConfigMaps %6.0f ops/s  (%6.2f us/op; profiles.yml, client.properties, "
      "core-site.xml)\n",
      mounted_rate, 1e6 / mounted_rate);
  std::printf(
      "  first     Evaluate + 3 new ConfigMaps %6.0f ops/s  (%6.2f us/op; each ConfigMap version's first pod)\n",
      cold_rate, 1e6 / cold_rate);
  std::printf("  ratio     pod+ConfigMaps/pod  %10.2f x  (first sight %.2f x; medians of per-round ratios)\n",
              mounted_ratio, cold_ratio);
  std::printf("  target    pod+ConfigMaps within 2x of the pod alone: %s in steady state, %s on first sight\n",
              mounted_ratio <= 2.0 ? "met" : "NOT met", cold_ratio <= 2.0 ? "met" : "NOT met");
  const double unread_rate = OpsPerSecond(seconds / kRounds, [&] { sink += judge_config_map(none).allowed; });
  const double one_reader_rate = OpsPerSecond(seconds / kRounds, [&] { sink += judge_config_map(one).allowed; });
  const double many_readers_rate = OpsPerSecond(seconds / kRounds, [&] { sink += judge_config_map(many).allowed; });
  std::printf("  configmap admission, no reader (ungoverned) %8.0f ops/s  (%7.2f us/op)\n", unread_rate,
              1e6 / unread_rate);
  std::printf("  configmap admission, 1 governed reader      %8.0f ops/s  (%7.2f us/op; files read and judged)\n",
              one_reader_rate, 1e6 / one_reader_rate);
  std::printf("  configmap admission, 1000 governed readers  %8.0f ops/s  (%7.2f us/op)\n", many_readers_rate,
              1e6 / many_readers_rate);
  return sink == 0 ? 1 : 0;
}
