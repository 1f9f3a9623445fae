#include "pipeguard/webhook/guardrails.h"

#include "pipeguard/guardrails/guardrails.h"
#include "pipeguard/manifest/documents.h"

namespace pipeguard::webhook {

StatusOr<reconcilers::GuardrailsConfig> LoadGuardrailsFile(const std::string& path) {
  auto text = manifest::ReadFile(path);
  if (!text.ok()) return text.status();
  return reconcilers::ParseGuardrailsDocument(*text, path);
}

}  // namespace pipeguard::webhook
