// Everything the operator refuses a PipelineSecurityProfile for, in one answer. Pure.
//
// The reconciler calls ReviewProfile before any write: grammar problems make the profile InvalidSpec, guardrail
// findings (and IAM's limits for the role it would make) make it GuardrailViolation; either way every problem is in
// the condition message at once. The webhook and `pipeguard scan` reach the same grammar and guardrails through
// the engine (pipeguard::guardrails); IAM's limits depend on the operator's configuration (cluster name, account,
// issuer) and are the operator's alone.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "pipeguard/aws/iam_limits.h"
#include "pipeguard/guardrails/config.h"
#include "pipeguard/profile/profile.h"

namespace pipeguard::desired {

struct ProfileReview {
  api::ParsedProfile profile;                       // as far as the grammar could read it
  std::vector<api::GuardrailViolation> grammar;     // api::ReadProfile's problems
  std::vector<api::GuardrailViolation> guardrails;  // guardrails::CheckGuardrails on what could be read; CheckIamLimits
                                                    // when the grammar found nothing
  bool ok() const { return grammar.empty() && guardrails.empty(); }
};

ProfileReview ReviewProfile(const nlohmann::json& object, const guardrails::OperatorConfig& config,
                            const aws::IamLimits& limits = {});

}  // namespace pipeguard::desired
