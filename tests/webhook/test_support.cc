#include "test_support.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "pipeguard/webhook/decorators.h"
#include "pipeguard/webhook/handlers.h"
#include "pipeguard/webhook/logging.h"

namespace pipeguard::webhook::testing {

using nlohmann::json;

std::string DataPath(const std::string& relative) {
  return std::string(PIPEGUARD_TEST_DATA) + "/webhook/data/" + relative;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

json ReadJson(const std::string& path) { return json::parse(ReadText(path)); }

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "pipeguard-webhook-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

json MakeReview(const json& object, const std::string& ns, const std::string& uid, const std::string& operation,
                const std::string& user, const std::vector<std::string>& groups) {
  const std::string kind = object.value("kind", "Pod");
  json request = {
      {"uid", uid},
      {"kind", {{"group", ""}, {"version", "v1"}, {"kind", kind}}},
      {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
      {"requestKind", {{"group", ""}, {"version", "v1"}, {"kind", kind}}},
      {"namespace", ns},
      {"operation", operation},
      {"userInfo", {{"username", user}, {"groups", groups}}},
      {"dryRun", false},
  };
  if (object.contains("metadata") && object["metadata"].contains("name")) {
    request["name"] = object["metadata"]["name"];
  }
  if (operation == "DELETE") {
    request["oldObject"] = object;
    request["object"] = nullptr;
  } else {
    request["object"] = object;
  }
  if (operation == "UPDATE") request["oldObject"] = object;
  return {{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"request", std::move(request)}};
}

const std::vector<PlantedSecret>& PlantedSecrets() {
  static const std::vector<PlantedSecret> kSecrets = {
      {"AWS_SECRET_ACCESS_KEY", "kw/xTdqas9adeU88UIFyLZ5H2GItDhVb1rn7LQF5"},
      {"AWS_ACCESS_KEY_ID", "AKIANTSQEWRTUDJM6Q6X"},
      {"GITHUB_TOKEN", "ghp_Vz6zZeBF1qtFsJ1PISL8q03fvplAapq9UwH3"},
      {"SALES_DB_PASSWORD", "2KPqZ1wrTp7qaez9VX"},
      {"SALES_JDBC_URL", "EOiOLHDl5skbDzvVNjpbRh"},          // planted as the password inside a JDBC URL
      {"args", "AvoVnw7oB6P2BM7njpMgs7dly9uAJQWxF6JCd7Kc"},  // --conf spark.hadoop.fs.s3a.secret.key=...
      {"DBT_ENV_SECRET_SNOWFLAKE_PASSWORD", "AHEstpFr5nBqHhGd4QiT"},
  };
  return kSecrets;
}

json CleanPod() { return ReadJson(DataPath("pods/clean_kpo_pod.json")); }

json SecretPod() {
  json pod = CleanPod();
  pod["metadata"]["name"] = "sales-load-secret";
  json& container = pod["spec"]["containers"][0];
  for (const auto& secret : PlantedSecrets()) {
    if (secret.env_name == "args") {
      container["args"].push_back("--conf");
      container["args"].push_back("spark.hadoop.fs.s3a.secret.key=" + secret.value);
    } else if (secret.env_name == "SALES_JDBC_URL") {
      container["env"].push_back(
          {{"name", secret.env_name},
           {"value", "jdbc:postgresql://sales-db.internal:5432/sales?user=etl_loader&password=" + secret.value}});
    } else {
      container["env"].push_back({{"name", secret.env_name}, {"value", secret.value}});
    }
  }
  return pod;
}

PemPair WritePair(const std::string& dir, long serial) {
  SelfSignedOptions options;
  options.serial = serial;
  auto pair = GenerateSelfSigned(options);
  if (!pair.ok()) throw std::runtime_error(pair.status().message());
  WriteText(dir + "/cert.pem", pair->cert_pem);
  WriteText(dir + "/key.pem", pair->key_pem);
  return *pair;
}

FileContextOptions TestContextOptions() { return {DataPath("config.yaml"), {DataPath("context")}}; }

CapturedLogs::CapturedLogs() : previous_(spdlog::default_logger()), stream_(std::make_shared<std::ostringstream>()) {
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*stream_);
  auto logger = std::make_shared<spdlog::logger>("captured", sink);
  logger->set_formatter(MakeJsonLineFormatter());
  logger->set_level(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

CapturedLogs::~CapturedLogs() { spdlog::set_default_logger(previous_); }

std::string CapturedLogs::Text() const {
  spdlog::default_logger()->flush();
  return stream_->str();
}

TestServer::TestServer(ServerOptions options, FileContextOptions context) {
  pair_ = WritePair(cert_dir_.path(), 1);
  auto watcher = CertificateWatcher::Create(cert_dir_.File("cert.pem"), cert_dir_.File("key.pem"), certificates_,
                                            [this](bool ok) { metrics_.RecordReload("tls", ok); });
  if (!watcher.ok()) throw std::runtime_error(watcher.status().message());
  watcher_ = std::move(watcher).value();
  auto provider =
      FileContextProvider::Create(std::move(context), [this](bool ok) { metrics_.RecordReload("context", ok); });
  if (!provider.ok()) throw std::runtime_error(provider.status().message());
  context_ = std::move(provider).value();

  AuditSink sink = [this](std::string_view line) {
    std::lock_guard lock(audit_mutex_);
    audit_lines_.emplace_back(line);
  };
  auto on_panic = [this](std::string_view) { metrics_.RecordPanic(); };
  WebhookEndpoints endpoints;
  endpoints.validate =
      WithMetrics(WithAuditLog(WithPanicGuard(MakeValidatingHandler(engine_, *context_), on_panic), sink, "validate"),
                  metrics_, "validate");
  endpoints.mutate =
      WithMetrics(WithAuditLog(WithPanicGuard(MakeMutatingHandler(), on_panic), sink, "mutate"), metrics_, "mutate");
  options.host = "127.0.0.1";
  options.port = 0;
  server_ = std::make_unique<WebhookServer>(options, certificates_, *context_, metrics_, std::move(endpoints));
  if (auto status = server_->Start(); !status.ok()) throw std::runtime_error(status.message());
}

TestServer::~TestServer() {
  server_->Shutdown(std::chrono::seconds(30));
  server_.reset();
}

std::vector<std::string> TestServer::AuditLines() const {
  std::lock_guard lock(audit_mutex_);
  return audit_lines_;
}

CustomServer::CustomServer(std::shared_ptr<const policy::ContextSnapshot> snapshot, WebhookEndpoints endpoints,
                           ServerOptions options)
    : context(std::move(snapshot)) {
  const PemPair pair = WritePair(dir.path(), 5);
  certificates.Replace(TlsCredentials::FromPem(pair.cert_pem, pair.key_pem, "test").value());
  options.port = 0;
  server = std::make_unique<WebhookServer>(options, certificates, context, metrics, std::move(endpoints));
  const Status status = server->Start();
  EXPECT_TRUE(status.ok()) << status.message();
}

}  // namespace pipeguard::webhook::testing
