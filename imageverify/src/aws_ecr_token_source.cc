#include "pipeguard/imageverify/aws_ecr_token_source.h"

#include <map>
#include <mutex>

#include "pipeguard/aws/ecr.h"
#include "pipeguard/aws/http.h"
#include "pipeguard/aws/service_client.h"
#include "pipeguard/aws/sts.h"

namespace pipeguard::imageverify {
namespace {

class AwsEcrTokenSource final : public registry::EcrTokenSource {
 public:
  AwsEcrTokenSource(AwsEcrTokenSourceOptions options, std::optional<aws::Endpoint> endpoint)
      : options_(std::move(options)),
        endpoint_(std::move(endpoint)),
        clock_(options_.clock != nullptr ? *options_.clock : aws::SystemClock()),
        http_(aws::MakeHttplibAwsHttpClient()) {
    if (!options_.credentials) {
      // STS is only used for IRSA's unsigned AssumeRoleWithWebIdentity; its region does not matter for that call.
      sts_service_ = std::make_unique<aws::ServiceClient>(Config(aws::StsServiceConfig("us-east-1")), *http_, nullptr,
                                                          clock_, random_);
      sts_ = std::make_unique<aws::StsClient>(*sts_service_);
      options_.credentials = aws::MakeDefaultCredentialsChain(aws::ProcessEnvironment(), *sts_, clock_);
    }
  }

  StatusOr<registry::EcrAuthorization> GetAuthorization(const registry::EcrRegistry& registry,
                                                        registry::Deadline deadline) override {
    Region& region = RegionFor(registry.region);
    std::lock_guard<std::mutex> lock(region.mu);  // concurrent callers of one region share one fetch
    const auto now = clock_.Now();
    if (region.token && region.token->expires_at - options_.refresh_margin > now) return *region.token;
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::DeadlineExceeded("ECR token for region " + registry.region + ": deadline passed before the call");
    }
    auto fetched = region.ecr->GetAuthorizationToken();
    if (!fetched.ok()) {
      const Status status = fetched.status();
      return Status(status.code(), "ECR GetAuthorizationToken in " + registry.region + ": " + status.message());
    }
    registry::EcrAuthorization authorization{fetched.value().token, fetched.value().expires_at};
    region.token = authorization;
    return authorization;
  }

  void Invalidate(const registry::EcrRegistry& registry) override {
    Region& region = RegionFor(registry.region);
    std::lock_guard<std::mutex> lock(region.mu);
    region.token.reset();
  }

 private:
  struct Region {
    std::mutex mu;
    std::unique_ptr<aws::ServiceClient> service;
    std::unique_ptr<aws::EcrClient> ecr;
    std::optional<registry::EcrAuthorization> token;
  };

  aws::ServiceConfig Config(aws::ServiceConfig config) const {
    if (endpoint_) config.endpoint = *endpoint_;
    return config;
  }

  Region& RegionFor(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& region = regions_[name];
    if (!region) {
      region = std::make_unique<Region>();
      region->service = std::make_unique<aws::ServiceClient>(Config(aws::EcrServiceConfig(name)), *http_,
                                                             options_.credentials.get(), clock_, random_);
      region->ecr = std::make_unique<aws::EcrClient>(*region->service);
    }
    return *region;
  }

  AwsEcrTokenSourceOptions options_;
  std::optional<aws::Endpoint> endpoint_;
  const aws::Clock& clock_;
  aws::SystemRandom random_;
  std::unique_ptr<aws::AwsHttpClient> http_;
  std::unique_ptr<aws::ServiceClient> sts_service_;
  std::unique_ptr<aws::StsClient> sts_;
  std::mutex mu_;  // guards regions_ (the map, not the regions)
  std::map<std::string, std::unique_ptr<Region>> regions_;
};

}  // namespace

StatusOr<std::shared_ptr<registry::EcrTokenSource>> MakeAwsEcrTokenSource(AwsEcrTokenSourceOptions options) {
  std::optional<aws::Endpoint> endpoint;
  if (!options.endpoint_override.empty()) {
    auto parsed = aws::Endpoint::Parse(options.endpoint_override);
    if (!parsed.ok()) {
      return Status::InvalidArgument("ECR endpoint override: " + parsed.status().message());
    }
    endpoint = parsed.value();
  }
  return std::shared_ptr<registry::EcrTokenSource>(
      std::make_shared<AwsEcrTokenSource>(std::move(options), std::move(endpoint)));
}

}  // namespace pipeguard::imageverify
