#include "tls_test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace pipeguard::webhook::testing {

namespace {

std::string LastSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "TLS error";
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof buffer);
  return buffer;
}

}  // namespace

std::unique_ptr<TlsTestConnection> TlsTestConnection::Connect(int port, std::string* error,
                                                              const ClientTlsOptions& options) {
  auto fail = [&](std::string why) -> std::unique_ptr<TlsTestConnection> {
    if (error != nullptr) *error = std::move(why);
    return nullptr;
  };
  // A write after the server closed the connection (what the hostile-client tests do) must fail, not kill the
  // test process.
  ::signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<TlsTestConnection> c(new TlsTestConnection());
  c->fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd_ < 0) return fail("socket: " + std::string(std::strerror(errno)));
  timeval tv{options.timeout_ms / 1000, (options.timeout_ms % 1000) * 1000};
  ::setsockopt(c->fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(c->fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  const int one = 1;
  ::setsockopt(c->fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(c->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return fail("connect: " + std::string(std::strerror(errno)));
  }
  c->ctx_ = SSL_CTX_new(TLS_client_method());
  if (c->ctx_ == nullptr) return fail(LastSslError());
  if (options.min_version != 0) SSL_CTX_set_min_proto_version(c->ctx_, options.min_version);
  if (options.max_version != 0) SSL_CTX_set_max_proto_version(c->ctx_, options.max_version);
  if (!options.cipher_list.empty() && SSL_CTX_set_cipher_list(c->ctx_, options.cipher_list.c_str()) != 1) {
    return fail("cipher list: " + LastSslError());
  }
  if (!options.ca_pem.empty()) {
    BIO* bio = BIO_new_mem_buf(options.ca_pem.data(), static_cast<int>(options.ca_pem.size()));
    X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (ca == nullptr) return fail("CA PEM: " + LastSslError());
    X509_STORE_add_cert(SSL_CTX_get_cert_store(c->ctx_), ca);
    X509_free(ca);
    SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_PEER, nullptr);
  }
  c->ssl_ = SSL_new(c->ctx_);
  if (c->ssl_ == nullptr) return fail(LastSslError());
  if (!options.ca_pem.empty()) X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl_), "127.0.0.1");
  SSL_set_fd(c->ssl_, c->fd_);
  if (SSL_connect(c->ssl_) != 1) return fail("TLS handshake failed: " + LastSslError());
  return c;
}

TlsTestConnection::~TlsTestConnection() {
  if (ssl_ != nullptr) {
    SSL_shutdown(ssl_);
    SSL_free(ssl_);
  }
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
}

bool TlsTestConnection::SendAll(std::string_view bytes) {
  while (!bytes.empty()) {
    const int n = SSL_write(ssl_, bytes.data(), static_cast<int>(std::min<size_t>(bytes.size(), 1 << 20)));
    if (n <= 0) {
      ERR_clear_error();
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::optional<HttpResponse> TlsTestConnection::ReadResponse() {
  auto fill = [&]() -> bool {
    char chunk[16384];
    const int n = SSL_read(ssl_, chunk, sizeof chunk);
    if (n <= 0) {
      ERR_clear_error();
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  };
  size_t header_end;
  while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return std::nullopt;
  }
  HttpResponse response;
  const std::string head = buffer_.substr(0, header_end);
  size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12 || status_line.compare(0, 5, "HTTP/") != 0) return std::nullopt;
  response.status = std::atoi(status_line.c_str() + 9);
  while (line_end != std::string::npos) {
    const size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return std::tolower(ch); });
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    response.headers[name] = value;
  }
  const size_t length = static_cast<size_t>(std::atoll(response.Header("content-length").c_str()));
  const size_t body_start = header_end + 4;
  while (buffer_.size() < body_start + length) {
    if (!fill()) return std::nullopt;
  }
  response.body = buffer_.substr(body_start, length);
  buffer_.erase(0, body_start + length);
  return response;
}

std::optional<HttpResponse> TlsTestConnection::RoundTrip(std::string_view request) {
  if (!SendAll(request)) return std::nullopt;
  return ReadResponse();
}

bool TlsTestConnection::ServerClosed() {
  if (!buffer_.empty()) return false;
  char byte;
  errno = 0;
  const int n = SSL_read(ssl_, &byte, 1);
  const int error = SSL_get_error(ssl_, n);
  const int saved_errno = errno;
  ERR_clear_error();
  if (n > 0) {
    buffer_.push_back(byte);
    return false;
  }
  if (error == SSL_ERROR_ZERO_RETURN || error == SSL_ERROR_SSL) return true;  // close_notify, or a fatal alert
  // SSL_ERROR_SYSCALL: EOF without close_notify (errno 0) or a reset; a receive timeout is EAGAIN.
  return !(saved_errno == EAGAIN || saved_errno == EWOULDBLOCK);
}

std::string TlsTestConnection::PeerSerialHex() const {
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (cert == nullptr) return "";
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  char* hex = BN_bn2hex(bn);
  std::string out = hex;
  OPENSSL_free(hex);
  BN_free(bn);
  X509_free(cert);
  return out;
}

std::string TlsTestConnection::PeerSha256Fingerprint() const {
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (cert == nullptr) return "";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  X509_digest(cert, EVP_sha256(), digest, &length);
  X509_free(cert);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xF];
  }
  return out;
}

std::string TlsTestConnection::Protocol() const { return SSL_get_version(ssl_); }

std::string TlsTestConnection::Cipher() const { return SSL_get_cipher_name(ssl_); }

std::string BuildRequest(std::string_view method, std::string_view path, std::string_view body,
                         std::string_view content_type, std::string_view extra_headers) {
  std::string request;
  request.reserve(body.size() + 256);
  request.append(method).append(" ").append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  if (!content_type.empty()) request.append("Content-Type: ").append(content_type).append("\r\n");
  if (!body.empty() || method == "POST") request.append("Content-Length: " + std::to_string(body.size()) + "\r\n");
  request.append(extra_headers);
  request.append("\r\n");
  request.append(body);
  return request;
}

int ConnectPlainTcp(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool PeerClosesWithin(int fd, std::chrono::milliseconds timeout) {
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char byte;
  const ssize_t n = ::recv(fd, &byte, 1, 0);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

}  // namespace pipeguard::webhook::testing
