#include <map>

#include "output_internal.h"
#include "pipeguard/cli/output.h"
#include "pipeguard/policy/types.h"

#ifndef PIPEGUARD_RULES_DOC_URL
#error "PIPEGUARD_RULES_DOC_URL is set by cli/CMakeLists.txt"
#endif

namespace pipeguard::cli {

std::optional<OutputFormat> ParseOutputFormat(std::string_view name) {
  if (name == "text") return OutputFormat::kText;
  if (name == "json") return OutputFormat::kJson;
  if (name == "sarif") return OutputFormat::kSarif;
  if (name == "policyreport") return OutputFormat::kPolicyReport;
  if (name == "junit") return OutputFormat::kJunit;
  return std::nullopt;
}

std::string_view RulesDocUrl() { return PIPEGUARD_RULES_DOC_URL; }

std::string_view FixHint(std::string_view rule) {
  namespace rules = policy::rules;
  static const std::map<std::string_view, std::string_view> kHints = {
      {rules::kPlaintextSecret,
       "keep the value in a Secret and reference it (env valueFrom.secretKeyRef, "
       "spark.kubernetes.*.secretKeyRef.*, an Airflow secrets backend, $(VAR) expansion in URIs)"},
      {rules::kInsecureTransport,
       "use TLS and verify the server: Kafka SASL_SSL/SSL, Postgres sslmode=verify-full, https/rediss/amqps "
       "endpoints, no useSSL=false, encrypt=false or trustServerCertificate=true"},
      {rules::kUntrustedRegistry, "push the image to a registry listed in images.allowedRegistries"},
      {rules::kUnsignedImage,
       "sign the image with cosign in the release pipeline (offline scans: images.verify: false)"},
      {rules::kServiceAccountScope,
       "run as the profile's service account with automountServiceAccountToken: false and no broad RBAC bindings"},
      {rules::kMissingProfile,
       "create a PipelineSecurityProfile in the namespace whose spec.podSelector matches the pod's labels"},
      {rules::kProfileGuardrail, "correct the PipelineSecurityProfile as the message says"},
      {rules::kMalformedObject,
       "give the field the JSON type Kubernetes defines (a list of {name, value} for env, strings for label and env "
       "values); `kubectl apply --dry-run=server` shows the API's own error"},
      {rules::kReviewBudget,
       "split the object into smaller ones, or raise reviewBudget in the configuration if such objects are expected"},
      {rules::kBreakGlass,
       "a waiver needs all three pipeguard.io/break-glass-* annotations, an expiry at most 7 days ahead and a "
       "requester in a break-glass group"},
  };
  auto it = kHints.find(rule);
  return it == kHints.end() ? std::string_view() : it->second;
}

std::string Render(const ScanReport& report, OutputFormat format, bool color) {
  switch (format) {
    case OutputFormat::kText:
      return RenderText(report, color);
    case OutputFormat::kJson:
      return internal::DumpJson(RenderJson(report));
    case OutputFormat::kSarif:
      return internal::DumpJson(RenderSarif(report));
    case OutputFormat::kJunit:
      return RenderJunit(report);
    case OutputFormat::kPolicyReport:
      return internal::DumpJson(RenderPolicyReports(report));
  }
  return "";
}

namespace internal {

std::string DumpJson(const nlohmann::json& value) {
  // Invalid UTF-8 (which the loader never lets in) would make dump() throw; replace it instead.
  return value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string SanitizeForTerminal(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 && c != '\n') || u == 0x7F ? '?' : c;  // no escape sequences from manifests into logs
  }
  return out;
}

std::string_view SarifLevel(policy::Severity severity) {
  switch (severity) {
    case policy::Severity::kCritical:
    case policy::Severity::kHigh:
      return "error";
    case policy::Severity::kMedium:
      return "warning";
    default:
      return "note";
  }
}

}  // namespace internal
}  // namespace pipeguard::cli
