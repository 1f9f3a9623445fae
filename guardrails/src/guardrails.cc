#include "pipeguard/guardrails/guardrails.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <optional>

#include "pipeguard/aws/iam_limits.h"
#include "pipeguard/guardrails/iam_policy.h"
#include "pipeguard/policy/json_pointer.h"
#include "pipeguard/profile/cidr.h"
#include "pipeguard/profile/glob.h"
#include "pipeguard/profile/text_checks.h"

namespace pipeguard::guardrails {

using nlohmann::json;
using policy::PointerChild;

namespace {

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out.append(out.empty() ? "" : ", ").append(i);
  return out;
}

bool BucketAllowed(std::string_view bucket, const GuardrailsConfig& g) {
  if (g.allowed_bucket_patterns.empty()) return true;
  const bool wildcard = bucket.find_first_of("*?") != std::string_view::npos;
  return std::any_of(g.allowed_bucket_patterns.begin(), g.allowed_bucket_patterns.end(),
                     [&](const std::string& p) { return wildcard ? p == bucket : api::GlobMatch(p, bucket); });
}

// The bucket named by an S3 ARN ("arn:<partition>:s3:::<bucket>[/key]"), or nullopt for other resources.
std::optional<std::string_view> S3ArnBucket(std::string_view resource) {
  if (!resource.starts_with("arn:")) return std::nullopt;
  const auto s3 = resource.find(":s3:::");
  if (s3 == std::string_view::npos || resource.substr(4, s3 - 4).find(':') != std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view rest = resource.substr(s3 + 6);
  return rest.substr(0, rest.find('/'));
}

void CheckStatements(const api::ParsedProfile& profile, const GuardrailsConfig& g,
                     std::vector<api::GuardrailViolation>& out) {
  const api::AwsSpec& aws = *profile.aws;
  for (size_t i = 0; i < aws.s3.size(); ++i) {
    if (!BucketAllowed(aws.s3[i].bucket, g)) {
      out.push_back({PointerChild(PointerChild("/spec/aws/s3", i), "bucket"),
                     "bucket " + api::Quoted(aws.s3[i].bucket) + " is not allowed by the platform (allowed: " +
                         Join(g.allowed_bucket_patterns) + "); use an allowed bucket or ask the platform team"});
    }
  }
  for (size_t i = 0; i < aws.additional_statements.size(); ++i) {
    const api::RawStatement& st = aws.additional_statements[i];
    if (st.effect != "Allow") continue;  // a Deny only takes access away
    const std::string sp = PointerChild("/spec/aws/additionalStatements", i);
    bool has_s3_action = false;
    for (size_t j = 0; j < st.actions.size(); ++j) {
      has_s3_action = has_s3_action || api::GlobsIntersect(st.actions[j], "s3:*", true);
      for (const auto& f : g.forbidden_actions) {
        if (ActionForbidden(st.actions[j], f)) {
          out.push_back({PointerChild(PointerChild(sp, "actions"), j),
                         "action " + api::Quoted(st.actions[j]) + " is forbidden by the platform guardrail " +
                             api::Quoted(f) + "; remove it or name only the specific actions the pipeline needs"});
          break;
        }
      }
    }
    if (g.allowed_bucket_patterns.empty()) continue;
    for (size_t j = 0; j < st.resources.size(); ++j) {
      const std::string& r = st.resources[j];
      if (auto bucket = S3ArnBucket(r)) {
        if (!BucketAllowed(*bucket, g)) {
          out.push_back({PointerChild(PointerChild(sp, "resources"), j),
                         "bucket " + api::Quoted(*bucket) + " is not allowed by the platform (allowed: " +
                             Join(g.allowed_bucket_patterns) + "); name an allowed bucket explicitly"});
        }
      } else if (r == "*" && has_s3_action) {
        out.push_back({PointerChild(PointerChild(sp, "resources"), j),
                       "Resource \"*\" with S3 actions reaches every bucket, but only some are allowed (" +
                           Join(g.allowed_bucket_patterns) + "); name the bucket ARNs, or use spec.aws.s3"});
      }
    }
  }
}

void CheckEgress(const api::ParsedProfile& profile, const GuardrailsConfig& g,
                 std::vector<api::GuardrailViolation>& out) {
  std::vector<api::Cidr> forbidden;
  for (const auto& f : g.forbidden_egress_cidrs) {
    if (auto c = api::ParseCidr(f); c.ok()) forbidden.push_back(*c);
  }
  for (size_t i = 0; i < profile.network.egress.size(); ++i) {
    const api::EgressRule& rule = profile.network.egress[i];
    if (rule.kind != api::EgressRule::Kind::kCidr) continue;
    auto cidr = api::ParseCidr(rule.cidr);
    if (!cidr.ok()) continue;  // ParseProfile stores only valid CIDRs
    std::vector<api::Cidr> except;
    for (const auto& e : rule.except) {
      if (auto c = api::ParseCidr(e); c.ok()) except.push_back(*c);
    }
    for (const auto& f : forbidden) {
      bool violated = false;
      if (f.prefix_length == 0) {
        violated = cidr->ipv6 == f.ipv6 && cidr->prefix_length == 0;
      } else if (api::CidrsOverlap(*cidr, f)) {
        // The overlap is the smaller of the two blocks; the rule allows part of it unless `except` covers it all.
        const api::Cidr& overlap = api::CidrContains(*cidr, f) ? f : *cidr;
        violated = !api::CidrCoveredBy(overlap, except);
      }
      if (violated) {
        out.push_back(
            {PointerChild(PointerChild("/spec/network/egress", i), "cidr"),
             "egress to " + rule.cidr + " is forbidden by the platform guardrail " + f.ToString() +
                 (f.prefix_length == 0 ? "; name the specific networks the pipeline needs (e.g. a VPC endpoint subnet)"
                                       : "; narrow the cidr or add " + f.ToString() + " to except")});
        break;
      }
    }
  }
}

void CheckInlinePolicy(const api::ParsedProfile& profile, const GuardrailsConfig& g, const aws::IamLimits& limits,
                       std::string_view partition, std::vector<api::GuardrailViolation>& out) {
  const json document = CompileInlinePolicy(profile, partition);
  const size_t statements = document["Statement"].size();
  if (g.max_statements > 0 && statements > static_cast<size_t>(g.max_statements)) {
    out.push_back({"/spec/aws", "the compiled IAM policy has " + std::to_string(statements) +
                                    " statements, more than the platform allows (" + std::to_string(g.max_statements) +
                                    "); merge grants (one entry per bucket with several prefixes) or split the "
                                    "pipeline into several profiles"});
  }
  const std::string text = CanonicalInlinePolicy(profile, partition);
  auto size = aws::PolicySize(text);
  if (size.ok() && *size > limits.inline_policies_max) {
    out.push_back({"/spec/aws", "the compiled IAM policy is " + std::to_string(*size) +
                                    " characters, more than IAM's inline policy quota (" +
                                    std::to_string(limits.inline_policies_max) +
                                    "); use fewer prefixes, topics or statements, or split the pipeline into several "
                                    "profiles"});
  }
}

}  // namespace

bool ActionForbidden(std::string_view action, std::string_view forbidden) {
  if (forbidden == "*" || forbidden == "*:*") {
    // Not confined to one named service: the service part (before ':', or the whole action) has a wildcard.
    const auto colon = action.find(':');
    const std::string_view service = colon == std::string_view::npos ? action : action.substr(0, colon);
    return service.find_first_of("*?") != std::string_view::npos;
  }
  return api::GlobsIntersect(action, forbidden, /*case_insensitive=*/true);
}

std::vector<api::GuardrailViolation> CheckGuardrails(const api::ParsedProfile& profile,
                                                     const GuardrailsConfig& guardrails, const aws::IamLimits& limits,
                                                     std::string_view partition) {
  std::vector<api::GuardrailViolation> out;
  if (profile.aws) {
    CheckStatements(profile, guardrails, out);
    CheckInlinePolicy(profile, guardrails, limits, partition, out);
  }
  CheckEgress(profile, guardrails, out);
  return out;
}

std::vector<api::GuardrailViolation> CheckProfileGuardrails(const json& profile_object,
                                                            const GuardrailsConfig& guardrails,
                                                            const aws::IamLimits& limits) {
  api::ProfileReading reading = api::ReadProfile(profile_object);
  for (auto& v : CheckGuardrails(reading.profile, guardrails, limits)) reading.problems.push_back(std::move(v));
  return std::move(reading.problems);
}

StatusOr<GuardrailsConfig> ParseGuardrailsDocument(std::string_view yaml_text, const std::string& source) {
  bool operator_config = false;
  try {
    const YAML::Node root = YAML::Load(std::string(yaml_text));
    operator_config = root.IsMap() && root["guardrails"].IsDefined();
  } catch (const YAML::Exception&) {
    // Not YAML: ParseGuardrailsConfig reports where and why.
  }
  if (operator_config) {
    auto config = ParseOperatorConfig(yaml_text, source);
    if (!config.ok()) return config.status();
    return std::move(config).value().guardrails;
  }
  return ParseGuardrailsConfig(yaml_text, source);
}

policy::ProfileCheck GuardrailsProfileCheck(GuardrailsConfig guardrails) {
  return [guardrails = std::move(guardrails)](const api::ParsedProfile& profile) {
    return CheckGuardrails(profile, guardrails);
  };
}

}  // namespace pipeguard::guardrails
