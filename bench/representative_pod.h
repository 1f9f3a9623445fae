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

// The ConfigMaps a representative dbt/Kafka task mounts (issue 14, item 1), all clean: a dbt profiles.yml with two
// targets reading credentials through env_var(), a Kafka client.properties, a Hadoop core-site.xml.
inline std::vector<json> RepresentativeMountedConfigMaps() {
  const std::string profiles_yml = R"(payments:
  target: prod
  outputs:
    prod:
      type: postgres
      host: warehouse.internal
      port: 5432
      user: "{{ env_var('DBT_USER') }}"
      password: "{{ env_var('DBT_ENV_SECRET_PASSWORD') }}"
      dbname: analytics
      schema: payments
      sslmode: verify-full
      threads: 8
    snowflake:
      type: snowflake
      account: xy12345.eu-west-1
      user: "{{ env_var('SNOWFLAKE_USER') }}"
      authenticator: snowflake_jwt
      private_key_path: /var/run/secrets/dbt/rsa_key.p8
      private_key_passphrase: "{{ env_var('DBT_ENV_SECRET_KEY_PASSPHRASE') }}"
      role: transformer
      warehouse: transforming
      database: analytics
      schema: payments
)";
  const std::string client_properties = R"(bootstrap.servers=kafka-0.internal:9093,kafka-1.internal:9093
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${file:/etc/kafka/creds.properties:user}" password="${file:/etc/kafka/creds.properties:password}";
ssl.truststore.location=/etc/kafka/truststore.jks
ssl.truststore.type=PKCS12
client.id=payments-load
acks=all
compression.type=zstd
linger.ms=20
)";
  const std::string core_site = R"(<?xml version="1.0"?>
<configuration>
  <property><name>fs.s3a.endpoint</name><value>https://s3.eu-west-1.amazonaws.com</value></property>
  <property><name>fs.s3a.aws.credentials.provider</name><value>com.amazonaws.auth.WebIdentityTokenCredentialsProvider</value></property>
  <property><name>fs.s3a.connection.ssl.enabled</name><value>true</value></property>
  <property><name>fs.s3a.fast.upload</name><value>true</value></property>
</configuration>
)";
  auto config_map = [](const std::string& name, json data) {
    return json{{"apiVersion", "v1"},
                {"kind", "ConfigMap"},
                {"metadata", {{"name", name}, {"namespace", "etl"}}},
                {"data", std::move(data)}};
  };
  return {config_map("dbt-profiles", {{"profiles.yml", profiles_yml}}),
          config_map("kafka-client", {{"client.properties", client_properties}}),
          config_map("hadoop-conf", {{"core-site.xml", core_site}})};
}

// The representative pod mounting RepresentativeMountedConfigMaps() as volumes.
inline json RepresentativeKpoPodWithMounts() {
  json pod = RepresentativeKpoPod();
  json volumes = json::array();
  for (const json& config_map : RepresentativeMountedConfigMaps()) {
    const std::string name = config_map["metadata"]["name"];
    volumes.push_back({{"name", name}, {"configMap", {{"name", name}}}});
  }
  pod["spec"]["volumes"] = std::move(volumes);
  return pod;
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
  for (const json& config_map : RepresentativeMountedConfigMaps()) builder.AddConfigMap(config_map);
  return std::move(builder).Build();
}

}  // namespace pipeguard::bench
