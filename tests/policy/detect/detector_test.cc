// Detector behaviour that a one-entry table cannot show: ordering, de-duplication, cross-entry rules,
// hostile input (huge, binary, pathological), thread safety, and a realistic Airflow KPO pod.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "pipeguard/policy/detect.h"

namespace pipeguard::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Owns the strings a ScanInput views.
class InputBuilder {
 public:
  InputBuilder& Env(std::string key, std::string value, ValueSource source = ValueSource::kLiteral) {
    return Entry(std::move(key), std::move(value), Surface::kEnv, source);
  }
  InputBuilder& Entry(std::string key, std::string value, Surface surface, ValueSource source = ValueSource::kLiteral) {
    const std::size_t i = keys_.size();
    keys_.push_back(std::make_unique<std::string>(std::move(key)));
    values_.push_back(std::make_unique<std::string>(std::move(value)));
    ConfigEntry e;
    e.key = *keys_.back();
    e.value = *values_.back();
    e.path = "/spec/containers/0/env/" + std::to_string(i) + "/value";
    e.surface = surface;
    e.source = source;
    input_.entries.push_back(std::move(e));
    return *this;
  }
  InputBuilder& Command(std::vector<std::string> argv, int container = 0) {
    CommandLine cl;
    for (std::size_t i = 0; i < argv.size(); ++i) {
      values_.push_back(std::make_unique<std::string>(std::move(argv[i])));
      cl.argv.push_back(*values_.back());
      cl.paths.push_back("/spec/containers/" + std::to_string(container) + "/args/" + std::to_string(i));
    }
    input_.command_lines.push_back(std::move(cl));
    return *this;
  }
  InputBuilder& Executor() {
    input_.spark_executor = true;
    return *this;
  }
  const ScanInput& input() const { return input_; }

 private:
  std::vector<std::unique_ptr<std::string>> keys_;
  std::vector<std::unique_ptr<std::string>> values_;
  ScanInput input_;
};

std::vector<std::string> Summaries(const std::vector<Finding>& findings) {
  std::vector<std::string> out;
  for (const Finding& f : findings) out.push_back(f.detector.substr(0, 7) + " " + f.path);
  return out;
}

// An Airflow KubernetesPodOperator pod: 2 containers x 30 env vars and a few args, as rendered by the
// provider (labels and context variables from the provider tests), with nothing sensitive in it.
InputBuilder KpoPod() {
  InputBuilder b;
  for (int c = 0; c < 2; ++c) {
    const std::string n = std::to_string(c);
    b.Env("AIRFLOW_CTX_DAG_ID", "daily_sales_" + n)
        .Env("AIRFLOW_CTX_TASK_ID", "load_orders")
        .Env("AIRFLOW_CTX_DAG_RUN_ID", "scheduled__2024-06-01T00:00:00+00:00")
        .Env("AIRFLOW_CTX_EXECUTION_DATE", "2024-06-01T00:00:00+00:00")
        .Env("AIRFLOW_CTX_TRY_NUMBER", "1")
        .Env("AIRFLOW_CTX_DAG_OWNER", "data-eng")
        .Env("AIRFLOW_IS_K8S_EXECUTOR_POD", "True")
        .Env("AIRFLOW__CORE__DAGS_FOLDER", "/opt/airflow/dags")
        .Env("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO")
        .Env("AIRFLOW__SECRETS__BACKEND", "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend")
        .Env("AIRFLOW__SECRETS__BACKEND_KWARGS",
             R"({"connections_prefix": "airflow/connections", "region_name": "eu-west-1"})")
        .Env("AIRFLOW_CONN_WAREHOUSE", "", ValueSource::kSecretRef)
        .Env("AWS_DEFAULT_REGION", "eu-west-1")
        .Env("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/etl-" + n)
        .Env("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/eks.amazonaws.com/serviceaccount/token")
        .Env("AWS_STS_REGIONAL_ENDPOINTS", "regional")
        .Env("DB_PASSWORD", "", ValueSource::kSecretRef)
        .Env("DATABASE_URL", "postgresql://etl:$(DB_PASSWORD)@warehouse.prod:5432/dw?sslmode=verify-full")
        .Env("PYTHONPATH", "/opt/airflow/dags/repo")
        .Env("PYTHONUNBUFFERED", "1")
        .Env("LOG_LEVEL", "INFO")
        .Env("S3_BUCKET", "acme-lake-raw")
        .Env("OUTPUT_PREFIX", "s3://acme-lake-curated/orders/")
        .Env("DBT_PROFILES_DIR", "/opt/dbt")
        .Env("DBT_TARGET", "prod")
        .Env("DBT_ENV_SECRET_PG_PASSWORD", "", ValueSource::kSecretRef)
        .Env("POD_NAME", "", ValueSource::kOtherRef)
        .Env("SPARK_JAVA_OPT_0", "-Dspark.driver.host=etl-driver-svc")
        .Env("KAFKA_BOOTSTRAP_SERVERS", "SASL_SSL://kafka-0.kafka:9093,SASL_SSL://kafka-1.kafka:9093")
        .Env("GIT_SYNC_REV", "e3b98a4da31a127d4bde6e43033f66ba274cab0e");
  }
  b.Command({"python", "-m", "etl.load", "--date", "2024-06-01", "--target", "prod"}, 0);
  b.Command({"sh", "-c", "dbt deps && dbt run --profiles-dir /opt/dbt --target prod"}, 1);
  return b;
}

TEST(Detector, EmptyInputHasNoFindings) { EXPECT_THAT(DefaultDetector().Scan(ScanInput{}), IsEmpty()); }

TEST(Detector, RealisticKpoPodIsQuiet) {
  const InputBuilder pod = KpoPod();
  ASSERT_EQ(pod.input().entries.size(), 60u);
  const std::vector<Finding> findings = DefaultDetector().Scan(pod.input());
  EXPECT_THAT(Summaries(findings), IsEmpty());
}

TEST(Detector, FindingsComeInInputOrderEntriesThenCommandLines) {
  InputBuilder b;
  b.Command({"mytool", "--password", "S3cr3t-Pa55"})
      .Env("LOG_LEVEL", "INFO")
      .Env("PGSSLMODE", "disable")
      .Env("AWS_SECRET_ACCESS_KEY", "doc5eRXFpsWllGC5yKJV/Ymm5KwF+IRZo95EudOm");
  EXPECT_THAT(Summaries(DefaultDetector().Scan(b.input())),
              ElementsAre("TLS-010 /spec/containers/0/env/1/value", "SEC-070 /spec/containers/0/env/2/value",
                          "SEC-081 /spec/containers/0/args/2"));
}

TEST(Detector, OneValueYieldsOneFindingPerRule) {
  InputBuilder b;
  b.Env("DATABASE_URL", "postgresql://u:Xq7-vR93pLm@db.internal/db?sslmode=disable&password=Zp9xQ2mK7w");
  const std::vector<Finding> findings = DefaultDetector().Scan(b.input());
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_EQ(findings[0].rule, rules::kPlaintextSecret);
  EXPECT_EQ(findings[1].rule, rules::kInsecureTransport);
  EXPECT_EQ(findings[0].detector, "SEC-010 uri-credentials");  // first of two equally severe value-shape hits
  EXPECT_EQ(findings[1].detector, "TLS-010 postgres-sslmode-weak");
}

TEST(Detector, SpecificDetectorWinsOverGenericAtEqualSeverity) {
  // A JWT under a strong name: SEC-005 (value shape) and SEC-080 (name) are both HIGH; D3 keeps the specific one.
  InputBuilder b;
  b.Env("API_TOKEN",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIy"
        "fQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
  const std::vector<Finding> findings = DefaultDetector().Scan(b.input());
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].detector, "SEC-005 jwt");
}

// One argv element holding a script with two secrets names both keys, so one round trip fixes both.
TEST(Detector, ScriptWithSeveralSecretsNamesEachOfThem) {
  InputBuilder b;
  b.Command({"sh", "-c",
             "export API_TOKEN=Ap1T0k3n-9xZq\nexport AWS_SECRET_ACCESS_KEY=doc5eRXFpsWllGC5yKJV/Ymm5KwF+IRZo95EudOm\n"
             "curl -k https://internal/health"});
  const std::vector<Finding> findings = DefaultDetector().Scan(b.input());
  EXPECT_THAT(Summaries(findings), ElementsAre("SEC-080 /spec/containers/0/args/2", "SEC-070 /spec/containers/0/args/2",
                                               "TLS-030 /spec/containers/0/args/2"));
  EXPECT_EQ(findings[0].key, "API_TOKEN");
  EXPECT_EQ(findings[1].key, "AWS_SECRET_ACCESS_KEY");
  EXPECT_EQ(findings[1].severity, Severity::kCritical);
}

// The lines of one spark.properties share the JSON pointer of their ConfigMap key; an access key and a secret key
// in it are two findings that name their keys (issue 9 item 8), not one per pointer.
TEST(Detector, PropertiesLinesSharingAPathAreEachReported) {
  const std::string access_key = "AKIALALEMEL33243OLIB";
  const std::string secret_key = "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";
  ScanInput input;
  input.entries.push_back({"spark.app.name", "ledger", "/data/spark.properties", Surface::kProperties});
  input.entries.push_back(
      {"spark.hadoop.fs.s3a.access.key", access_key, "/data/spark.properties", Surface::kProperties});
  input.entries.push_back(
      {"spark.hadoop.fs.s3a.secret.key", secret_key, "/data/spark.properties", Surface::kProperties});
  const std::vector<Finding> findings = DefaultDetector().Scan(input);
  ASSERT_THAT(Summaries(findings), ElementsAre("SEC-002 /data/spark.properties", "SEC-030 /data/spark.properties"));
  EXPECT_EQ(findings[0].key, "spark.hadoop.fs.s3a.access.key");
  EXPECT_EQ(findings[1].key, "spark.hadoop.fs.s3a.secret.key");
  for (const Finding& f : findings) {
    EXPECT_THAT(f.message, ::testing::HasSubstr(f.key));
    EXPECT_EQ(f.message.find(access_key), std::string::npos);
    EXPECT_EQ(f.message.find(secret_key), std::string::npos);
  }
}

// One env value holding both keys as `-D` options names each option; the AWS key ID found in the whole value is
// not reported a second time against the env var.
TEST(Detector, JvmOptionsWithTwoSecretsNameBothOptions) {
  InputBuilder b;
  b.Env("JAVA_OPTS",
        "-Xmx2g -Dfs.s3a.access.key=AKIALALEMEL33243OLIB -Dfs.s3a.secret.key=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");
  const std::vector<Finding> findings = DefaultDetector().Scan(b.input());
  ASSERT_THAT(Summaries(findings),
              ElementsAre("SEC-002 /spec/containers/0/env/0/value", "SEC-030 /spec/containers/0/env/0/value"));
  EXPECT_EQ(findings[0].key, "fs.s3a.access.key");
  EXPECT_EQ(findings[1].key, "fs.s3a.secret.key");
}

// The same for `--conf` options inside one argv element (a multi-option string).
TEST(Detector, ConfOptionsInOneArgumentNameBothKeys) {
  InputBuilder b;
  b.Command({"spark-submit",
             "--conf spark.hadoop.fs.s3a.access.key=AKIALALEMEL33243OLIB --conf "
             "spark.hadoop.fs.s3a.secret.key=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",
             "app.py"});
  const std::vector<Finding> findings = DefaultDetector().Scan(b.input());
  ASSERT_THAT(Summaries(findings),
              ElementsAre("SEC-002 /spec/containers/0/args/1", "SEC-030 /spec/containers/0/args/1"));
  EXPECT_EQ(findings[0].key, "spark.hadoop.fs.s3a.access.key");
  EXPECT_EQ(findings[1].key, "spark.hadoop.fs.s3a.secret.key");
}

// A whole-value finding that no pair repeats stays: the PEM key below is not a key=value pair.
TEST(Detector, WholeValueFindingThatNoPairRepeatsIsKept) {
  InputBuilder b;
  b.Command({"sh", "-c",
             "export API_TOKEN=Ap1T0k3n-9xZq\ncat > /tmp/k <<EOF\n-----BEGIN RSA PRIVATE KEY-----\n"
             "MIIEowIBAAKCAQEAuZ9hQ3FVqYRzXmQ1vLZk8d0Tn2Ww5Xr8pQ+b7Yt0nF3kqLm9cVbA\n"
             "-----END RSA PRIVATE KEY-----\nEOF\n"});
  const std::vector<Finding> findings = DefaultDetector().Scan(b.input());
  std::vector<std::string> detectors;
  for (const Finding& f : findings) detectors.push_back(f.detector.substr(0, 7) + " " + f.key);
  EXPECT_THAT(detectors, ::testing::UnorderedElementsAre("SEC-001 shell script", "SEC-080 API_TOKEN"));
}

TEST(Detector, AirflowSmtpCleartextNeedsCredentialsAndNoTls) {
  InputBuilder weak;
  weak.Env("AIRFLOW__SMTP__SMTP_HOST", "smtp.corp")
      .Env("AIRFLOW__SMTP__SMTP_STARTTLS", "False")
      .Env("AIRFLOW__SMTP__SMTP_SSL", "False")
      .Env("AIRFLOW__SMTP__SMTP_PASSWORD", "", ValueSource::kSecretRef);
  const std::vector<Finding> findings = DefaultDetector().Scan(weak.input());
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].detector, "TLS-040 airflow-smtp-cleartext");
  EXPECT_EQ(findings[0].severity, Severity::kLow);
  EXPECT_EQ(findings[0].path, "/spec/containers/0/env/1/value");

  InputBuilder ssl;
  ssl.Env("AIRFLOW__SMTP__SMTP_STARTTLS", "False")
      .Env("AIRFLOW__SMTP__SMTP_SSL", "True")
      .Env("AIRFLOW__SMTP__SMTP_PASSWORD", "", ValueSource::kSecretRef);
  EXPECT_THAT(DefaultDetector().Scan(ssl.input()), IsEmpty());

  InputBuilder anonymous;
  anonymous.Env("AIRFLOW__SMTP__SMTP_STARTTLS", "False");
  EXPECT_THAT(DefaultDetector().Scan(anonymous.input()), IsEmpty());
}

TEST(Detector, SparkAuthSecretIsInfoOnExecutorsOnly) {
  InputBuilder executor;
  executor.Executor().Env("_SPARK_AUTH_SECRET", "9b1c7f3e2a5d4c8b9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d");
  const std::vector<Finding> info = DefaultDetector().Scan(executor.input());
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].severity, Severity::kInfo);
  EXPECT_NE(info[0].message.find("spark.authenticate.secret.file"), std::string::npos);

  InputBuilder driver;
  driver.Env("_SPARK_AUTH_SECRET", "9b1c7f3e2a5d4c8b9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d");
  const std::vector<Finding> high = DefaultDetector().Scan(driver.input());
  ASSERT_EQ(high.size(), 1u);
  EXPECT_EQ(high[0].severity, Severity::kHigh);
}

TEST(Detector, ValuesUpToOneMebibyteAreScannedLargerOnesFailClosed) {
  const std::string secret = "postgresql://etl:Xq7-vR93pLm@db.internal/x";
  const std::string filler = std::string((std::size_t{1} << 20) - secret.size() - 1, 'a') + " " + secret;
  ASSERT_EQ(filler.size(), std::size_t{1} << 20);
  InputBuilder big;
  big.Env("BLOB", filler);
  const std::vector<Finding> scanned = DefaultDetector().Scan(big.input());
  ASSERT_EQ(scanned.size(), 1u);
  EXPECT_EQ(scanned[0].detector, "SEC-010 uri-credentials");

  InputBuilder huge;
  huge.Env("BLOB", std::string((std::size_t{1} << 20) + 1, 'a'));
  const std::vector<Finding> too_large = DefaultDetector().Scan(huge.input());
  ASSERT_EQ(too_large.size(), 1u);
  EXPECT_EQ(too_large[0].detector, "SEC-099 value-too-large");
  EXPECT_EQ(too_large[0].severity, Severity::kMedium);
}

TEST(Detector, PathologicalInputsFinish) {
  // Each would be quadratic with a naive scanner (1 MiB each); the test only asserts they complete without a
  // finding that cannot be justified. ctest's timeout catches a regression to super-linear behaviour.
  const std::size_t n = std::size_t{1} << 20;
  std::vector<std::string> values;
  auto repeat = [&](const std::string& unit) {
    std::string s;
    while (s.size() + unit.size() <= n) s += unit;
    values.push_back(std::move(s));
  };
  repeat("eyJ");
  repeat("eyJhbGciOi.");
  repeat("a://");
  repeat("x://@");
  repeat("k=\"");
  repeat("k={");
  repeat("password=\"");
  repeat("-----BEGIN PRIVATE KEY-----");
  repeat("$(");
  repeat("{{");
  repeat("ghp_");
  repeat("AKIA");
  repeat("p@");
  repeat("clientsecret=password=");
  repeat(";?&=");
  // The grammars and command forms of issue 14: comma lists, TNS descriptors, bare -D properties, client
  // credentials beside URLs, JSON words, sqlplus logons, plain a=b lists.
  repeat("a,password=x");
  repeat("(description=(ssl_server_dn_match=false)");
  repeat("-Da.b ");
  repeat("curl -u a:b ftp://h ; ");
  repeat("{\"verify\":false},");
  repeat("sqlplus a/b@c ");
  repeat("x=1 y=2 ");
  for (const std::string& v : values) {
    InputBuilder b;
    b.Env("KAFKA_SASL_JAAS_CONFIG", v).Env("AIRFLOW_CONN_X", v).Env("JAVA_TOOL_OPTIONS", v);
    b.Command({"sh", "-c", v});
    const std::vector<Finding> findings = DefaultDetector().Scan(b.input());
    for (const Finding& f : findings) EXPECT_LT(f.message.size(), 1024u) << f.detector;
  }
}

TEST(Detector, BinaryAndInvalidUtf8AreHandled) {
  std::string binary;
  for (int i = 0; i < 4096; ++i) binary.push_back(static_cast<char>((i * 131) & 0xFF));
  InputBuilder b;
  b.Env(std::string("DB_PASSWORD_\xff\xfe", 14), "S3cr3t\xc3\x28-Pa55")
      .Env("BLOB", binary)
      .Entry(std::string("spark.ssl.keyPassword\x80", 22), binary, Surface::kSparkConf);
  b.Command({"sh", "-c", binary});
  const std::vector<Finding> findings = DefaultDetector().Scan(b.input());
  ASSERT_FALSE(findings.empty());
  EXPECT_EQ(findings[0].detector, "SEC-080 generic-sensitive-name");
  for (const Finding& f : findings) {
    for (char c : f.message + f.key) {
      const auto u = static_cast<unsigned char>(c);
      EXPECT_TRUE(u >= 0x20 && u < 0x7F) << "non-printable byte in " << f.detector;
    }
  }
}

TEST(Detector, MessagesNeverCarryTheValueOrTheUserinfo) {
  InputBuilder b;
  b.Env("DATABASE_URL", "postgresql://etl:Xq7-vR93pLm@db.internal/x")
      .Env("AIRFLOW_CONN_PG", "postgres://loader:Zp9xQ2mK7w@warehouse/dw")
      .Command({"curl", "-u", "elastic:P@ssw0rd$1", "https://es.internal"});
  const std::vector<Finding> findings = DefaultDetector().Scan(b.input());
  ASSERT_EQ(findings.size(), 3u);
  for (const Finding& f : findings) {
    for (const char* leak : {"Xq7-", "Zp9x", "P@ss", "etl:", "loader", "elastic", "db.internal/x"}) {
      EXPECT_EQ(f.message.find(leak), std::string::npos) << f.message;
      EXPECT_EQ(f.key.find(leak), std::string::npos) << f.key;
    }
  }
}

TEST(Detector, ConcurrentScansAgree) {
  const InputBuilder pod = [] {
    InputBuilder b = KpoPod();
    b.Env("AWS_SECRET_ACCESS_KEY", "doc5eRXFpsWllGC5yKJV/Ymm5KwF+IRZo95EudOm").Env("PGSSLMODE", "prefer");
    return b;
  }();
  const std::vector<std::string> expected = Summaries(DefaultDetector().Scan(pod.input()));
  ASSERT_EQ(expected.size(), 2u);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (Summaries(DefaultDetector().Scan(pod.input())) != expected) ++mismatches[t];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(mismatches, ElementsAre(0, 0, 0, 0));
}

TEST(Detector, SeparateInstancesBehaveAlike) {
  const Detector own;
  InputBuilder b;
  b.Env("SNOWFLAKE_PASSWORD", "Sn0wP4ss-x9");
  EXPECT_EQ(Summaries(own.Scan(b.input())), Summaries(DefaultDetector().Scan(b.input())));
  EXPECT_EQ(&DefaultDetector(), &DefaultDetector());
}

TEST(Detector, MissingArgPathsDoNotCrash) {
  ScanInput input;
  CommandLine cl;
  const std::string a = "mytool";
  const std::string b = "--password=S3cr3t-Pa55";
  cl.argv = {a, b};  // paths deliberately missing
  input.command_lines.push_back(cl);
  const std::vector<Finding> findings = DefaultDetector().Scan(input);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].path, "");
}

}  // namespace
}  // namespace pipeguard::policy
