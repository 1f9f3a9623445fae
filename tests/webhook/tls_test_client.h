// A small blocking HTTPS/1.1 client on raw OpenSSL for the webhook tests and the throughput benchmark.
//
// Unlike a library client it exposes what the tests assert on: one TLS connection reused for many requests (so a
// test can prove a keep-alive connection survived a certificate rotation), the peer certificate, the negotiated
// protocol, and raw request bytes (malformed requests, partial bodies). Not thread-safe: one connection per thread.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace pipeguard::webhook::testing {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

struct ClientTlsOptions {
  int min_version = 0;      // e.g. TLS1_2_VERSION; 0 = OpenSSL default
  int max_version = 0;      // e.g. TLS1_1_VERSION to probe the server's minimum
  std::string cipher_list;  // TLS 1.2 and below; empty = default
  std::string ca_pem;       // verify the server against this CA (and host 127.0.0.1); empty = no verification
  int timeout_ms = 10000;   // per socket read/write
};

class TlsTestConnection {
 public:
  // Connects to 127.0.0.1:port and completes the TLS handshake. On failure returns nullptr and sets `error`.
  static std::unique_ptr<TlsTestConnection> Connect(int port, std::string* error, const ClientTlsOptions& options = {});
  ~TlsTestConnection();
  TlsTestConnection(const TlsTestConnection&) = delete;
  TlsTestConnection& operator=(const TlsTestConnection&) = delete;

  bool SendAll(std::string_view bytes);
  // Reads one response framed by Content-Length. nullopt on EOF, error or timeout.
  std::optional<HttpResponse> ReadResponse();
  // SendAll + ReadResponse.
  std::optional<HttpResponse> RoundTrip(std::string_view request);
  // True when the server closed the connection (EOF or error) within the read timeout, with no further data.
  bool ServerClosed();

  std::string PeerSerialHex() const;
  std::string PeerSha256Fingerprint() const;
  std::string Protocol() const;  // e.g. "TLSv1.3"
  std::string Cipher() const;

 private:
  TlsTestConnection() = default;
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string buffer_;
};

// A plain TCP connection to 127.0.0.1:port that never starts TLS (a silent client); -1 on failure. The caller
// closes it.
int ConnectPlainTcp(int port);
// True when the peer closes `fd` (EOF or reset) within `timeout`.
bool PeerClosesWithin(int fd, std::chrono::milliseconds timeout);

// An HTTP/1.1 request with Host, Content-Type (when non-empty) and Content-Length headers.
std::string BuildRequest(std::string_view method, std::string_view path, std::string_view body = "",
                         std::string_view content_type = "application/json", std::string_view extra_headers = "");

}  // namespace pipeguard::webhook::testing
