// Tamper protection for pipeguard's own admission webhook configurations: what the desired configurations are, what
// counts as tampering, and what a restore writes. Pure (no I/O); the watch and the restore live in webhook_guard.h.
//
// The API server never sends ValidatingWebhookConfigurations or MutatingWebhookConfigurations to admission webhooks,
// so the webhook cannot protect itself: the operator watches them instead. The desired state is a file rendered by
// the Helm chart from the same template as the live objects (a ConfigMap mounted into the operator and passed as
// --webhook-configurations), so a configuration that was already weakened when the operator started is still
// restored: the operator never learns "desired" from the cluster.
//
// What is compared, per webhook (by name), after applying the API server's defaults to both sides (failurePolicy
// Fail, matchPolicy Equivalent, timeoutSeconds 10, empty selectors, rule scope "*", service port 443,
// reinvocationPolicy Never) and order-insensitively (rules, their lists, admissionReviewVersions, selector
// expressions, matchConditions): failurePolicy, rules, namespaceSelector, objectSelector, matchConditions,
// clientConfig (service or url; caBundle only when the desired webhook carries one, because with cert-manager the
// CA is injected by cainjector), timeoutSeconds, matchPolicy, sideEffects, admissionReviewVersions and
// reinvocationPolicy; webhooks removed or added; and the desired labels and annotations (other metadata is left
// alone). Every difference is tampering, whether it weakens the control or not: the chart is the only writer.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/base/status.h"

namespace pipeguard::desired {

inline constexpr std::string_view kValidatingWebhookConfigurationKind = "ValidatingWebhookConfiguration";
inline constexpr std::string_view kMutatingWebhookConfigurationKind = "MutatingWebhookConfiguration";

enum class WebhookTamper {
  kDeleted,         // the whole configuration is gone
  kWebhookRemoved,  // a desired webhook is missing
  kWebhookAdded,    // a webhook that is not in the desired state (e.g. pointing elsewhere)
  kFailurePolicy,   // e.g. Fail -> Ignore
  kRules,           // operations, resources, groups, versions or scope changed
  kNamespaceSelector,
  kObjectSelector,
  kMatchConditions,
  kClientConfig,  // service, path, port, url, or caBundle (when desired carries one)
  kTimeout,
  kMatchPolicy,
  kSideEffects,
  kAdmissionReviewVersions,
  kReinvocationPolicy,
  kMetadata,  // a desired label or annotation (e.g. cert-manager's inject-ca-from) removed or changed
};

// The metric label value: "deleted", "webhook_removed", "webhook_added", "failure_policy", "rules",
// "namespace_selector", "object_selector", "match_conditions", "client_config", "timeout", "match_policy",
// "side_effects", "admission_review_versions", "reinvocation_policy", "metadata".
std::string_view WebhookTamperLabel(WebhookTamper change);

struct WebhookFinding {
  WebhookTamper change;
  std::string webhook;  // the webhook's name ("" for kDeleted and kMetadata)
  std::string detail;   // for the Event and the log line: what differs; never contains the caBundle
  bool operator==(const WebhookFinding&) const = default;
};

// Parses the desired-state file: YAML or JSON, any number of documents, each a ValidatingWebhookConfiguration or
// MutatingWebhookConfiguration of apiVersion admissionregistration.k8s.io/v1 with metadata.name and a non-empty
// `webhooks` list of uniquely named webhooks. A `List` document is unpacked. Server-populated metadata
// (resourceVersion, uid, ...) is dropped. Errors name `source`, the document's line and the problem; an empty file is
// an error (a guard with nothing to guard is a misconfiguration).
StatusOr<std::vector<nlohmann::json>> ParseDesiredWebhookConfigurations(std::string_view text,
                                                                        const std::string& source);

// Every difference between `desired` (one object from ParseDesiredWebhookConfigurations) and `observed` (nullopt =
// deleted) that counts as tampering; empty = intact. Deterministic order: metadata, then webhooks in desired order,
// then added webhooks.
std::vector<WebhookFinding> CompareWebhookConfiguration(const nlohmann::json& desired,
                                                        const std::optional<nlohmann::json>& observed);

// The object to write back over `observed` with an Update: observed's metadata (name, resourceVersion, uid, other
// labels and annotations kept) with the desired labels and annotations set, and the desired webhooks, each keeping
// the observed caBundle when the desired webhook has none (cert-manager's injected CA). With `observed` nullopt: the
// object to Create (the desired object as is).
nlohmann::json RestoredWebhookConfiguration(const nlohmann::json& desired,
                                            const std::optional<nlohmann::json>& observed);

}  // namespace pipeguard::desired
