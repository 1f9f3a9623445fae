// The one place where HTTP clients are made: every client of the AWS, registry and Kubernetes adapters gets the
// same TLS policy, keep-alive and TCP settings from NewClient, and reuses connections through ConnectionPool.
//
// Contract:
//   - TLS policy (ApplyTlsPolicy, applied by NewClient): TLS 1.2 is the minimum protocol version; the server's
//   certificate and host name
//     are verified against TlsPolicy::trust (null: the system's default trust store) unless the caller explicitly
//     set verify_peer = false (configured insecure). A trust store from LoadTrustStore holds the system roots plus
//     the configured CA bundle.
//   - NewClient (SetConnectionDefaults): keep-alive on, TCP_NODELAY on (httplib writes headers and body separately:
//   without it the body
//     waits for the server's delayed ACK on a reused connection), redirects never followed by httplib (callers
//     decide, so credentials are not forwarded), request targets sent byte-exact (callers encode them).
//   - CappedBody: the one size cap on response bodies, enforced while reading.
//   - ConnectionPool: idle connections per origin, at most max_idle_per_origin each; a connection goes back only
//     after a complete response, when it is between requests. Thread-safe.
#pragma once

#include <httplib.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/http/url.h"

namespace pipeguard::http {

using TrustStore = std::shared_ptr<X509_STORE>;

// The system's default CA certificates plus those of `ca_file` (a PEM bundle) when it is not empty. `where` names
// the setting in the error message (e.g. "images.registries[r.corp].caFile").
StatusOr<TrustStore> LoadTrustStore(const std::string& ca_file, const std::string& where);

struct TlsPolicy {
  TrustStore trust;         // null: the system's default trust store
  bool verify_peer = true;  // false only when the caller's configuration explicitly says insecure
};

// Sets the policy on an https client (minimum version, trust store, verification); a plain-HTTP one is left as is.
void ApplyTlsPolicy(httplib::Client& client, const TlsPolicy& policy);

// A client for url's origin with the policy above. Plain-HTTP URLs get no TLS (the caller decided to allow them).
std::unique_ptr<httplib::Client> NewClient(const Url& url, const TlsPolicy& tls);

// The settings every connection gets, whatever its class (httplib::Client, or httplib::SSLClient where a client
// certificate is needed): keep-alive, TCP_NODELAY, no redirect following, byte-exact targets.
template <typename HttplibClient>
void SetConnectionDefaults(HttplibClient& client) {
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  client.set_follow_location(false);
  client.set_url_encode(false);
}

// The protocol half of the TLS policy (TLS 1.2 minimum), for clients that verify peers themselves.
void SetMinimumTlsVersion(SSL_CTX* ctx);

// A response body read into memory up to a cap: Append refuses (and over_limit() turns true) the first chunk that
// would pass it, so that the caller stops the read and an oversized body is never buffered.
class CappedBody {
 public:
  explicit CappedBody(size_t limit) : limit_(limit) {}

  // The content receiver for an httplib::Request that appends here.
  httplib::ContentReceiverWithProgress Receiver() {
    return [this](const char* data, size_t len, uint64_t, uint64_t) { return Append(data, len); };
  }
  bool Append(const char* data, size_t len) {
    if (len > limit_ - std::min(limit_, text_.size())) {
      over_limit_ = true;
      return false;
    }
    text_.append(data, len);
    return true;
  }
  void set_limit(size_t limit) { limit_ = limit; }
  size_t limit() const { return limit_; }
  bool over_limit() const { return over_limit_; }
  std::string& text() { return text_; }
  // Empties the body for another attempt of the request.
  void Clear() {
    text_.clear();
    over_limit_ = false;
  }

 private:
  size_t limit_;
  bool over_limit_ = false;
  std::string text_;
};

template <typename HttplibClient>
class BasicConnectionPool {
 public:
  explicit BasicConnectionPool(size_t max_idle_per_origin) : max_idle_per_origin_(max_idle_per_origin) {}

  // An idle client for `origin` (Url::Origin()), or nullptr when there is none.
  std::unique_ptr<HttplibClient> TakeIdle(const std::string& origin) {
    std::lock_guard lock(mu_);
    auto it = idle_.find(origin);
    if (it == idle_.end() || it->second.empty()) return nullptr;
    std::unique_ptr<HttplibClient> client = std::move(it->second.back());
    it->second.pop_back();
    return client;
  }
  // Keeps `client` for reuse unless `origin` already has max_idle_per_origin idle clients.
  void GiveBack(const std::string& origin, std::unique_ptr<HttplibClient> client) {
    std::lock_guard lock(mu_);
    auto& idle = idle_[origin];
    if (idle.size() < max_idle_per_origin_) idle.push_back(std::move(client));
  }

 private:
  const size_t max_idle_per_origin_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<HttplibClient>>> idle_;  // by origin
};

using ConnectionPool = BasicConnectionPool<httplib::Client>;

}  // namespace pipeguard::http
