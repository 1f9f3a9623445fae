// Platform guardrails for parsed profiles, as lists of violations with JSON-pointer paths. Pure.
//
// The webhook and `pipeguard scan` run CheckGuardrails through the engine's profile check (GuardrailsProfileCheck)
// and report each violation under rule `profile-guardrail`; the operator calls it (and CheckIamLimits, iam_role.h)
// before any AWS call and reports Ready=False with the messages. A profile the grammar found problems in is checked
// as far as it could be read, so that one answer lists every problem (docs/profile.md).
//
// Semantics:
//  - allowedBucketPatterns: every spec.aws.s3[].bucket must match one glob (case-sensitive; bucket names are
//    lowercase). Allow additionalStatements naming S3 ARNs must name a bucket matching one glob (a wildcard bucket
//    must equal an allowed glob), and may not pair S3 actions with Resource "*".
//  - forbiddenActions: checked against the actions of Allow additionalStatements (Deny statements only remove
//    access). An action is forbidden when it could grant an action the entry names, comparing globs
//    case-insensitively: entry "iam:*" catches "iam:PassRole", "iam:*", "i*:*", "*:*" and "*". The entries "*" and
//    "*:*" (which as globs would forbid everything) forbid actions not confined to one named service, i.e. whose
//    service part contains a wildcard ("*", "*:*", "s*:*").
//  - forbiddenEgressCidrs: checked against spec.network.egress[].cidr minus its `except` list. An entry of prefix
//    length 0 ("0.0.0.0/0", "::/0": everywhere) is broken only by a rule whose cidr is that whole family (excepts
//    carving out a few ranges still leave "everywhere"). Any other entry is broken when the rule allows some
//    address inside it (overlap not covered by `except`): "169.254.169.254/32" catches 169.254.0.0/16 and
//    0.0.0.0/0, but not 169.254.0.0/16 with except 169.254.169.254/32.
//  - maxStatements: statements in the compiled inline policy (iam_policy.h); 0 disables the check.
//  - The compiled inline policy must fit IAM's inline policy quota (10,240 characters without whitespace).
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "pipeguard/aws/iam_limits.h"
#include "pipeguard/base/status.h"
#include "pipeguard/guardrails/config.h"
#include "pipeguard/policy/engine.h"
#include "pipeguard/profile/profile.h"

namespace pipeguard::guardrails {

// Every problem of `profile_object`: the grammar's (api::ReadProfile) and the guardrails' on what could be read.
// Empty result = allowed. The inline policy size is estimated for partition "aws".
std::vector<api::GuardrailViolation> CheckProfileGuardrails(const nlohmann::json& profile_object,
                                                            const GuardrailsConfig& guardrails,
                                                            const aws::IamLimits& limits = {});

// The guardrails alone, for a parsed profile (possibly a partial reading: see above).
std::vector<api::GuardrailViolation> CheckGuardrails(const api::ParsedProfile& profile,
                                                     const GuardrailsConfig& guardrails,
                                                     const aws::IamLimits& limits = {},
                                                     std::string_view partition = "aws");

// True when IAM action `action` (possibly with wildcards) is forbidden by entry `forbidden` (semantics above).
bool ActionForbidden(std::string_view action, std::string_view forbidden);

// The guardrails the webhook and `pipeguard scan` enforce, from `yaml_text` (`source` names it in messages): either
//  - a whole operator configuration (a mapping with a top-level `guardrails:` key), validated strictly by
//    ParseOperatorConfig exactly as the operator does (so its mandatory keys must be present), or
//  - a bare guardrails document (the mapping under `guardrails:`), parsed by ParseGuardrailsConfig.
// One file then serves the operator and the admission side: a single source of truth.
StatusOr<GuardrailsConfig> ParseGuardrailsDocument(std::string_view yaml_text, const std::string& source);

// The engine's profile check (rule profile-guardrail): CheckGuardrails against `guardrails`.
policy::ProfileCheck GuardrailsProfileCheck(GuardrailsConfig guardrails);

}  // namespace pipeguard::guardrails
