#include "pipeguard/guardrails/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "pipeguard/base/yaml_reader.h"
#include "pipeguard/profile/cidr.h"
#include "pipeguard/profile/text_checks.h"

namespace pipeguard::guardrails {
namespace {

Status ParseGuardrailsNode(const base::YamlReader& r, const YAML::Node& node, const std::string& where,
                           GuardrailsConfig& out) {
  if (node.IsNull()) return Status::Ok();
  if (auto s = r.CheckKeys(node, where,
                           {"allowedBucketPatterns", "forbiddenActions", "forbiddenEgressCidrs", "maxStatements"});
      !s.ok()) {
    return s;
  }
  if (const auto n = node["allowedBucketPatterns"]) {
    const std::string key = base::YamlReader::Join(where, "allowedBucketPatterns");
    if (auto s = r.StringList(n, key, out.allowed_bucket_patterns); !s.ok()) return s;
    for (size_t i = 0; i < out.allowed_bucket_patterns.size(); ++i) {
      const auto& p = out.allowed_bucket_patterns[i];
      const bool ok = !p.empty() && std::all_of(p.begin(), p.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '*' || c == '?';
      });
      if (!ok) return r.Error(n[i], key, "\"" + p + "\" is not a bucket glob (lowercase letters, digits, . - * ?)");
    }
  }
  if (const auto n = node["forbiddenActions"]) {
    const std::string key = base::YamlReader::Join(where, "forbiddenActions");
    if (auto s = r.StringList(n, key, out.forbidden_actions); !s.ok()) return s;
    for (size_t i = 0; i < out.forbidden_actions.size(); ++i) {
      const auto& a = out.forbidden_actions[i];
      const bool ok = a == "*" || (a.find(':') != std::string::npos && a.find(':') == a.rfind(':') &&
                                   a.front() != ':' && a.back() != ':');
      if (!ok)
        return r.Error(n[i], key, "\"" + a + "\" is not an IAM action pattern (service:Action, \"iam:*\", \"*\")");
    }
  }
  if (const auto n = node["forbiddenEgressCidrs"]) {
    const std::string key = base::YamlReader::Join(where, "forbiddenEgressCidrs");
    std::vector<std::string> cidrs;
    if (auto s = r.StringList(n, key, cidrs); !s.ok()) return s;
    out.forbidden_egress_cidrs.clear();
    for (size_t i = 0; i < cidrs.size(); ++i) {
      auto c = api::ParseCidr(cidrs[i]);
      if (!c.ok()) return r.Error(n[i], key, c.status().message());
      if (c->HasHostBits()) return r.Error(n[i], key, cidrs[i] + " has host bits set; did you mean " + c->ToString());
      out.forbidden_egress_cidrs.push_back(c->ToString());
    }
  }
  if (const auto n = node["maxStatements"]) {
    if (auto s = r.Int(n, base::YamlReader::Join(where, "maxStatements"), 0, 10000, out.max_statements); !s.ok())
      return s;
  }
  return Status::Ok();
}

Status ValidateIssuer(const base::YamlReader& r, const YAML::Node& node, std::string& issuer) {
  const std::string problem =
      "must be the cluster's OIDC issuer URL, https://<host>[/<path>] without query or fragment (EKS: `aws eks "
      "describe-cluster --query cluster.identity.oidc.issuer`)";
  if (!issuer.starts_with("https://")) return r.Error(node, "oidcIssuerUrl", problem);
  while (issuer.ends_with("/")) issuer.pop_back();
  const std::string rest = issuer.substr(8);
  if (rest.empty() || rest.front() == '/' || rest.find_first_of("?#@ \t") != std::string::npos ||
      !api::IsPolicyText(rest)) {
    return r.Error(node, "oidcIssuerUrl", problem);
  }
  return Status::Ok();
}

}  // namespace

std::string OperatorConfig::OidcProviderHostPath() const {
  return oidc_issuer_url.starts_with("https://") ? oidc_issuer_url.substr(8) : oidc_issuer_url;
}

StatusOr<OperatorConfig> ParseOperatorConfig(std::string_view yaml_text, const std::string& source) {
  base::YamlReader r(source);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(source + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
  OperatorConfig out;
  try {
    if (auto s = r.CheckKeys(root, "",
                             {"clusterName", "awsAccountId", "awsPartition", "oidcIssuerUrl", "permissionsBoundaryArn",
                              "rolePathPrefix", "stsEgressCidrs", "resyncPeriod", "guardrails"});
        !s.ok()) {
      return s;
    }
    for (const char* required : {"clusterName", "awsAccountId", "oidcIssuerUrl", "permissionsBoundaryArn"}) {
      if (!root[required]) {
        return r.Error(root, required, "is required (see docs/configuration.md, operator section)");
      }
    }
    if (auto s = r.String(root["clusterName"], "clusterName", out.cluster_name); !s.ok()) return s;
    const auto& c = out.cluster_name;
    if (c.empty() || c.size() > 32 || c.front() == '-' || c.back() == '-' ||
        !std::all_of(c.begin(), c.end(),
                     [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-'; })) {
      return r.Error(root["clusterName"], "clusterName",
                     "must be 1..32 lowercase letters, digits and '-' (it is part of every role name and path; IAM "
                     "role names are case-insensitive, so one lowercase spelling per cluster)");
    }
    if (auto s = r.String(root["awsAccountId"], "awsAccountId", out.aws_account_id); !s.ok()) return s;
    if (out.aws_account_id.size() != 12 || !std::all_of(out.aws_account_id.begin(), out.aws_account_id.end(),
                                                        [](char ch) { return ch >= '0' && ch <= '9'; })) {
      return r.Error(root["awsAccountId"], "awsAccountId",
                     "must be the 12-digit account ID, quoted (\"012345678901\")");
    }
    if (const auto n = root["awsPartition"]) {
      if (auto s = r.String(n, "awsPartition", out.aws_partition); !s.ok()) return s;
      if (out.aws_partition != "aws" && out.aws_partition != "aws-cn" && out.aws_partition != "aws-us-gov") {
        return r.Error(n, "awsPartition", "must be aws, aws-cn or aws-us-gov");
      }
    }
    if (auto s = r.String(root["oidcIssuerUrl"], "oidcIssuerUrl", out.oidc_issuer_url); !s.ok()) return s;
    if (auto s = ValidateIssuer(r, root["oidcIssuerUrl"], out.oidc_issuer_url); !s.ok()) return s;
    if (auto s = r.String(root["permissionsBoundaryArn"], "permissionsBoundaryArn", out.permissions_boundary_arn);
        !s.ok()) {
      return s;
    }
    api::Arn arn;
    if (!api::ParseArn(out.permissions_boundary_arn, "iam", arn, false) || !arn.region.empty() ||
        !arn.resource.starts_with("policy/") || arn.partition != out.aws_partition ||
        out.permissions_boundary_arn.find_first_of("*? ") != std::string::npos) {
      return r.Error(root["permissionsBoundaryArn"], "permissionsBoundaryArn",
                     "must be a managed policy ARN in partition " + out.aws_partition + ", arn:" + out.aws_partition +
                         ":iam::<account>:policy/<name> (a boundary is mandatory: it caps "
                         "what any profile's role can do)");
    }
    if (const auto n = root["rolePathPrefix"]) {
      if (auto s = r.String(n, "rolePathPrefix", out.role_path_prefix); !s.ok()) return s;
      const auto& p = out.role_path_prefix;
      const bool ok = p.size() >= 1 && p.size() <= 400 && p.front() == '/' && p.back() == '/' &&
                      std::all_of(p.begin(), p.end(), [](char ch) { return ch >= '!' && ch <= '~'; });
      if (!ok) return r.Error(n, "rolePathPrefix", "must start and end with '/', e.g. /pipeguard/ (printable ASCII)");
    }
    if (const auto n = root["stsEgressCidrs"]) {
      std::vector<std::string> cidrs;
      if (auto s = r.StringList(n, "stsEgressCidrs", cidrs); !s.ok()) return s;
      for (size_t i = 0; i < cidrs.size(); ++i) {
        auto parsed = api::ParseCidr(cidrs[i]);
        if (!parsed.ok()) return r.Error(n[i], "stsEgressCidrs", parsed.status().message());
        if (parsed->HasHostBits()) {
          return r.Error(n[i], "stsEgressCidrs", cidrs[i] + " has host bits set; did you mean " + parsed->ToString());
        }
        out.sts_egress_cidrs.push_back(parsed->ToString());
      }
    }
    if (const auto n = root["resyncPeriod"]) {
      if (auto s = r.Duration(n, "resyncPeriod", out.resync_period); !s.ok()) return s;
      if (out.resync_period < std::chrono::minutes(1) || out.resync_period > std::chrono::hours(24)) {
        return r.Error(n, "resyncPeriod", "must be between 1m and 24h");
      }
    }
    if (const auto n = root["guardrails"]) {
      if (auto s = ParseGuardrailsNode(r, n, "guardrails", out.guardrails); !s.ok()) return s;
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return out;
}

StatusOr<GuardrailsConfig> ParseGuardrailsConfig(std::string_view yaml_text, const std::string& source) {
  base::YamlReader r(source);
  GuardrailsConfig out;
  try {
    const YAML::Node root = YAML::Load(std::string(yaml_text));
    if (auto s = ParseGuardrailsNode(r, root, "", out); !s.ok()) return s;
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(source + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
  return out;
}

}  // namespace pipeguard::guardrails
