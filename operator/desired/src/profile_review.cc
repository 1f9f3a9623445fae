#include "pipeguard/desired/profile_review.h"

#include "pipeguard/desired/iam_role.h"
#include "pipeguard/guardrails/guardrails.h"

namespace pipeguard::desired {

ProfileReview ReviewProfile(const nlohmann::json& object, const guardrails::OperatorConfig& config,
                            const aws::IamLimits& limits) {
  api::ProfileReading reading = api::ReadProfile(object);
  ProfileReview review{std::move(reading.profile), std::move(reading.problems), {}};
  review.guardrails = guardrails::CheckGuardrails(review.profile, config.guardrails, limits, config.aws_partition);
  if (review.grammar.empty()) {
    for (auto& v : CheckIamLimits(review.profile, config, limits)) review.guardrails.push_back(std::move(v));
  }
  return review;
}

}  // namespace pipeguard::desired
