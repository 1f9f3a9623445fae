// ECR host recognition and the static token source (contract in pipeguard/registry/ecr.h).
#include "pipeguard/registry/ecr.h"

#include <regex>

namespace pipeguard::registry {

std::optional<EcrRegistry> MatchEcrHost(std::string_view host) {
  // The Kubernetes ECR credential provider's pattern (cloud-provider-aws pkg/credentialprovider/plugin/ecr).
  static const std::regex kPattern(
      R"(^(\d{12})\.dkr[\.\-]ecr(\-fips)?\.([a-zA-Z0-9][a-zA-Z0-9\-_]*)\.(amazonaws\.com(?:\.cn)?|on\.(?:aws|amazonwebservices\.com\.cn)|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$)",
      std::regex::ECMAScript | std::regex::icase);
  std::string name(host.substr(0, host.find(':')));
  if (name.size() > 253) return std::nullopt;
  std::smatch match;
  if (!std::regex_match(name, match, kPattern)) return std::nullopt;
  return EcrRegistry{match[1].str(), match[3].str(), match[2].matched};
}

StaticEcrTokenSource::StaticEcrTokenSource(std::string authorization_token,
                                           std::chrono::system_clock::time_point expires_at)
    : authorization_{std::move(authorization_token), expires_at} {}

StatusOr<EcrAuthorization> StaticEcrTokenSource::GetAuthorization(const EcrRegistry&, Deadline) {
  if (authorization_.authorization_token.empty()) {
    return Status::PermissionDenied("no ECR authorization token is configured");
  }
  return authorization_;
}

void StaticEcrTokenSource::Invalidate(const EcrRegistry&) {
  std::lock_guard<std::mutex> lock(mu_);
  ++invalidations_;
}

int StaticEcrTokenSource::invalidations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return invalidations_;
}

}  // namespace pipeguard::registry
