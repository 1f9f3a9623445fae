// HttpRegistry: the real OCI distribution client behind registry::Registry (docs:
// ../shared/reference/cosign-signatures.md §7).
//
// Contract:
//   - HTTPS (TLS 1.2 or later, the shared policy of pipeguard/http/client.h) with certificate and host name
//     verification against the system CAs plus the registry's `caFile`; plain HTTP only for registries configured
//     `insecure: true` (a warning is logged for every connection client created for such a registry).
//   - Authentication per registry: anonymous; Basic or Bearer-token challenge flows with the credentials of the
//     registry's `credentialsFile` (dockerconfigjson); ECR hosts use the injected EcrTokenSource when there is one.
//     Bearer tokens are cached per (registry, scope) until their expiry minus a margin. Credentials go only to the
//     registry host and its token realm, never to a redirect target on another host; they never appear in logs or
//     Status messages.
//   - Every call is bounded by its Deadline: connection, read and write timeouts come from the remaining time and
//     body reads stop at the deadline. 429 and 502/503/504 answers are retried with jittered exponential backoff
//     while time remains (Retry-After is honoured when it fits).
//   - At most `max_concurrent_requests_per_registry` requests to one registry are in flight at once; further
//     callers wait (until their deadline) for a slot.
//   - Size limits (RegistryLimits) are enforced while reading: an oversized body is cut off, not buffered.
//   - Thread-safe: one instance serves all admission threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pipeguard/policy/config.h"
#include "pipeguard/registry/ecr.h"
#include "pipeguard/registry/registry.h"

namespace pipeguard::registry {

struct HttpRegistryOptions {
  std::vector<policy::RegistryConfig> registries;  // per-host TLS, insecure and credentials settings
  RegistryLimits limits;
  int max_concurrent_requests_per_registry = 8;
  int max_attempts = 4;                           // per request, for 429/502/503/504 answers
  std::chrono::milliseconds initial_backoff{50};  // doubled per attempt, jittered to [0.5, 1.5) of the value
  std::chrono::milliseconds max_backoff{2000};
  std::chrono::seconds token_expiry_margin{30};      // a cached bearer token is dropped this long before it expires
  std::shared_ptr<EcrTokenSource> ecr_token_source;  // optional; used for hosts that MatchEcrHost recognises
  std::string user_agent = "pipeguard";
  uint64_t random_seed = 0;  // backoff jitter; 0 = seeded from std::random_device
  // The clock of the bearer-token cache (injected by tests); deadlines always use std::chrono::steady_clock.
  std::function<std::chrono::steady_clock::time_point()> token_clock = [] { return std::chrono::steady_clock::now(); };
};

class HttpRegistry final : public Registry {
 public:
  // Validates the options and loads every configured caFile and credentialsFile now, so that a bad path or a
  // malformed file is an InvalidArgument at startup naming the registry and the file, not a failure per image.
  static StatusOr<std::unique_ptr<HttpRegistry>> Create(HttpRegistryOptions options);
  ~HttpRegistry() override;

  StatusOr<std::string> ResolveDigest(const ImageReference& ref, Deadline deadline) override;
  StatusOr<Manifest> GetManifest(const ImageReference& ref, std::string_view tag_or_digest, Deadline deadline) override;
  StatusOr<std::string> GetBlob(const ImageReference& ref, std::string_view digest, size_t max_bytes,
                                Deadline deadline) override;
  StatusOr<std::optional<std::string>> GetReferrers(const ImageReference& ref, std::string_view digest,
                                                    Deadline deadline) override;

  class Impl;

 private:
  explicit HttpRegistry(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "sha256:" + lowercase hex SHA-256 of `bytes`.
std::string Sha256Digest(std::string_view bytes);

// True for "sha256:" followed by exactly 64 lowercase hex digits.
bool IsValidSha256Digest(std::string_view digest);

}  // namespace pipeguard::registry
