// Platform guardrails for PipelineSecurityProfiles at admission (rule profile-guardrail), from the operator's
// configuration file so that the webhook and the operator enforce one source of truth.
#pragma once

#include <string>
#include <string_view>

#include "pipeguard/guardrails/config.h"
#include "pipeguard/policy/engine.h"

namespace pipeguard::webhook {

// Reads FILE and parses it with reconcilers::ParseGuardrailsDocument (a whole operator configuration or a bare
// guardrails document); errors name the file.
StatusOr<guardrails::GuardrailsConfig> LoadGuardrailsFile(const std::string& path);

}  // namespace pipeguard::webhook
