#include "pipeguard/desired/network_policy.h"

#include <algorithm>
#include <set>

#include "owned_metadata.h"
#include "pipeguard/desired/service_account.h"
#include "short_hash.h"

namespace pipeguard::desired {

using nlohmann::json;

namespace {

constexpr std::string_view kNamespaceNameLabel = "kubernetes.io/metadata.name";

json NamespaceSelector(const std::string& ns) { return {{"matchLabels", {{std::string(kNamespaceNameLabel), ns}}}}; }

json Ports(const std::vector<api::PortSpec>& ports) {
  json out = json::array();
  for (const auto& p : ports) {
    json port = {{"protocol", p.protocol}, {"port", p.port}};
    if (p.end_port) port["endPort"] = *p.end_port;
    out.push_back(std::move(port));
  }
  return out;
}

json Metadata(const api::ParsedProfile& profile, std::string_view suffix) {
  return {{"name", NetworkPolicyName(profile.name, suffix)},
          {"namespace", profile.namespace_},
          {"labels", OwnedLabels(profile)},
          {"ownerReferences", json::array({ProfileOwnerReference(profile)})}};
}

Status NeedsUid(const api::ParsedProfile& profile) {
  if (!profile.uid.empty()) return Status::Ok();
  return Status::FailedPrecondition("PipelineSecurityProfile " + profile.namespace_ + "/" + profile.name +
                                    " has no metadata.uid; desired objects are built only for profiles read from the "
                                    "API server");
}

StatusOr<json> ServiceRule(const api::ParsedProfile& profile, const api::EgressRule& rule, size_t index,
                           const ServiceResolver& resolve) {
  const std::string ns = rule.namespace_.empty() ? profile.namespace_ : rule.namespace_;
  std::string where = "spec.network.egress[";
  where.append(std::to_string(index)).append("]: Service ").append(ns).append("/").append(rule.service_name);
  if (!resolve) return Status::FailedPrecondition(where + ": no Service resolver was given");
  auto service = resolve(ns, rule.service_name);
  if (!service.ok()) return Status(service.status().code(), where + ": " + service.status().message());
  if (service->selector.empty()) {
    return Status::FailedPrecondition(where +
                                      " has no selector (ExternalName or manual Endpoints); use a cidr "
                                      "egress rule for its addresses instead");
  }
  json ports = json::array();
  for (const auto& p : rule.ports) {
    auto it = std::find_if(service->ports.begin(), service->ports.end(), [&](const ResolvedServicePort& sp) {
      return sp.port == p.port && sp.protocol == p.protocol;
    });
    if (it == service->ports.end()) {
      std::string message = where;
      message.append(" has no port ").append(std::to_string(p.port)).append("/").append(p.protocol);
      message.append("; name one of the Service's ports");
      return Status::FailedPrecondition(message);
    }
    json target;
    if (const int* number = std::get_if<int>(&it->target_port)) {
      target = *number > 0 ? *number : p.port;  // targetPort defaults to port
    } else {
      const auto& name = std::get<std::string>(it->target_port);
      target = name.empty() ? json(p.port) : json(name);
    }
    ports.push_back({{"protocol", p.protocol}, {"port", target}});
  }
  json selector = {{"matchLabels", json::object()}};
  for (const auto& [k, v] : service->selector) selector["matchLabels"][k] = v;
  return json{{"to", json::array({{{"namespaceSelector", NamespaceSelector(ns)}, {"podSelector", selector}}})},
              {"ports", ports}};
}

// Canonical forms (see CanonicalNetworkPolicySpec).
json CanonicalSelector(const json& selector) {
  json out = json::object();
  if (!selector.is_object()) return out;
  if (auto it = selector.find("matchLabels"); it != selector.end() && it->is_object() && !it->empty()) {
    out["matchLabels"] = *it;
  }
  if (auto it = selector.find("matchExpressions"); it != selector.end() && it->is_array() && !it->empty()) {
    std::set<std::string> seen;
    std::vector<json> expressions;
    for (const auto& e : *it) {
      json c = json::object();
      if (e.contains("key")) c["key"] = e["key"];
      if (e.contains("operator")) c["operator"] = e["operator"];
      if (auto v = e.find("values"); v != e.end() && v->is_array() && !v->empty()) {
        std::vector<json> values(v->begin(), v->end());
        std::sort(values.begin(), values.end());
        values.erase(std::unique(values.begin(), values.end()), values.end());
        c["values"] = values;
      }
      if (seen.insert(c.dump()).second) expressions.push_back(std::move(c));
    }
    std::sort(expressions.begin(), expressions.end(), [](const json& a, const json& b) { return a.dump() < b.dump(); });
    out["matchExpressions"] = expressions;
  }
  return out;
}

// Sorts by serialised form and removes duplicates; nullopt-like empty result stays an empty array.
json SortedUnique(std::vector<json> items) {
  std::sort(items.begin(), items.end(), [](const json& a, const json& b) { return a.dump() < b.dump(); });
  items.erase(std::unique(items.begin(), items.end()), items.end());
  return json(items);
}

json CanonicalPeer(const json& peer) {
  json out = json::object();
  if (!peer.is_object()) return out;
  if (auto it = peer.find("ipBlock"); it != peer.end() && it->is_object()) {
    json block = {{"cidr", it->value("cidr", "")}};
    if (auto e = it->find("except"); e != it->end() && e->is_array() && !e->empty()) {
      block["except"] = SortedUnique(std::vector<json>(e->begin(), e->end()));
    }
    out["ipBlock"] = block;
  }
  const bool has_ns = peer.contains("namespaceSelector") && !peer["namespaceSelector"].is_null();
  if (has_ns) out["namespaceSelector"] = CanonicalSelector(peer["namespaceSelector"]);
  if (auto it = peer.find("podSelector"); it != peer.end() && !it->is_null()) {
    json selector = CanonicalSelector(*it);
    // With a namespaceSelector, an empty podSelector means every pod, as an absent one does.
    if (!(has_ns && selector.empty())) out["podSelector"] = selector;
  }
  return out;
}

json CanonicalPort(const json& port) {
  json out = {{"protocol", port.value("protocol", "TCP")}};
  if (port.contains("port") && !port["port"].is_null()) out["port"] = port["port"];
  if (port.contains("endPort") && !port["endPort"].is_null()) out["endPort"] = port["endPort"];
  return out;
}

json CanonicalRules(const json& rules, const char* peers_key) {
  std::vector<json> out;
  if (!rules.is_array()) return json::array();
  for (const auto& rule : rules) {
    json c = json::object();
    if (auto it = rule.find("ports"); it != rule.end() && it->is_array() && !it->empty()) {
      std::vector<json> ports;
      for (const auto& p : *it) ports.push_back(CanonicalPort(p));
      c["ports"] = SortedUnique(std::move(ports));
    }
    if (auto it = rule.find(peers_key); it != rule.end() && it->is_array() && !it->empty()) {
      std::vector<json> peers;
      for (const auto& p : *it) peers.push_back(CanonicalPeer(p));
      c[peers_key] = SortedUnique(std::move(peers));
    }
    out.push_back(std::move(c));
  }
  return SortedUnique(std::move(out));
}

}  // namespace

std::string NetworkPolicyName(std::string_view profile_name, std::string_view suffix) {
  std::string name = "pipeguard-";
  name.append(profile_name).append("-").append(suffix);
  if (name.size() <= 253) return name;
  const size_t keep = 253 - std::string_view("pipeguard-").size() - 1 - 12 - 1 - suffix.size();
  std::string head(profile_name.substr(0, keep));
  while (!head.empty() && (head.back() == '-' || head.back() == '.')) head.pop_back();
  name = "pipeguard-";
  name.append(head).append("-").append(internal::ShortHash(profile_name)).append("-").append(suffix);
  return name;
}

StatusOr<json> DesiredDenyNetworkPolicy(const api::ParsedProfile& profile) {
  if (auto s = NeedsUid(profile); !s.ok()) return s;
  return json{{"apiVersion", "networking.k8s.io/v1"},
              {"kind", "NetworkPolicy"},
              {"metadata", Metadata(profile, "deny")},
              {"spec", {{"podSelector", profile.pod_selector}, {"policyTypes", {"Ingress", "Egress"}}}}};
}

StatusOr<json> DesiredAllowNetworkPolicy(const api::ParsedProfile& profile, const guardrails::OperatorConfig& config,
                                         const ServiceResolver& resolve_service) {
  if (auto s = NeedsUid(profile); !s.ok()) return s;
  json egress = json::array();
  egress.push_back({{"to", json::array({{{"podSelector", profile.pod_selector}}})}});
  for (size_t i = 0; i < profile.network.egress.size(); ++i) {
    const api::EgressRule& rule = profile.network.egress[i];
    switch (rule.kind) {
      case api::EgressRule::Kind::kCidr: {
        json block = {{"cidr", rule.cidr}};
        if (!rule.except.empty()) block["except"] = rule.except;
        egress.push_back({{"to", json::array({{{"ipBlock", block}}})}, {"ports", Ports(rule.ports)}});
        break;
      }
      case api::EgressRule::Kind::kPods: {
        json peer = json::object();
        if (!rule.namespace_.empty()) peer["namespaceSelector"] = NamespaceSelector(rule.namespace_);
        peer["podSelector"] = rule.pod_selector ? *rule.pod_selector : json::object();
        egress.push_back({{"to", json::array({peer})}, {"ports", Ports(rule.ports)}});
        break;
      }
      case api::EgressRule::Kind::kService: {
        auto resolved = ServiceRule(profile, rule, i, resolve_service);
        if (!resolved.ok()) return resolved.status();
        egress.push_back(std::move(resolved).value());
        break;
      }
    }
  }
  if (profile.network.dns.enabled) {
    egress.push_back(
        {{"to", json::array({{{"namespaceSelector", NamespaceSelector(profile.network.dns.namespace_)},
                              {"podSelector", profile.network.dns.pod_selector}}})},
         {"ports", json::array({{{"protocol", "UDP"}, {"port", 53}}, {{"protocol", "TCP"}, {"port", 53}}})}});
  }
  if (profile.aws && profile.network.allow_aws_sts) {
    if (config.sts_egress_cidrs.empty()) {
      return Status::FailedPrecondition(
          "PipelineSecurityProfile " + profile.namespace_ + "/" + profile.name +
          " needs egress to AWS STS for IRSA, but the operator configuration has no stsEgressCidrs: set it to the "
          "subnet(s) of your STS VPC endpoint (or to 0.0.0.0/0 and ::/0 to allow the public endpoint), or set "
          "spec.network.allowAwsSts: false if the pipeline reaches STS another way");
    }
    json peers = json::array();
    for (const auto& cidr : config.sts_egress_cidrs) peers.push_back({{"ipBlock", {{"cidr", cidr}}}});
    egress.push_back({{"to", peers}, {"ports", json::array({{{"protocol", "TCP"}, {"port", 443}}})}});
  }
  return json{{"apiVersion", "networking.k8s.io/v1"},
              {"kind", "NetworkPolicy"},
              {"metadata", Metadata(profile, "allow")},
              {"spec",
               {{"podSelector", profile.pod_selector},
                {"policyTypes", {"Ingress", "Egress"}},
                {"ingress", json::array({{{"from", json::array({{{"podSelector", profile.pod_selector}}})}}})},
                {"egress", egress}}}};
}

json CanonicalNetworkPolicySpec(const json& spec) {
  json out = json::object();
  if (!spec.is_object()) return out;
  out["podSelector"] = CanonicalSelector(spec.value("podSelector", json::object()));
  const json ingress = CanonicalRules(spec.value("ingress", json::array()), "from");
  const json egress = CanonicalRules(spec.value("egress", json::array()), "to");
  std::vector<json> types;
  if (auto it = spec.find("policyTypes"); it != spec.end() && it->is_array() && !it->empty()) {
    types.assign(it->begin(), it->end());
  } else {
    // The API server's default: Ingress always, Egress when egress rules exist.
    types.push_back("Ingress");
    if (!egress.empty()) types.push_back("Egress");
  }
  out["policyTypes"] = SortedUnique(std::move(types));
  if (!ingress.empty()) out["ingress"] = ingress;
  if (!egress.empty()) out["egress"] = egress;
  return out;
}

bool NetworkPolicySpecEquivalent(const json& a, const json& b) {
  return CanonicalNetworkPolicySpec(a) == CanonicalNetworkPolicySpec(b);
}

std::optional<json> PlanNetworkPolicyUpdate(const json& desired, const json& observed) {
  json updated = observed;
  bool changed = internal::MergeOwnedMetadata(desired, updated);
  const json& want_spec = desired.at("spec");
  if (!observed.contains("spec") || !NetworkPolicySpecEquivalent(want_spec, observed["spec"])) {
    updated["spec"] = want_spec;
    changed = true;
  }
  if (!changed) return std::nullopt;
  return updated;
}

}  // namespace pipeguard::desired
