// TLS pairs and the file watcher that rotates them (no sockets here; see server_test.cc for handshakes).
#include "pipeguard/webhook/tls.h"

#include <gtest/gtest.h>

#include <thread>

#include "test_support.h"

namespace pipeguard::webhook {
namespace {

using testing::TempDir;
using testing::WriteText;

PemPair Generate(long serial) {
  SelfSignedOptions options;
  options.serial = serial;
  auto pair = GenerateSelfSigned(options);
  EXPECT_TRUE(pair.ok()) << pair.status().message();
  return *pair;
}

TEST(TlsCredentials, LoadsAMatchingPair) {
  const PemPair pair = Generate(0x1234);
  auto creds = TlsCredentials::FromPem(pair.cert_pem, pair.key_pem, "test");
  ASSERT_TRUE(creds.ok()) << creds.status().message();
  EXPECT_EQ((*creds)->SerialHex(), "1234");
  EXPECT_EQ((*creds)->Sha256Fingerprint().size(), 64u);
  EXPECT_GT((*creds)->NotAfter(), std::chrono::system_clock::now());
}

TEST(TlsCredentials, RejectsAKeyOfAnotherCertificate) {
  const PemPair a = Generate(1), b = Generate(2);
  auto creds = TlsCredentials::FromPem(a.cert_pem, b.key_pem, "cert.pem + key.pem");
  ASSERT_FALSE(creds.ok());
  EXPECT_NE(creds.status().message().find("does not match"), std::string::npos) << creds.status().message();
  EXPECT_NE(creds.status().message().find("cert.pem + key.pem"), std::string::npos);
}

TEST(TlsCredentials, RejectsGarbageWithoutQuotingIt) {
  const PemPair a = Generate(1);
  auto no_cert = TlsCredentials::FromPem("not a certificate", a.key_pem, "c");
  ASSERT_FALSE(no_cert.ok());
  EXPECT_NE(no_cert.status().message().find("no PEM certificate"), std::string::npos);
  auto no_key = TlsCredentials::FromPem(a.cert_pem, "-----BEGIN PRIVATE KEY-----\nAAAA\n", "c");
  ASSERT_FALSE(no_key.ok());
  EXPECT_NE(no_key.status().message().find("private key"), std::string::npos);
  EXPECT_EQ(no_key.status().message().find("AAAA"), std::string::npos);
}

TEST(TlsCredentials, KeepsIntermediateCertificatesAsChain) {
  const PemPair leaf = Generate(10), intermediate = Generate(11);
  auto creds = TlsCredentials::FromPem(leaf.cert_pem + intermediate.cert_pem, leaf.key_pem, "chain");
  ASSERT_TRUE(creds.ok()) << creds.status().message();
  EXPECT_EQ(sk_X509_num((*creds)->chain()), 1);
  EXPECT_EQ((*creds)->SerialHex(), "0A");
}

TEST(TlsCredentials, MissingFilesAreNamed) {
  auto creds = TlsCredentials::LoadFiles("/nonexistent/cert.pem", "/nonexistent/key.pem");
  ASSERT_FALSE(creds.ok());
  EXPECT_NE(creds.status().message().find("/nonexistent/cert.pem"), std::string::npos);
}

// Rewrites a file so that its stamp surely changes (size or inode), independent of timestamp granularity.
void Replace(const std::string& path, const std::string& text) {
  const std::string temp = path + ".new";
  WriteText(temp, text);
  std::filesystem::rename(temp, path);
}

TEST(CertificateWatcher, SwapsValidPairsAndKeepsTheOldOneOnAMismatch) {
  TempDir dir;
  const PemPair first = Generate(1), second = Generate(2);
  WriteText(dir.File("cert.pem"), first.cert_pem);
  WriteText(dir.File("key.pem"), first.key_pem);
  CertificateStore store;
  std::vector<bool> results;
  auto watcher = CertificateWatcher::Create(dir.File("cert.pem"), dir.File("key.pem"), store,
                                            [&](bool ok) { results.push_back(ok); });
  ASSERT_TRUE(watcher.ok()) << watcher.status().message();
  EXPECT_EQ(store.Current()->SerialHex(), "01");
  EXPECT_EQ((*watcher)->CheckNow(), ReloadOutcome::kUnchanged);

  testing::CapturedLogs logs;
  // cert-manager writes the certificate first: the pair does not match until the key follows.
  Replace(dir.File("cert.pem"), second.cert_pem);
  EXPECT_EQ((*watcher)->CheckNow(), ReloadOutcome::kRejected);
  EXPECT_EQ(store.Current()->SerialHex(), "01");
  EXPECT_NE(logs.Text().find("TLS reload rejected"), std::string::npos);
  EXPECT_EQ((*watcher)->CheckNow(), ReloadOutcome::kUnchanged);  // not retried until a file changes

  Replace(dir.File("key.pem"), second.key_pem);
  EXPECT_EQ((*watcher)->CheckNow(), ReloadOutcome::kReloaded);
  EXPECT_EQ(store.Current()->SerialHex(), "02");
  EXPECT_EQ(results, (std::vector<bool>{false, true}));
}

TEST(CertificateWatcher, RemovedFilesKeepTheCurrentPair) {
  TempDir dir;
  const PemPair first = Generate(7);
  WriteText(dir.File("cert.pem"), first.cert_pem);
  WriteText(dir.File("key.pem"), first.key_pem);
  CertificateStore store;
  auto watcher = CertificateWatcher::Create(dir.File("cert.pem"), dir.File("key.pem"), store);
  ASSERT_TRUE(watcher.ok());
  std::filesystem::remove(dir.File("key.pem"));
  testing::CapturedLogs logs;
  EXPECT_EQ((*watcher)->CheckNow(), ReloadOutcome::kRejected);
  EXPECT_EQ(store.Current()->SerialHex(), "07");
}

TEST(ConfigureServerTls, RefusesNothingItSetsItself) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  ASSERT_NE(ctx, nullptr);
  CertificateStore store;
  EXPECT_TRUE(ConfigureServerTls(*ctx, store));
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
  SSL_CTX_free(ctx);
}

}  // namespace
}  // namespace pipeguard::webhook
