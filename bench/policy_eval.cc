// Policy evaluation cost per pod, for a representative Airflow KubernetesPodOperator pod: 2 containers,
// 30 env vars each (a mix of plain settings, secretKeyRefs and $(VAR) references), and a command line with
// --conf options. Single-threaded (one core). Reported as evaluations/s and as a ratio against a baseline measured
// in the same run: parsing the same pod's JSON, work every admission request pays anyway.
//
//   bench/policy_eval [--seconds N]      (default 3 seconds per measurement)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "pipeguard/policy/engine.h"

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

json RepresentativeKpoPod() {
  json env = json::array();
  for (int i = 0; i < 30; ++i) {
    switch (i % 5) {
      case 0:
        env.push_back({{"name", "SETTING_" + std::to_string(i)}, {"value", "value-" + std::to_string(i)}});
        break;
      case 1:
        env.push_back({{"name", "DB_PASSWORD_" + std::to_string(i)},
                       {"valueFrom", {{"secretKeyRef", {{"name", "payments-db"}, {"key", "password"}}}}}});
        break;
      case 2:
        env.push_back({{"name", "DATABASE_URL_" + std::to_string(i)},
                       {"value", "postgresql://etl:$(DB_PASSWORD_1)@payments-db.internal:5432/ledger?sslmode=verify-full"}});
        break;
      case 3:
        env.push_back({{"name", "AIRFLOW_CTX_DAG_ID_" + std::to_string(i)}, {"value", "payments_daily_load"}});
        break;
      default:
        env.push_back({{"name", "S3_PREFIX_" + std::to_string(i)}, {"value", "s3://acme-raw/payments/2026/11/26/"}});
    }
  }
  json container = {{"name", "base"},
                    {"image", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/etl/payments:1.4.2"},
                    {"command", {"python", "-m", "etl.load"}},
                    {"args", {"--date", "2026-11-26", "--conf", "spark.sql.shuffle.partitions=64", "--target",
                              "snowflake://acme/raw/payments"}},
                    {"env", env}};
  json sidecar = container;
  sidecar["name"] = "metrics";
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", "payments-daily-load-3f2a"},
            {"namespace", "etl"},
            {"labels",
             {{"kubernetes_pod_operator", "True"},
              {"dag_id", "payments_daily_load"},
              {"task_id", "load"},
              {"try_number", "1"},
              {"airflow_version", "2.9.3"},
              {"pipeguard.io/pipeline", "payments"}}}}},
          {"spec", {{"serviceAccountName", "payments-etl"}, {"containers", {container, sidecar}}}}};
}

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

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--seconds N]\n", argv[0]);
      return 2;
    }
  }
  using namespace pipeguard::policy;
  auto config = ParseConfig(
      "images: {verify: false, allowedRegistries: [\"123456789012.dkr.ecr.eu-west-1.amazonaws.com/\"]}", "bench");
  if (!config.ok()) return 1;
  ContextSnapshotBuilder builder(std::move(config).value());
  (void)builder.Add(json::parse(R"({"apiVersion": "pipeguard.io/v1alpha1", "kind": "PipelineSecurityProfile",
      "metadata": {"name": "payments", "namespace": "etl"},
      "spec": {"podSelector": {"matchLabels": {"pipeguard.io/pipeline": "payments"}},
               "serviceAccount": {"name": "payments-etl"}}})"));
  const auto snapshot = std::move(builder).Build();

  const json pod = RepresentativeKpoPod();
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

  size_t sink = 0;
  const double parse_rate = OpsPerSecond(seconds, [&] { sink += json::parse(pod_text).size(); });
  const double eval_rate = OpsPerSecond(seconds, [&] { sink += engine.Evaluate(pod, request, *snapshot).allowed; });

  std::printf("policy_eval: pod JSON %zu bytes, 2 containers x 30 env vars\n", pod_text.size());
  std::printf("  baseline  json parse          %10.0f ops/s  (%6.2f us/op)\n", parse_rate, 1e6 / parse_rate);
  std::printf("  engine    Evaluate            %10.0f ops/s  (%6.2f us/op)\n", eval_rate, 1e6 / eval_rate);
  std::printf("  ratio     evaluate/parse cost %10.2f x\n", parse_rate / eval_rate);
  std::printf("  target    >= 50000 evaluations/s on one core: %s\n", eval_rate >= 50000 ? "met" : "NOT met");
  return sink == 0 ? 1 : 0;
}
