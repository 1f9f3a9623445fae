#include "pipeguard/webhook/tls.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <utility>

#include "pipeguard/manifest/documents.h"

namespace pipeguard::webhook {

namespace {

constexpr size_t kMaxPemBytes = 1u << 20;

// TLS 1.2 suites: ECDHE key exchange (forward secrecy) with AEAD ciphers only. TLS 1.3 suites are all AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kTls13Suites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

// The most recent OpenSSL error as text (OpenSSL's messages name the failing operation, never key material).
std::string OpenSslError() {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof buffer);
  return buffer;
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

BioPtr MemoryBio(std::string_view text) { return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size()))); }

// Serves the store's current pair to each handshake. Runs on the accepting worker thread.
int ServeCurrentCertificate(SSL* ssl, void* arg) {
  const auto* store = static_cast<const CertificateStore*>(arg);
  const std::shared_ptr<const TlsCredentials> pair = store->Current();
  if (pair == nullptr) return 0;  // aborts the handshake
  return SSL_use_cert_and_key(ssl, pair->leaf(), pair->key(), pair->chain(), 1) == 1 ? 1 : 0;
}

}  // namespace

TlsCredentials::~TlsCredentials() {
  X509_free(leaf_);
  if (chain_ != nullptr) sk_X509_pop_free(chain_, X509_free);
  EVP_PKEY_free(key_);
}

StatusOr<std::shared_ptr<const TlsCredentials>> TlsCredentials::FromPem(std::string_view cert_pem,
                                                                        std::string_view key_pem,
                                                                        const std::string& source) {
  ERR_clear_error();
  std::shared_ptr<TlsCredentials> creds(new TlsCredentials());
  BioPtr cert_bio = MemoryBio(cert_pem);
  if (!cert_bio) return Status::Internal(source + ": cannot allocate a buffer: " + OpenSslError());
  creds->leaf_ = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr);
  if (creds->leaf_ == nullptr) {
    return Status::InvalidArgument(source + ": no PEM certificate found (" + OpenSslError() +
                                   "); the certificate file must hold a PEM \"BEGIN CERTIFICATE\" block");
  }
  creds->chain_ = sk_X509_new_null();
  while (X509* extra = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)) {
    sk_X509_push(creds->chain_, extra);
  }
  ERR_clear_error();  // the loop ends with a "no start line" error

  BioPtr key_bio = MemoryBio(key_pem);
  if (!key_bio) return Status::Internal(source + ": cannot allocate a buffer: " + OpenSslError());
  creds->key_ = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr);
  if (creds->key_ == nullptr) {
    return Status::InvalidArgument(source + ": no unencrypted PEM private key found (" + OpenSslError() +
                                   "); the key file must hold a PEM private key without a passphrase");
  }
  if (X509_check_private_key(creds->leaf_, creds->key_) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument(source +
                                   ": the private key does not match the certificate (a rotation may be half "
                                   "written; pipeguard keeps serving the previous pair until both files match)");
  }
  return std::shared_ptr<const TlsCredentials>(std::move(creds));
}

StatusOr<std::shared_ptr<const TlsCredentials>> TlsCredentials::LoadFiles(const std::string& cert_path,
                                                                          const std::string& key_path) {
  auto cert = manifest::ReadFile(cert_path, kMaxPemBytes);
  if (!cert.ok()) return Status::InvalidArgument("TLS certificate " + cert.status().message());
  auto key = manifest::ReadFile(key_path, kMaxPemBytes);
  if (!key.ok()) return Status::InvalidArgument("TLS key " + key.status().message());
  return FromPem(*cert, *key, cert_path + " + " + key_path);
}

std::string TlsCredentials::SerialHex() const {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf_), nullptr);
  if (bn == nullptr) return "";
  char* hex = BN_bn2hex(bn);
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

std::string TlsCredentials::Sha256Fingerprint() const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(leaf_, EVP_sha256(), digest, &length) != 1) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xF];
  }
  return out;
}

std::chrono::system_clock::time_point TlsCredentials::NotAfter() const {
  struct tm t {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(leaf_), &t) != 1) return {};
  return std::chrono::system_clock::from_time_t(timegm(&t));
}

bool ConfigureServerTls(SSL_CTX& ctx, const CertificateStore& store) {
  bool ok = SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION) == 1;
  SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                SSL_OP_NO_TICKET | SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
  ok = ok && SSL_CTX_set_cipher_list(&ctx, kTls12Ciphers) == 1;
  ok = ok && SSL_CTX_set_ciphersuites(&ctx, kTls13Suites) == 1;
  ok = ok && SSL_CTX_set1_groups_list(&ctx, "X25519:P-256:P-384") == 1;
  SSL_CTX_set_session_cache_mode(&ctx, SSL_SESS_CACHE_OFF);
  ok = ok && SSL_CTX_set_num_tickets(&ctx, 0) == 1;
  SSL_CTX_set_cert_cb(&ctx, &ServeCurrentCertificate, const_cast<CertificateStore*>(&store));
  if (!ok) spdlog::error("TLS setup failed: {}", OpenSslError());
  return ok;
}

CertificateWatcher::CertificateWatcher(std::string cert_path, std::string key_path, CertificateStore& store,
                                       ReloadObserver observer)
    : cert_path_(std::move(cert_path)), key_path_(std::move(key_path)), store_(store), observer_(std::move(observer)) {}

CertificateWatcher::~CertificateWatcher() { Stop(); }

StatusOr<std::unique_ptr<CertificateWatcher>> CertificateWatcher::Create(std::string cert_path, std::string key_path,
                                                                         CertificateStore& store,
                                                                         ReloadObserver observer) {
  std::unique_ptr<CertificateWatcher> watcher(
      new CertificateWatcher(std::move(cert_path), std::move(key_path), store, std::move(observer)));
  watcher->cert_stamp_ = StampFile(watcher->cert_path_);
  watcher->key_stamp_ = StampFile(watcher->key_path_);
  auto pair = TlsCredentials::LoadFiles(watcher->cert_path_, watcher->key_path_);
  if (!pair.ok()) return pair.status();
  store.Replace(std::move(pair).value());
  return watcher;
}

ReloadOutcome CertificateWatcher::CheckNow() {
  const FileStamp cert = StampFile(cert_path_), key = StampFile(key_path_);
  if (cert == cert_stamp_ && key == key_stamp_) return ReloadOutcome::kUnchanged;
  cert_stamp_ = cert;
  key_stamp_ = key;
  auto pair = TlsCredentials::LoadFiles(cert_path_, key_path_);
  if (!pair.ok()) {
    spdlog::error("TLS reload rejected, still serving the previous certificate: {}", pair.status().message());
    if (observer_) observer_(false);
    return ReloadOutcome::kRejected;
  }
  const std::string serial = (*pair)->SerialHex();
  store_.Replace(std::move(pair).value());
  spdlog::info("TLS certificate reloaded from {} (serial {})", cert_path_, serial);
  if (observer_) observer_(true);
  return ReloadOutcome::kReloaded;
}

void CertificateWatcher::Start(std::chrono::milliseconds interval) {
  if (task_ == nullptr) task_ = std::make_unique<PeriodicTask>(interval, [this] { CheckNow(); });
}

void CertificateWatcher::Stop() { task_.reset(); }

StatusOr<PemPair> GenerateSelfSigned(const SelfSignedOptions& options) {
  ERR_clear_error();
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  if (!key) return Status::Internal("cannot generate an EC key: " + OpenSslError());
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  if (!cert) return Status::Internal("cannot allocate a certificate: " + OpenSslError());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set_int64(X509_get_serialNumber(cert.get()), options.serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(options.validity.count()));
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(options.common_name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);

  std::string san;
  for (const auto& dns : options.dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + dns;
  for (const auto& ip : options.ip_addresses) san += (san.empty() ? "IP:" : ",IP:") + ip;
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  const std::pair<int, std::string> extensions[] = {
      {NID_basic_constraints, "critical,CA:TRUE"},
      {NID_key_usage, "critical,digitalSignature,keyCertSign"},
      {NID_ext_key_usage, "serverAuth"},
      {NID_subject_alt_name, san},
  };
  for (const auto& [nid, value] : extensions) {
    if (value.empty()) continue;
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (ext == nullptr)
      return Status::InvalidArgument("bad certificate extension \"" + value + "\": " + OpenSslError());
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return Status::Internal("cannot sign the certificate: " + OpenSslError());
  }

  PemPair out;
  BioPtr cert_out(BIO_new(BIO_s_mem())), key_out(BIO_new(BIO_s_mem()));
  if (!cert_out || !key_out || PEM_write_bio_X509(cert_out.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(key_out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Status::Internal("cannot encode the certificate: " + OpenSslError());
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(cert_out.get(), &data);
  out.cert_pem.assign(data, static_cast<size_t>(n));
  n = BIO_get_mem_data(key_out.get(), &data);
  out.key_pem.assign(data, static_cast<size_t>(n));
  return out;
}

}  // namespace pipeguard::webhook
