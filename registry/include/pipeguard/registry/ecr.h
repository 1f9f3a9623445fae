// AWS ECR registry recognition and the token source interface (docs: ../shared/reference/cosign-signatures.md §7.5).
//
// ECR registries answer `WWW-Authenticate: Basic` and accept `Authorization: Basic <authorizationToken>`, where
// the token comes from the SigV4-signed ecr:GetAuthorizationToken call. HttpRegistry obtains it through the
// injected EcrTokenSource; the AWS component provides the real implementation.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "pipeguard/base/status.h"
#include "pipeguard/registry/registry.h"

namespace pipeguard::registry {

struct EcrRegistry {
  std::string account_id;  // 12 digits
  std::string region;      // e.g. "eu-west-1"
  bool fips = false;
};

// Recognises "<12-digit account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]" and the other AWS partitions and
// dual-stack forms (the pattern of the Kubernetes ECR credential provider). The host may carry a ":port"
// (ignored for matching). Returns nullopt for anything else.
std::optional<EcrRegistry> MatchEcrHost(std::string_view host);

struct EcrAuthorization {
  std::string authorization_token;  // base64("AWS:<password>"), sent verbatim after "Basic "; secret
  std::chrono::system_clock::time_point expires_at;
};

// Thread-safe. Implementations cache and refresh tokens themselves (ECR tokens live 12 h).
class EcrTokenSource {
 public:
  virtual ~EcrTokenSource() = default;
  // A token valid for `registry`. Errors: PermissionDenied (AWS refused), Unavailable, DeadlineExceeded.
  virtual StatusOr<EcrAuthorization> GetAuthorization(const EcrRegistry& registry, Deadline deadline) = 0;
  // The registry rejected the last token (401): the next GetAuthorization must fetch a new one.
  virtual void Invalidate(const EcrRegistry& registry) = 0;
};

// A fixed token, for tests and for operators who mount a token refreshed by an external job.
class StaticEcrTokenSource final : public EcrTokenSource {
 public:
  explicit StaticEcrTokenSource(std::string authorization_token, std::chrono::system_clock::time_point expires_at =
                                                                     std::chrono::system_clock::time_point::max());
  StatusOr<EcrAuthorization> GetAuthorization(const EcrRegistry& registry, Deadline deadline) override;
  void Invalidate(const EcrRegistry& registry) override;
  int invalidations() const;

 private:
  EcrAuthorization authorization_;
  mutable std::mutex mu_;
  int invalidations_ = 0;
};

}  // namespace pipeguard::registry
