// Shared fixtures of the reconciler tests (fake, cached and real control plane): one operator configuration and
// one profile whose expected IAM role, ServiceAccount and NetworkPolicies the tests assert on.
#pragma once

#include <nlohmann/json.hpp>

#include "pipeguard/guardrails/config.h"

namespace pipeguard::reconcilers::testing {

inline guardrails::OperatorConfig TestConfig() {
  guardrails::OperatorConfig c;
  c.cluster_name = "test";
  c.aws_account_id = "123456789012";
  c.oidc_issuer_url = "https://oidc.example.com/id/ABC";
  c.permissions_boundary_arn = "arn:aws:iam::123456789012:policy/pg-boundary";
  c.sts_egress_cidrs = {"10.0.8.0/24"};
  return c;
}

// data/etl: S3 read on acme-raw, egress to 10.20.0.0/16:5432, ServiceAccount etl-sa.
inline nlohmann::json ProfileObject() {
  return nlohmann::json::parse(R"({
    "apiVersion": "pipeguard.io/v1alpha1", "kind": "PipelineSecurityProfile",
    "metadata": {"name": "etl", "namespace": "data"},
    "spec": {
      "podSelector": {"matchLabels": {"app": "etl"}},
      "serviceAccount": {"name": "etl-sa"},
      "aws": {"s3": [{"bucket": "acme-raw", "access": "read"}]},
      "network": {"egress": [{"cidr": "10.20.0.0/16", "ports": [{"port": 5432}]}]}
    }})");
}

}  // namespace pipeguard::reconcilers::testing
