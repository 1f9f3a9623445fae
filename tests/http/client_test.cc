// The TLS policy, NewClient and ConnectionPool against loopback TLS servers with a certificate made here.
#include "pipeguard/http/client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "loopback.h"
#include "test_certificate.h"

namespace pipeguard::http {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

using pipeguard::testing::Certificate;

TrustStore CertificateStore() { return TrustStore(Certificate().NewStore(), X509_STORE_free); }

// A loopback HTTPS server; `restrict` may narrow its SSL_CTX (e.g. to TLS 1.1 only).
class TlsServer {
 public:
  explicit TlsServer(const std::function<void(SSL_CTX*)>& restrict = nullptr)
      : server_(Certificate().cert.get(), Certificate().key.get()) {
    if (restrict) restrict(server_.ssl_context());
    server_.Get("/", [](const httplib::Request&, httplib::Response& res) { res.set_content("hello", "text/plain"); });
    port_ = testing::ServeOnLoopback(server_, thread_);
  }
  ~TlsServer() {
    server_.stop();
    thread_.join();
  }
  Url url() const { return Url::Parse("https://127.0.0.1:" + std::to_string(port_) + "/").value(); }

 private:
  httplib::SSLServer server_;
  int port_ = 0;
  std::thread thread_;
};

// Security level 0 on both sides, so that nothing but the protocol version decides whether TLS 1.1 is spoken
// (OpenSSL 3 refuses TLS 1.1 at its default level 1 and above for want of SHA-1 signatures).
void AllowLegacyAlgorithms(SSL_CTX* ctx) {
  SSL_CTX_set_security_level(ctx, 0);
  SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
}

void OnlyTls11(SSL_CTX* ctx) {
  AllowLegacyAlgorithms(ctx);
  SSL_CTX_set_min_proto_version(ctx, TLS1_1_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
}

httplib::Result Get(httplib::Client& client) {
  client.set_connection_timeout(5s);
  client.set_read_timeout(5s);
  return client.Get("/");
}

TEST(TlsPolicy, SetsTls12AsTheMinimumVersion) {
  auto client = NewClient(Url::Parse("https://example.invalid").value(), TlsPolicy{});
  ASSERT_NE(client->ssl_context(), nullptr);
  EXPECT_EQ(SSL_CTX_get_min_proto_version(client->ssl_context()), TLS1_2_VERSION);
}

TEST(TlsPolicy, ATls11OnlyServerIsRefused) {
  TlsServer server(OnlyTls11);
  // Control: a client without the policy (and without verification) does speak TLS 1.1 with this server, so the
  // refusal below is the policy's doing, not OpenSSL's build or defaults.
  httplib::Client legacy(server.url().Origin());
  AllowLegacyAlgorithms(legacy.ssl_context());
  legacy.enable_server_certificate_verification(false);
  auto answer = Get(legacy);
  ASSERT_TRUE(answer) << "this OpenSSL cannot speak TLS 1.1 at all: " << httplib::to_string(answer.error());
  EXPECT_EQ(answer->body, "hello");

  auto client = NewClient(server.url(), TlsPolicy{CertificateStore(), /*verify_peer=*/true});
  AllowLegacyAlgorithms(client->ssl_context());
  auto refused = Get(*client);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), httplib::Error::SSLConnection);
}

TEST(TlsPolicy, ATls12ServerWithTheConfiguredCaIsAccepted) {
  TlsServer server;
  auto client = NewClient(server.url(), TlsPolicy{CertificateStore(), /*verify_peer=*/true});
  auto answer = Get(*client);
  ASSERT_TRUE(answer) << httplib::to_string(answer.error());
  EXPECT_EQ(answer->body, "hello");
}

TEST(TlsPolicy, VerifiesAgainstTheSystemStoreByDefault) {
  TlsServer server;
  auto client = NewClient(server.url(), TlsPolicy{});
  auto answer = Get(*client);
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error(), httplib::Error::SSLServerVerification);
}

TEST(TlsPolicy, SkipsVerificationOnlyWhenExplicitlyInsecure) {
  TlsServer server;
  auto client = NewClient(server.url(), TlsPolicy{nullptr, /*verify_peer=*/false});
  auto answer = Get(*client);
  ASSERT_TRUE(answer) << httplib::to_string(answer.error());
  EXPECT_EQ(answer->body, "hello");
}

TEST(LoadTrustStore, AddsTheConfiguredBundleToTheSystemRoots) {
  const auto path = std::filesystem::temp_directory_path() / ("pipeguard-http-ca-" + std::to_string(::getpid()));
  std::ofstream(path) << Certificate().Pem();
  auto store = LoadTrustStore(path.string(), "registry caFile");
  std::filesystem::remove(path);
  ASSERT_TRUE(store.ok()) << store.status().message();
  TlsServer server;
  auto client = NewClient(server.url(), TlsPolicy{*store, /*verify_peer=*/true});
  auto answer = Get(*client);
  ASSERT_TRUE(answer) << httplib::to_string(answer.error());

  auto missing = LoadTrustStore("/nonexistent/ca.pem", "images.registries[r].caFile");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("images.registries[r].caFile /nonexistent/ca.pem"));
}

TEST(NewClient, KeepsTheConnectionAliveAcrossRequests) {
  httplib::Server server;
  server.Get("/", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
  std::set<int> ports;
  std::mutex mu;
  server.set_pre_routing_handler([&](const httplib::Request& req, httplib::Response&) {
    std::lock_guard lock(mu);
    ports.insert(req.remote_port);
    return httplib::Server::HandlerResponse::Unhandled;
  });
  std::thread thread;
  const int port = testing::ServeOnLoopback(server, thread);
  auto client = NewClient(Url::Parse("http://127.0.0.1:" + std::to_string(port)).value(), TlsPolicy{});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(Get(*client));
  client.reset();  // closes the connection, so that stop() need not wait for the server's keep-alive timeout
  server.stop();
  thread.join();
  EXPECT_EQ(ports.size(), 1u);  // one TCP connection for three requests
}

TEST(ConnectionPool, KeepsAtMostTheBoundPerOrigin) {
  ConnectionPool pool(/*max_idle_per_origin=*/2);
  const std::string a = "https://a:443", b = "https://b:443";
  EXPECT_EQ(pool.TakeIdle(a), nullptr);
  for (int i = 0; i < 3; ++i) pool.GiveBack(a, std::make_unique<httplib::Client>(a));
  pool.GiveBack(b, std::make_unique<httplib::Client>(b));
  EXPECT_NE(pool.TakeIdle(a), nullptr);
  EXPECT_NE(pool.TakeIdle(a), nullptr);
  EXPECT_EQ(pool.TakeIdle(a), nullptr);  // the third was dropped, not kept
  EXPECT_NE(pool.TakeIdle(b), nullptr);  // origins do not share
  EXPECT_EQ(pool.TakeIdle(b), nullptr);
}

TEST(CappedBody, StopsAtTheFirstChunkPastTheCap) {
  CappedBody body(/*limit=*/5);
  EXPECT_TRUE(body.Append("abc", 3));
  EXPECT_TRUE(body.Append("de", 2));  // exactly the cap
  EXPECT_FALSE(body.over_limit());
  EXPECT_FALSE(body.Append("f", 1));
  EXPECT_TRUE(body.over_limit());
  EXPECT_EQ(body.text(), "abcde");  // the refused chunk is not kept
  body.Clear();
  EXPECT_FALSE(body.over_limit());
  body.set_limit(2);
  auto receiver = body.Receiver();
  EXPECT_FALSE(receiver("xyz", 3, 0, 0));
  EXPECT_TRUE(body.text().empty());
}

}  // namespace
}  // namespace pipeguard::http
