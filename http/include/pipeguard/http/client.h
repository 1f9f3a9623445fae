// The one place where HTTP clients are made: every client of the AWS, registry and Kubernetes adapters gets the
// same TLS policy, keep-alive and TCP settings from NewClient, and reuses connections through ConnectionPool.
//
// Contract:
//   - TLS policy (ApplyTlsPolicy, applied by NewClient): TLS 1.2 is the minimum protocol version; the server's
//   certificate and host name
//     are verified against TlsPolicy::trust (null: the system's default trust store) unless the caller explicitly
//     set verify_peer = false (configured insecure). A trust store from LoadTrustStore holds the system roots plus
//     the configured CA bundle.
//   - NewClient: keep-alive on, TCP_NODELAY on (httplib writes headers and body separately: without it the body
//     waits for the server's delayed ACK on a reused connection), redirects never followed by httplib (callers
//     decide, so credentials are not forwarded), request targets sent byte-exact (callers encode them).
//   - ConnectionPool: idle connections per origin, at most max_idle_per_origin each; a connection goes back only
//     after a complete response, when it is between requests. Thread-safe.
#pragma once

#include <httplib.h>
#include <openssl/ssl.h>

#include <cstddef>
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

class ConnectionPool {
 public:
  explicit ConnectionPool(size_t max_idle_per_origin) : max_idle_per_origin_(max_idle_per_origin) {}

  // An idle client for `origin` (Url::Origin()), or nullptr when there is none.
  std::unique_ptr<httplib::Client> TakeIdle(const std::string& origin);
  // Keeps `client` for reuse unless `origin` already has max_idle_per_origin idle clients.
  void GiveBack(const std::string& origin, std::unique_ptr<httplib::Client> client);

 private:
  const size_t max_idle_per_origin_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<httplib::Client>>> idle_;  // by origin
};

}  // namespace pipeguard::http
