// ECR registry credentials from AWS: the registry::EcrTokenSource that HttpRegistry uses for
// <account>.dkr.ecr.<region>.amazonaws.com hosts.
//
// Tokens come from ecr:GetAuthorizationToken, SigV4-signed with credentials from the environment or, on EKS, from
// the pod's IRSA web identity (aws::MakeDefaultCredentialsChain). One token per region is cached until its
// expiry minus a margin (ECR tokens live 12 h); Invalidate (the registry answered 401) drops it. Thread-safe:
// concurrent callers for one region share one fetch.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "pipeguard/aws/clock.h"
#include "pipeguard/aws/credentials.h"
#include "pipeguard/base/status.h"
#include "pipeguard/registry/ecr.h"

namespace pipeguard::imageverify {

struct AwsEcrTokenSourceOptions {
  // Send every ECR and STS call here instead of AWS (tests: a moto server such as http://127.0.0.1:5000).
  std::string endpoint_override;
  // Signing credentials. Null: the default chain (environment, then IRSA web identity) from the process environment.
  std::shared_ptr<aws::CredentialsProvider> credentials;
  std::chrono::minutes refresh_margin{30};
  const aws::Clock* clock = nullptr;  // null: the system clock
};

// Errors: InvalidArgument for a malformed endpoint_override.
StatusOr<std::shared_ptr<registry::EcrTokenSource>> MakeAwsEcrTokenSource(AwsEcrTokenSourceOptions options = {});

}  // namespace pipeguard::imageverify
