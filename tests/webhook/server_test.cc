// The webhook over real TLS on loopback: replies, boundaries, concurrency, TLS policy, certificate rotation and
// redaction of secrets in every output.
#include "pipeguard/webhook/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "pipeguard/webhook/decorators.h"
#include "pipeguard/webhook/handlers.h"
#include "test_support.h"
#include "tls_test_client.h"

namespace pipeguard::webhook {
namespace {

using nlohmann::json;
using testing::BuildRequest;
using testing::CleanPod;
using testing::CustomServer;
using testing::HttpResponse;
using testing::MakeReview;
using testing::SecretPod;
using testing::StaticContext;
using testing::TestServer;
using testing::TlsTestConnection;

std::unique_ptr<TlsTestConnection> Connect(int port, const testing::ClientTlsOptions& options = {}) {
  std::string error;
  auto connection = TlsTestConnection::Connect(port, &error, options);
  EXPECT_NE(connection, nullptr) << error;
  return connection;
}

std::string Validate(const json& review) { return BuildRequest("POST", "/validate", review.dump()); }

// The AdmissionReview response of an HTTP reply (fails the test when the body is not one).
json ResponseOf(const std::optional<HttpResponse>& reply) {
  EXPECT_TRUE(reply.has_value());
  if (!reply) return json::object();
  EXPECT_EQ(reply->Header("content-type"), "application/json");
  json body = json::parse(reply->body, nullptr, false);
  EXPECT_FALSE(body.is_discarded()) << reply->body;
  if (body.is_discarded()) return json::object();
  EXPECT_EQ(body["apiVersion"], "admission.k8s.io/v1");
  EXPECT_EQ(body["kind"], "AdmissionReview");
  return body["response"];
}

double SeriesValue(const std::string& metrics, const std::string& series) {
  size_t pos = 0;
  while ((pos = metrics.find(series, pos)) != std::string::npos) {
    if (pos == 0 || metrics[pos - 1] == '\n') {
      const size_t space = metrics.find(' ', pos + series.size());
      return std::stod(metrics.substr(space + 1, metrics.find('\n', space) - space - 1));
    }
    ++pos;
  }
  return -1;
}

class WebhookServerTest : public ::testing::Test {
 protected:
  static ServerOptions Options() {
    ServerOptions options;
    options.max_body_bytes = 64 * 1024;
    return options;
  }
  TestServer server_{Options()};
};

TEST_F(WebhookServerTest, AllowedDeniedAndAuditRepliesEchoTheUid) {
  auto c = Connect(server_.port());
  ASSERT_NE(c, nullptr);

  auto clean = c->RoundTrip(Validate(MakeReview(CleanPod(), "etl", "uid-clean")));
  ASSERT_TRUE(clean);
  EXPECT_EQ(clean->status, 200);
  json response = ResponseOf(clean);
  EXPECT_EQ(response["uid"], "uid-clean");
  EXPECT_EQ(response["allowed"], true);
  EXPECT_EQ(response["auditAnnotations"]["decision"], "allowed");

  auto denied = c->RoundTrip(Validate(MakeReview(SecretPod(), "etl", "uid-denied")));
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 200);
  response = ResponseOf(denied);
  EXPECT_EQ(response["uid"], "uid-denied");
  EXPECT_EQ(response["allowed"], false);
  EXPECT_EQ(response["status"]["code"], 403);
  const std::string message = response["status"]["message"];
  EXPECT_NE(message.find("plaintext-secret at /spec/containers/0/env/3/value"), std::string::npos) << message;
  EXPECT_EQ(response["auditAnnotations"]["decision"], "denied");

  auto audit = c->RoundTrip(Validate(MakeReview(SecretPod(), "etl-audit", "uid-audit")));
  response = ResponseOf(audit);
  EXPECT_EQ(response["uid"], "uid-audit");
  EXPECT_EQ(response["allowed"], true);
  ASSERT_TRUE(response.contains("warnings"));
  EXPECT_FALSE(response["warnings"].empty());
  EXPECT_EQ(response["auditAnnotations"]["mode"], "audit");

  auto mutate = c->RoundTrip(BuildRequest("POST", "/mutate?timeout=10s", MakeReview(CleanPod(), "etl", "m-1").dump()));
  response = ResponseOf(mutate);
  EXPECT_EQ(response["uid"], "m-1");
  EXPECT_EQ(response["allowed"], true);
  EXPECT_FALSE(response.contains("patch"));

  // One audit line per decision, in order.
  const auto lines = server_.AuditLines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(json::parse(lines[1])["uid"], "uid-denied");
  EXPECT_EQ(json::parse(lines[1])["decision"], "denied");
  EXPECT_EQ(json::parse(lines[3])["webhook"], "mutate");
}

TEST_F(WebhookServerTest, MalformedJsonGets400AndTheConnectionStaysUsable) {
  auto c = Connect(server_.port());
  ASSERT_NE(c, nullptr);
  auto reply = c->RoundTrip(BuildRequest("POST", "/validate", R"({"apiVersion": "admission.k8s.io/v1", "kind": )"));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  json response = ResponseOf(reply);
  EXPECT_EQ(response["allowed"], false);
  EXPECT_EQ(response["status"]["code"], 400);
  EXPECT_NE(response["status"]["message"].get<std::string>().find("not valid JSON"), std::string::npos);

  auto next = c->RoundTrip(Validate(MakeReview(CleanPod(), "etl", "after-400")));
  EXPECT_EQ(ResponseOf(next)["uid"], "after-400");
  EXPECT_EQ(
      SeriesValue(server_.metrics().Serialize(), "pipeguard_webhook_rejected_requests_total{reason=\"malformed\"}"), 1);
}

TEST_F(WebhookServerTest, NonAdmissionReviewGets400EchoingTheReadableUid) {
  auto c = Connect(server_.port());
  ASSERT_NE(c, nullptr);
  json review = MakeReview(CleanPod(), "etl", "uid-v1beta1");
  review["apiVersion"] = "admission.k8s.io/v1beta1";
  auto reply = c->RoundTrip(Validate(review));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  json response = ResponseOf(reply);
  EXPECT_EQ(response["uid"], "uid-v1beta1");
  EXPECT_NE(response["status"]["message"].get<std::string>().find("admission.k8s.io/v1"), std::string::npos);

  json no_object = MakeReview(CleanPod(), "etl", "uid-no-object");
  no_object["request"].erase("object");
  reply = c->RoundTrip(Validate(no_object));
  EXPECT_EQ(reply->status, 400);
  EXPECT_EQ(ResponseOf(reply)["uid"], "uid-no-object");

  reply = c->RoundTrip(BuildRequest("POST", "/validate", R"({"kind": "Pod", "apiVersion": "v1"})"));
  EXPECT_EQ(reply->status, 400);
  EXPECT_EQ(ResponseOf(reply)["uid"], "");
  EXPECT_TRUE(server_.AuditLines().empty());  // no decision was made
}

TEST_F(WebhookServerTest, OversizedBodiesGet413) {
  // Just over the limit: read and discarded, the 413 arrives and the connection stays usable.
  auto c = Connect(server_.port());
  ASSERT_NE(c, nullptr);
  json pod = CleanPod();
  pod["metadata"]["annotations"] = {{"filler", std::string(64 * 1024, 'a')}};
  auto reply = c->RoundTrip(Validate(MakeReview(pod, "etl", "too-big")));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 413);
  json response = ResponseOf(reply);
  EXPECT_EQ(response["status"]["code"], 413);
  EXPECT_NE(response["status"]["message"].get<std::string>().find("65536"), std::string::npos);
  EXPECT_EQ(ResponseOf(c->RoundTrip(Validate(MakeReview(CleanPod(), "etl", "after-413"))))["uid"], "after-413");

  // A declared length far over the limit is refused unread, and the connection is closed.
  auto huge = Connect(server_.port());
  ASSERT_NE(huge, nullptr);
  reply = huge->RoundTrip(
      "POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
      "104857600\r\n\r\n{\"a\":");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 413);
  EXPECT_EQ(reply->Header("connection"), "close");
  EXPECT_TRUE(huge->ServerClosed());

  // A chunked body crossing the limit mid-stream.
  auto chunked = Connect(server_.port());
  ASSERT_NE(chunked, nullptr);
  std::string body;
  for (int i = 0; i < 80; ++i) body += "400\r\n" + std::string(1024, ' ') + "\r\n";
  body += "0\r\n\r\n";
  reply = chunked->RoundTrip(
      "POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
      body);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 413);
  EXPECT_TRUE(chunked->ServerClosed());
  EXPECT_EQ(
      SeriesValue(server_.metrics().Serialize(), "pipeguard_webhook_rejected_requests_total{reason=\"too_large\"}"), 3);
}

TEST_F(WebhookServerTest, ChunkedBodiesWithinTheLimitAreServed) {
  auto c = Connect(server_.port());
  ASSERT_NE(c, nullptr);
  const std::string review = MakeReview(CleanPod(), "etl", "chunked-ok").dump();
  const size_t half = review.size() / 2;
  auto hex = [](size_t n) {
    char buffer[20];
    std::snprintf(buffer, sizeof buffer, "%zx", n);
    return std::string(buffer);
  };
  const std::string body = hex(half) + "\r\n" + review.substr(0, half) + "\r\n" + hex(review.size() - half) + "\r\n" +
                           review.substr(half) + "\r\n0\r\n\r\n";
  auto reply = c->RoundTrip(
      "POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
      body);
  EXPECT_EQ(ResponseOf(reply)["uid"], "chunked-ok");
}

TEST_F(WebhookServerTest, BoundaryErrors) {
  struct Case {
    std::string request;
    int status;
    std::string allow;
  };
  const std::string review = MakeReview(CleanPod(), "etl", "b").dump();
  const std::vector<Case> cases = {
      {BuildRequest("GET", "/validate", "", ""), 405, "POST"},
      {BuildRequest("PUT", "/validate", review), 405, "POST"},
      {BuildRequest("POST", "/healthz", "{}"), 405, "GET, HEAD"},
      {BuildRequest("DELETE", "/metrics", "", ""), 405, "GET, HEAD"},
      {BuildRequest("GET", "/", "", ""), 404, ""},
      {BuildRequest("POST", "/validate/extra", review), 404, ""},
      {BuildRequest("POST", "/validate", review, "text/plain"), 415, ""},
      {BuildRequest("POST", "/validate", review, "application/x-www-form-urlencoded"), 415, ""},
      {BuildRequest("POST", "/validate", review, ""), 415, ""},
      {"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\r\n", 411, ""},
      {"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 12x\r\n\r\n", 400, ""},
      {"NOT A REQUEST\r\n\r\n", 400, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.request.substr(0, c.request.find('\r')));
    auto connection = Connect(server_.port());
    ASSERT_NE(connection, nullptr);
    auto reply = connection->RoundTrip(c.request);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, c.status);
    EXPECT_EQ(reply->Header("allow"), c.allow);
    EXPECT_TRUE(json::accept(reply->body)) << reply->body;
  }
  // The JSON media type may carry parameters.
  auto c = Connect(server_.port());
  auto reply = c->RoundTrip(BuildRequest("POST", "/validate", review, "Application/JSON; charset=utf-8"));
  EXPECT_EQ(ResponseOf(reply)["uid"], "b");
}

TEST_F(WebhookServerTest, HealthReadinessAndMetrics) {
  auto c = Connect(server_.port());
  ASSERT_NE(c, nullptr);
  auto healthz = c->RoundTrip(BuildRequest("GET", "/healthz", "", ""));
  EXPECT_EQ(healthz->status, 200);
  auto readyz = c->RoundTrip(BuildRequest("GET", "/readyz", "", ""));
  EXPECT_EQ(readyz->status, 200);
  EXPECT_TRUE(server_.server().ready());
  c->RoundTrip(Validate(MakeReview(SecretPod(), "etl", "m")));
  auto metrics = c->RoundTrip(BuildRequest("GET", "/metrics", "", ""));
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->Header("content-type").find("text/plain"), std::string::npos);
  for (const char* name : {"pipeguard_webhook_requests_total", "pipeguard_webhook_rule_requests_total",
                           "pipeguard_webhook_request_duration_seconds_bucket", "pipeguard_webhook_in_flight_requests",
                           "pipeguard_webhook_reloads_total", "pipeguard_webhook_panics_total"}) {
    EXPECT_NE(metrics->body.find(name), std::string::npos) << name;
  }
  EXPECT_EQ(SeriesValue(metrics->body, "pipeguard_webhook_requests_total{decision=\"denied\",webhook=\"validate\"}"),
            1);
  EXPECT_NE(metrics->body.find("le=\"0.00025\""), std::string::npos);
  EXPECT_NE(metrics->body.find("le=\"5\""), std::string::npos);
}

TEST_F(WebhookServerTest, ConcurrentRequestsAreAllAnsweredCorrectly) {
  constexpr int kThreads = 16, kRequestsPerThread = 50;
  const std::string clean = CleanPod().dump(), secret = SecretPod().dump();
  std::atomic<int> correct{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string error;
      auto c = TlsTestConnection::Connect(server_.port(), &error);
      if (c == nullptr) return;
      for (int i = 0; i < kRequestsPerThread; ++i) {
        const bool deny = (i + t) % 2 == 1;
        const std::string uid = "c-" + std::to_string(t) + "-" + std::to_string(i);
        auto reply = c->RoundTrip(Validate(MakeReview(json::parse(deny ? secret : clean), "etl", uid)));
        if (!reply || reply->status != 200) continue;
        const json body = json::parse(reply->body, nullptr, false);
        if (body.is_discarded()) continue;
        if (body["response"]["uid"] == uid && body["response"]["allowed"] == !deny) ++correct;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(correct.load(), kThreads * kRequestsPerThread);
  const std::string metrics = server_.metrics().Serialize();
  EXPECT_EQ(SeriesValue(metrics, "pipeguard_webhook_requests_total{decision=\"allowed\",webhook=\"validate\"}"),
            kThreads * kRequestsPerThread / 2);
  EXPECT_EQ(SeriesValue(metrics, "pipeguard_webhook_requests_total{decision=\"denied\",webhook=\"validate\"}"),
            kThreads * kRequestsPerThread / 2);
  EXPECT_EQ(SeriesValue(metrics, "pipeguard_webhook_in_flight_requests"), 0);
  EXPECT_EQ(server_.AuditLines().size(), static_cast<size_t>(kThreads * kRequestsPerThread));
}

TEST_F(WebhookServerTest, TlsPolicyRefusesOldProtocolsAndNonForwardSecretCiphers) {
  std::string error;
  testing::ClientTlsOptions tls11;
  tls11.min_version = TLS1_VERSION;
  tls11.max_version = TLS1_1_VERSION;
  tls11.cipher_list = "DEFAULT:@SECLEVEL=0";
  EXPECT_EQ(TlsTestConnection::Connect(server_.port(), &error, tls11), nullptr);

  testing::ClientTlsOptions rsa_kx;
  rsa_kx.max_version = TLS1_2_VERSION;
  rsa_kx.cipher_list = "AES128-GCM-SHA256:AES256-SHA256:AES128-SHA";
  EXPECT_EQ(TlsTestConnection::Connect(server_.port(), &error, rsa_kx), nullptr);

  testing::ClientTlsOptions ecdhe12;  // the control: the same client with an ECDHE suite gets through
  ecdhe12.max_version = TLS1_2_VERSION;
  ecdhe12.cipher_list = "ECDHE-ECDSA-AES128-GCM-SHA256";
  auto c12 = TlsTestConnection::Connect(server_.port(), &error, ecdhe12);
  ASSERT_NE(c12, nullptr) << error;
  EXPECT_EQ(c12->Protocol(), "TLSv1.2");

  testing::ClientTlsOptions verified;  // the default client, verifying the server against its certificate
  verified.ca_pem = server_.ca_pem();
  auto c13 = TlsTestConnection::Connect(server_.port(), &error, verified);
  ASSERT_NE(c13, nullptr) << error;
  EXPECT_EQ(c13->Protocol(), "TLSv1.3");
}

TEST_F(WebhookServerTest, CertificateRotationServesNewConnectionsAndKeepsOldOnes) {
  auto before = Connect(server_.port());
  ASSERT_NE(before, nullptr);
  EXPECT_EQ(before->PeerSerialHex(), "01");
  EXPECT_EQ(ResponseOf(before->RoundTrip(Validate(MakeReview(CleanPod(), "etl", "r-1"))))["uid"], "r-1");

  // Half a rotation: a new certificate with the old key is rejected; new connections still get serial 01.
  const testing::TempDir staging;
  const PemPair second = testing::WritePair(staging.path(), 2);
  testing::CapturedLogs logs;
  testing::WriteText(server_.cert_dir().File("cert.pem.tmp"), second.cert_pem);
  std::filesystem::rename(server_.cert_dir().File("cert.pem.tmp"), server_.cert_dir().File("cert.pem"));
  EXPECT_EQ(server_.watcher().CheckNow(), ReloadOutcome::kRejected);
  EXPECT_EQ(Connect(server_.port())->PeerSerialHex(), "01");

  // The key follows: the pair matches and is swapped in.
  testing::WriteText(server_.cert_dir().File("key.pem.tmp"), second.key_pem);
  std::filesystem::rename(server_.cert_dir().File("key.pem.tmp"), server_.cert_dir().File("key.pem"));
  EXPECT_EQ(server_.watcher().CheckNow(), ReloadOutcome::kReloaded);

  auto after = Connect(server_.port());
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(after->PeerSerialHex(), "02");
  EXPECT_NE(after->PeerSha256Fingerprint(), before->PeerSha256Fingerprint());
  EXPECT_EQ(ResponseOf(after->RoundTrip(Validate(MakeReview(CleanPod(), "etl", "r-2"))))["uid"], "r-2");

  // The keep-alive connection opened before the swap keeps working on its original session.
  EXPECT_EQ(ResponseOf(before->RoundTrip(Validate(MakeReview(CleanPod(), "etl", "r-3"))))["uid"], "r-3");
  EXPECT_EQ(before->PeerSerialHex(), "01");

  const std::string metrics = server_.metrics().Serialize();
  EXPECT_EQ(SeriesValue(metrics, "pipeguard_webhook_reloads_total{result=\"success\",source=\"tls\"}"), 1);
  EXPECT_EQ(SeriesValue(metrics, "pipeguard_webhook_reloads_total{result=\"failure\",source=\"tls\"}"), 1);
}

TEST_F(WebhookServerTest, SecretsNeverAppearInResponsesAuditLinesMetricsOrLogs) {
  testing::CapturedLogs logs;
  auto c = Connect(server_.port());
  ASSERT_NE(c, nullptr);
  std::vector<std::string> bodies;
  for (const char* ns : {"etl", "etl-audit"}) {
    auto reply = c->RoundTrip(Validate(MakeReview(SecretPod(), ns, std::string("redact-") + ns)));
    ASSERT_TRUE(reply);
    bodies.push_back(reply->body);
  }
  // The findings are real (the test is not vacuous): the denial names the rule and the fields.
  const json denied = json::parse(bodies[0])["response"];
  EXPECT_EQ(denied["allowed"], false);
  EXPECT_NE(denied["status"]["message"].get<std::string>().find("plaintext-secret"), std::string::npos);
  // Malformed bodies carrying secrets: their error messages must not echo the input either.
  for (const auto& secret : testing::PlantedSecrets()) {
    auto reply = c->RoundTrip(BuildRequest("POST", "/validate", "{\"request\": {\"uid\": \"" + secret.value));
    ASSERT_TRUE(reply);
    bodies.push_back(reply->body);
  }
  json truncated = MakeReview(SecretPod(), "etl", "redact-trunc");
  bodies.push_back(c->RoundTrip(BuildRequest("POST", "/validate", truncated.dump().substr(0, 900)))->body);
  const std::string metrics = c->RoundTrip(BuildRequest("GET", "/metrics", "", ""))->body;
  std::string audit;
  for (const auto& line : server_.AuditLines()) audit += line + "\n";
  EXPECT_NE(audit.find("/spec/containers/0/env/3/value"), std::string::npos);  // paths, yes

  for (const auto& secret : testing::PlantedSecrets()) {
    SCOPED_TRACE(secret.env_name);
    for (const auto& body : bodies) EXPECT_EQ(body.find(secret.value), std::string::npos) << body;
    EXPECT_EQ(audit.find(secret.value), std::string::npos) << audit;
    EXPECT_EQ(metrics.find(secret.value), std::string::npos);
    EXPECT_EQ(logs.Text().find(secret.value), std::string::npos) << logs.Text();
  }
}

TEST(WebhookServer, SlowClientsAreDisconnected) {
  ServerOptions options;
  options.header_timeout = std::chrono::seconds(1);
  TestServer server(options);
  auto c = Connect(server.port());
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->SendAll("POST /validate HTTP/1.1\r\nHost: x\r\n"));  // ... and nothing more
  EXPECT_TRUE(c->ServerClosed());                                     // at the header deadline, without a reply
}

TEST(WebhookServer, HandlerExceptionsBecomeErrorRepliesAndTheServerSurvives) {
  testing::CapturedLogs logs;
  auto thrower = [](const AdmissionRequest&) -> AdmissionReply { throw std::runtime_error("engine bug"); };
  WebhookMetrics* metrics_ptr = nullptr;
  WebhookEndpoints endpoints;
  endpoints.validate = WithPanicGuard(thrower, [&](std::string_view) { metrics_ptr->RecordPanic(); });
  endpoints.mutate = thrower;  // unguarded: the adapter's last line of defence answers
  auto snapshot = LoadContextSnapshot(testing::TestContextOptions());
  ASSERT_TRUE(snapshot.ok());
  CustomServer custom(std::move(snapshot).value(), std::move(endpoints));
  metrics_ptr = &custom.metrics;

  auto c = Connect(custom.server->port());
  ASSERT_NE(c, nullptr);
  auto guarded = c->RoundTrip(Validate(MakeReview(CleanPod(), "etl", "panic-1")));
  ASSERT_TRUE(guarded);
  EXPECT_EQ(guarded->status, 200);
  json response = ResponseOf(guarded);
  EXPECT_EQ(response["uid"], "panic-1");
  EXPECT_EQ(response["allowed"], false);
  EXPECT_EQ(response["status"]["code"], 500);

  auto unguarded = c->RoundTrip(BuildRequest("POST", "/mutate", MakeReview(CleanPod(), "etl", "panic-2").dump()));
  ASSERT_TRUE(unguarded);
  EXPECT_EQ(unguarded->status, 500);
  EXPECT_EQ(ResponseOf(unguarded)["uid"], "panic-2");

  EXPECT_EQ(c->RoundTrip(BuildRequest("GET", "/healthz", "", ""))->status, 200);
  const std::string metrics = custom.metrics.Serialize();
  EXPECT_EQ(SeriesValue(metrics, "pipeguard_webhook_panics_total"), 1);
  EXPECT_EQ(SeriesValue(metrics, "pipeguard_webhook_rejected_requests_total{reason=\"internal\"}"), 1);
}

TEST(WebhookServer, NotReadyWithoutAContextSnapshot) {
  policy::Engine engine;
  StaticContext empty(nullptr);
  WebhookEndpoints endpoints;
  endpoints.validate = MakeValidatingHandler(engine, empty);
  endpoints.mutate = MakeMutatingHandler();
  CustomServer custom(nullptr, std::move(endpoints));
  auto c = Connect(custom.server->port());
  ASSERT_NE(c, nullptr);
  auto readyz = c->RoundTrip(BuildRequest("GET", "/readyz", "", ""));
  EXPECT_EQ(readyz->status, 503);
  EXPECT_NE(readyz->body.find("policy context not loaded yet"), std::string::npos);
  EXPECT_FALSE(custom.server->ready());
  auto reply = c->RoundTrip(Validate(MakeReview(CleanPod(), "etl", "nr-1")));
  json response = ResponseOf(reply);
  EXPECT_EQ(response["allowed"], false);
  EXPECT_EQ(response["status"]["code"], 503);
}

TEST(WebhookServer, NotReadyUntilTheContextProviderHasSynced) {
  auto snapshot = LoadContextSnapshot(testing::TestContextOptions());
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().message();
  policy::Engine engine;
  StaticContext handler_context(*snapshot);
  WebhookEndpoints endpoints;
  endpoints.validate = MakeValidatingHandler(engine, handler_context);
  endpoints.mutate = MakeMutatingHandler();
  CustomServer custom(*snapshot, std::move(endpoints));
  custom.context.synced = false;
  auto c = Connect(custom.server->port());
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->RoundTrip(BuildRequest("GET", "/readyz", "", ""))->status, 503);
  EXPECT_FALSE(custom.server->ready());
  custom.context.synced = true;
  EXPECT_EQ(c->RoundTrip(BuildRequest("GET", "/readyz", "", ""))->status, 200);
  EXPECT_TRUE(custom.server->ready());
}

TEST(WebhookServer, ShutdownStopsAcceptingAndReportsNotReady) {
  TestServer server;
  const int port = server.port();
  {
    auto c = Connect(port);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->RoundTrip(BuildRequest("GET", "/readyz", "", ""))->status, 200);
  }
  EXPECT_TRUE(server.server().Shutdown(std::chrono::seconds(30)));
  EXPECT_FALSE(server.server().ready());
  std::string error;
  EXPECT_EQ(TlsTestConnection::Connect(port, &error), nullptr);
}

TEST(WebhookServer, ABusyPortIsAClearError) {
  TestServer first;
  testing::TempDir dir;
  const PemPair pair = testing::WritePair(dir.path(), 9);
  CertificateStore certificates(TlsCredentials::FromPem(pair.cert_pem, pair.key_pem, "t").value());
  WebhookMetrics metrics;
  StaticContext context(nullptr);
  ServerOptions options;
  options.port = first.port();
  WebhookServer second(options, certificates, context, metrics, {MakeMutatingHandler(), MakeMutatingHandler()});
  const Status status = second.Start();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("cannot listen on 127.0.0.1:" + std::to_string(first.port())), std::string::npos);
}

}  // namespace
}  // namespace pipeguard::webhook
