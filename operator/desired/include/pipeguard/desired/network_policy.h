// The profile's NetworkPolicies as the operator wants them, and their order-insensitive comparison. Pure.
//
// Two objects per profile, in the profile's namespace, both selecting spec.podSelector:
//   pipeguard-<profile>-deny   policyTypes [Ingress, Egress], no rules: default deny. Kept separate so that whatever
//                              happens to the allowlist (a failed Service lookup, tampering), the deny stands.
//   pipeguard-<profile>-allow  policyTypes [Ingress, Egress]:
//     ingress: from the profile's own pods (same podSelector): pods of one pipeline talk to each other (a Spark
//              driver and its executors); nothing else may connect in.
//     egress:  to the profile's own pods; each spec.network.egress rule (cidr with except; namespace through
//              kubernetes.io/metadata.name; podSelector; service resolved to its pods and target ports); DNS on UDP
//              and TCP 53 to spec.network.dns (default kube-system pods k8s-app=kube-dns) unless disabled; and, when
//              the profile has spec.aws and spec.network.allowAwsSts (default true), TCP 443 to each of the operator's
//              stsEgressCidrs so IRSA can exchange the pod's token.
// STS egress: there is deliberately no built-in default. IRSA calls STS (regional endpoint) and the safe target is an
// STS VPC interface endpoint, whose subnet only the platform knows; "0.0.0.0/0 on 443" would open HTTPS to the whole
// internet. So when a profile needs STS and stsEgressCidrs is empty, building the allow policy fails with a message
// saying to configure the endpoint subnet (or 0.0.0.0/0 and ::/0 explicitly), or to set allowAwsSts: false. The
// default-deny policy is unaffected.
// Both carry OwnedLabels (GC by label pipeguard.io/profile-uid) and the controller ownerReference. Names longer than
// 253 characters are shortened with a hash, like ProfileLabelValue.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/guardrails/config.h"
#include "pipeguard/profile/profile.h"

namespace pipeguard::desired {

// A Service as the resolver reports it.
struct ResolvedServicePort {
  int port = 0;  // the Service port (what the profile names)
  std::string protocol = "TCP";
  std::variant<int, std::string> target_port;  // the pod port: number or named container port
};
struct ResolvedService {
  std::map<std::string, std::string> selector;  // empty: no selector (ExternalName, manual Endpoints): an error
  std::vector<ResolvedServicePort> ports;
};
// Looks up Service <namespace>/<name> (from an informer cache; no API call on this path). NotFound or another error
// makes the allow policy fail to build with that message.
using ServiceResolver =
    std::function<StatusOr<ResolvedService>(const std::string& namespace_, const std::string& name)>;

// "pipeguard-<profile>-<suffix>", shortened to 253 characters with a hash when needed.
std::string NetworkPolicyName(std::string_view profile_name, std::string_view suffix);

// The default-deny NetworkPolicy. Error (kFailedPrecondition) when the profile has no UID.
StatusOr<nlohmann::json> DesiredDenyNetworkPolicy(const api::ParsedProfile& profile);

// The allow NetworkPolicy (see above). Errors: no UID; a Service that cannot be resolved, has no selector or lacks a
// port the profile names; STS needed but not configured.
StatusOr<nlohmann::json> DesiredAllowNetworkPolicy(const api::ParsedProfile& profile,
                                                   const guardrails::OperatorConfig& config,
                                                   const ServiceResolver& resolve_service);

// A NetworkPolicy spec in canonical form: API-server defaults applied (protocol TCP; policyTypes inferred when
// absent), empty lists and selectors dropped, selectors normalised, ports, peers and rules sorted and de-duplicated.
// Two specs with the same canonical form select the same pods and allow the same traffic.
nlohmann::json CanonicalNetworkPolicySpec(const nlohmann::json& spec);

// Order-insensitive equality of two NetworkPolicy specs (CanonicalNetworkPolicySpec of both).
bool NetworkPolicySpecEquivalent(const nlohmann::json& a, const nlohmann::json& b);

// What must change on `observed` to satisfy `desired` (both NetworkPolicy objects): nullopt when the specs are
// equivalent and our labels and ownerReference are present; else `observed` with spec replaced by desired's and our
// labels and ownerReference merged in (other labels and annotations, resourceVersion kept), for an in-place update
// (PUT). A NetworkPolicy is never deleted and recreated.
std::optional<nlohmann::json> PlanNetworkPolicyUpdate(const nlohmann::json& desired, const nlohmann::json& observed);

}  // namespace pipeguard::desired
