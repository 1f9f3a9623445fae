// The workload every benchmark measures: a representative Airflow KubernetesPodOperator pod (2 containers,
// 30 env vars each: plain settings, secretKeyRefs, $(VAR) URIs, Airflow context; a command line with --conf)
// and the context that governs it (one PipelineSecurityProfile, images.verify off).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "pipeguard/policy/context.h"

namespace pipeguard::bench {

using nlohmann::json;

inline json RepresentativeKpoPod() {
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
        env.push_back(
            {{"name", "DATABASE_URL_" + std::to_string(i)},
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
                    {"args",
                     {"--date", "2026-11-26", "--conf", "spark.sql.shuffle.partitions=64", "--target",
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

// `n` env vars that each hold a credentialed URI: one plaintext-secret finding each (bench/findings_scale and the
// findings-bound tests).
inline json CredentialedUriEnv(int n) {
  json env = json::array();
  for (int i = 0; i < n; ++i) {
    const std::string id = std::to_string(i);
    env.push_back(
        {{"name", "DB_URL_" + id},
         {"value", "postgresql://etl:Xq7-vR93pLm" + id + "@db-" + id + ".internal:5432/x?sslmode=verify-full"}});
  }
  return env;
}

// A pod governed by the representative profile (etl/payments) whose only container carries `env`.
inline json GovernedPodWithEnv(json env) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", "p"}, {"namespace", "etl"}, {"labels", {{"pipeguard.io/pipeline", "payments"}}}}},
          {"spec",
           {{"serviceAccountName", "payments-etl"},
            {"containers",
             {{{"name", "base"}, {"image", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/etl:1"}, {"env", env}}}}}}};
}

// The configuration and the profile of the representative context, as the webhook binary reads them from files.
inline constexpr const char* kRepresentativeConfigYaml =
    "images: {verify: false, allowedRegistries: [\"123456789012.dkr.ecr.eu-west-1.amazonaws.com/\"]}\n";
inline constexpr const char* kRepresentativeProfileJson = R"({"apiVersion": "pipeguard.io/v1alpha1",
  "kind": "PipelineSecurityProfile", "metadata": {"name": "payments", "namespace": "etl"},
  "spec": {"podSelector": {"matchLabels": {"pipeguard.io/pipeline": "payments"}},
           "serviceAccount": {"name": "payments-etl"}}})";

// The representative pod as the API server sends it: an admission.k8s.io/v1 AdmissionReview for a CREATE.
inline std::string RepresentativeReview() {
  json request = {{"uid", "705ab4f5-6393-11e8-b7cc-42010a800002"},
                  {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
                  {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
                  {"namespace", "etl"},
                  {"operation", "CREATE"},
                  {"userInfo",
                   {{"username", "system:serviceaccount:airflow:airflow-worker"},
                    {"groups", {"system:serviceaccounts", "system:serviceaccounts:airflow", "system:authenticated"}}}},
                  {"object", RepresentativeKpoPod()},
                  {"oldObject", nullptr},
                  {"dryRun", false},
                  {"options", {{"apiVersion", "meta.k8s.io/v1"}, {"kind", "CreateOptions"}}}};
  return json({{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"request", request}}).dump();
}

inline std::shared_ptr<const policy::ContextSnapshot> RepresentativeSnapshot() {
  auto config = policy::ParseConfig(kRepresentativeConfigYaml, "bench");
  if (!config.ok()) {
    std::fprintf(stderr, "bench config: %s\n", config.status().message().c_str());
    std::exit(1);
  }
  policy::ContextSnapshotBuilder builder(std::move(config).value());
  auto added = builder.Add(json::parse(kRepresentativeProfileJson));
  if (!added.ok()) {
    std::fprintf(stderr, "bench profile: %s\n", added.status().message().c_str());
    std::exit(1);
  }
  return std::move(builder).Build();
}

}  // namespace pipeguard::bench
