// One problem with a PipelineSecurityProfile: where (an RFC 6901 JSON pointer into the profile object, e.g.
// "/spec/aws/s3/2/bucket") and what, phrased so that the message says how to fix it. Used for parse errors,
// platform guardrails and IAM size limits alike; the webhook reports each as a `profile-guardrail` violation and the
// operator as the message of a Ready=False condition. Messages never contain secret values (profiles hold none).
#pragma once

#include <string>
#include <vector>

namespace pipeguard::reconcilers {

struct GuardrailViolation {
  std::string path;     // JSON pointer into the profile object ("" = the whole object)
  std::string message;  // what is wrong and how to fix it
  bool operator==(const GuardrailViolation&) const = default;
};

// "path: message; path: message" (for Status messages and condition text).
std::string JoinViolations(const std::vector<GuardrailViolation>& violations);

}  // namespace pipeguard::reconcilers
