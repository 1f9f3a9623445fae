// The operator's configuration and the platform guardrails, parsed strictly from YAML into immutable values.
//
// Unknown keys are errors (a typo must not switch a control off); every error names the source, the line (from
// yaml-cpp's marks) and the key, and says what is accepted.
//
//   clusterName: prod-eu-1                 # lowercase [a-z0-9-], 1..32; part of every role name and path
//   awsAccountId: "123456789012"
//   awsPartition: aws                      # aws | aws-cn | aws-us-gov
//   oidcIssuerUrl: https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF
//   permissionsBoundaryArn: arn:aws:iam::123456789012:policy/pipeguard-boundary   # mandatory
//   rolePathPrefix: /pipeguard/            # roles live under <prefix><clusterName>/
//   stsEgressCidrs: [10.0.8.0/24]          # where pods reach STS (an STS VPC endpoint subnet); see network_policy.h
//   resyncPeriod: 10m                      # drift resync for IAM (AWS has no watch); 1m..24h
//   guardrails: {...}                      # see GuardrailsConfig
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/base/status.h"

namespace pipeguard::guardrails {

// Platform guardrails that profiles must respect; checked by the webhook at admission (rule profile-guardrail)
// and by the operator before reconciling (guardrails.h).
//
//   guardrails:
//     allowedBucketPatterns: ["acme-data-*"]   # globs; empty list = any bucket
//     forbiddenActions: ["*", "iam:*", "sts:*", "organizations:*"]
//     forbiddenEgressCidrs: ["0.0.0.0/0", "::/0", "169.254.169.254/32", "fd00:ec2::254/128"]
//     maxStatements: 100                     # statements in the compiled inline policy; 0 = no limit
struct GuardrailsConfig {
  std::vector<std::string> allowed_bucket_patterns;
  std::vector<std::string> forbidden_actions{"*", "iam:*", "sts:*", "organizations:*"};
  std::vector<std::string> forbidden_egress_cidrs{"0.0.0.0/0", "::/0", "169.254.169.254/32", "fd00:ec2::254/128"};
  int max_statements = 100;
};

struct OperatorConfig {
  std::string cluster_name;
  std::string aws_account_id;
  std::string aws_partition = "aws";
  std::string oidc_issuer_url;  // https://host/path, no trailing slash after parsing
  std::string permissions_boundary_arn;
  std::string role_path_prefix = "/pipeguard/";
  std::vector<std::string> sts_egress_cidrs;  // canonical CIDRs; empty = not configured
  std::chrono::seconds resync_period{600};
  GuardrailsConfig guardrails;

  // "oidc.eks.eu-west-1.amazonaws.com/id/0123..." (the issuer without its scheme): the IAM OIDC provider's name
  // and the prefix of the trust policy's condition keys.
  std::string OidcProviderHostPath() const;
};

// Parses a whole operator configuration file. Mandatory: clusterName, awsAccountId, oidcIssuerUrl,
// permissionsBoundaryArn. `source` (a file name) prefixes error messages ("operator.yaml:7: key: problem").
StatusOr<OperatorConfig> ParseOperatorConfig(std::string_view yaml_text, const std::string& source);

// Parses a guardrails document on its own (the mapping shown above, without the `guardrails:` key), for the webhook.
StatusOr<GuardrailsConfig> ParseGuardrailsConfig(std::string_view yaml_text, const std::string& source);

}  // namespace pipeguard::guardrails
