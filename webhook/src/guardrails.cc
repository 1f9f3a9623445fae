#include "pipeguard/webhook/guardrails.h"

#include "pipeguard/guardrails/guardrails.h"
#include "pipeguard/manifest/documents.h"

namespace pipeguard::webhook {

StatusOr<guardrails::GuardrailsConfig> LoadGuardrailsFile(const std::string& path) {
  auto text = manifest::ReadFile(path);
  if (!text.ok()) return text.status();
  return guardrails::ParseGuardrailsDocument(*text, path);
}

}  // namespace pipeguard::webhook
