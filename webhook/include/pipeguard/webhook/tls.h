// TLS for the webhook: certificate/key pairs, an atomically swapped holder that every handshake reads, the
// server TLS policy, and a watcher that reloads the pair when cert-manager rotates the files.
//
// Rotation never drops connections: established connections keep the session they negotiated; each new
// handshake picks the holder's current pair through SSL_CTX_set_cert_cb. A pair whose key does not match its
// certificate (for example, caught between the two file writes of a rotation) is rejected and the previous pair
// stays in service.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/webhook/file_watch.h"

namespace pipeguard::webhook {

// An immutable certificate chain (leaf first) with its private key. Thread-safe to share.
class TlsCredentials {
 public:
  // Parses PEM text: the first certificate is the leaf, further ones the chain. `source` names the origin in
  // errors. Fails when the key does not match the leaf certificate.
  static StatusOr<std::shared_ptr<const TlsCredentials>> FromPem(std::string_view cert_pem, std::string_view key_pem,
                                                                 const std::string& source);
  static StatusOr<std::shared_ptr<const TlsCredentials>> LoadFiles(const std::string& cert_path,
                                                                   const std::string& key_path);
  ~TlsCredentials();
  TlsCredentials(const TlsCredentials&) = delete;
  TlsCredentials& operator=(const TlsCredentials&) = delete;

  X509* leaf() const { return leaf_; }
  STACK_OF(X509) * chain() const { return chain_; }
  EVP_PKEY* key() const { return key_; }
  std::string SerialHex() const;          // the leaf's serial number, upper-case hex
  std::string Sha256Fingerprint() const;  // of the leaf's DER, lower-case hex
  std::chrono::system_clock::time_point NotAfter() const;

 private:
  TlsCredentials() = default;
  X509* leaf_ = nullptr;
  STACK_OF(X509) * chain_ = nullptr;
  EVP_PKEY* key_ = nullptr;
};

// Holds the pair served to new handshakes. Current() and Replace() are thread-safe and lock-free for readers.
class CertificateStore {
 public:
  CertificateStore() = default;
  explicit CertificateStore(std::shared_ptr<const TlsCredentials> initial) : current_(std::move(initial)) {}
  std::shared_ptr<const TlsCredentials> Current() const { return current_.load(); }
  void Replace(std::shared_ptr<const TlsCredentials> next) { current_.store(std::move(next)); }

 private:
  std::atomic<std::shared_ptr<const TlsCredentials>> current_;
};

// Applies the server TLS policy to `ctx` (TLS 1.2 minimum; for 1.2 only ECDHE key exchange with AEAD ciphers;
// no compression, renegotiation, session tickets or session cache) and installs a certificate callback that
// serves `store.Current()` on every handshake. `store` must outlive `ctx`. Returns false if OpenSSL refused a
// setting.
bool ConfigureServerTls(SSL_CTX& ctx, const CertificateStore& store);

// Polls a certificate and key file pair and swaps a valid new pair into a store.
class CertificateWatcher {
 public:
  // Loads the pair (error if missing, unreadable or mismatched), stores it in `store` and remembers the files'
  // stamps. `store` must outlive the watcher.
  static StatusOr<std::unique_ptr<CertificateWatcher>> Create(std::string cert_path, std::string key_path,
                                                              CertificateStore& store, ReloadObserver observer = {});
  ~CertificateWatcher();

  // Reloads when either file changed since the last attempt. A bad pair is logged (error level) and rejected; the
  // store keeps the previous pair and the same stamps are not retried until a file changes again. Call from one
  // thread at a time (Start()'s thread, or a test).
  ReloadOutcome CheckNow();
  void Start(std::chrono::milliseconds interval = std::chrono::seconds(1));
  void Stop();

 private:
  CertificateWatcher(std::string cert_path, std::string key_path, CertificateStore& store, ReloadObserver observer);
  std::string cert_path_, key_path_;
  CertificateStore& store_;
  ReloadObserver observer_;
  FileStamp cert_stamp_, key_stamp_;
  std::unique_ptr<PeriodicTask> task_;
};

// A throwaway self-signed certificate (ECDSA P-256, SHA-256) for tests, benchmarks and demos.
struct SelfSignedOptions {
  std::string common_name = "localhost";
  std::vector<std::string> dns_names = {"localhost"};
  std::vector<std::string> ip_addresses = {"127.0.0.1"};
  long serial = 1;
  std::chrono::seconds validity = std::chrono::hours(24);
};
struct PemPair {
  std::string cert_pem;
  std::string key_pem;
};
StatusOr<PemPair> GenerateSelfSigned(const SelfSignedOptions& options = {});

}  // namespace pipeguard::webhook
