// spec.network: egress rules (one destination kind each), DNS and STS egress.
#include <optional>

#include "pipeguard/profile/cidr.h"
#include "walker.h"

namespace pipeguard::api::internal {
namespace {

// A canonical CIDR (no host bits) at `path`, or nullopt after reporting why not.
std::optional<Cidr> CanonicalCidr(Walker& w, const json& value, const std::string& path) {
  auto s = w.String(value, path);
  if (!s) return std::nullopt;
  auto c = ParseCidr(*s);
  if (!c.ok()) {
    w.Problem(path, c.status().message());
    return std::nullopt;
  }
  if (c->HasHostBits()) {
    w.Problem(path, "\"" + *s + "\" has host bits set; did you mean " + c->ToString() + "?");
    return std::nullopt;
  }
  return *c;
}

std::optional<PortSpec> ParsePort(Walker& w, const json& item, const std::string& path) {
  if (!w.IsObject(item, path)) return std::nullopt;
  w.KnownKeys(item, path, {"port", "endPort", "protocol"});
  PortSpec p;
  bool ok = true;
  const json* port = w.Required(item, path, "port");
  auto n = port ? w.Integer(*port, PointerChild(path, "port"), 1, 65535) : std::nullopt;
  ok = ok && n;
  if (n) p.port = static_cast<int>(*n);
  if (const json* v = Walker::Find(item, "endPort")) {
    auto n = w.Integer(*v, PointerChild(path, "endPort"), 1, 65535);
    if (n && p.port > 0 && *n < p.port) {
      w.Problem(PointerChild(path, "endPort"), "must not be below port (" + std::to_string(p.port) + ")");
      ok = false;
    } else if (n) {
      p.end_port = static_cast<int>(*n);
    } else {
      ok = false;
    }
  }
  if (const json* v = Walker::Find(item, "protocol")) {
    auto proto =
        w.OneOf<std::string>(*v, PointerChild(path, "protocol"), {{"TCP", "TCP"}, {"UDP", "UDP"}, {"SCTP", "SCTP"}});
    ok = ok && proto;
    if (proto) p.protocol = *proto;
  }
  if (!ok) return std::nullopt;
  return p;
}

void ParseEgressRule(Walker& w, const json& item, const std::string& ip, EgressRule& rule) {
  w.KnownKeys(item, ip, {"description", "cidr", "except", "namespace", "podSelector", "service", "ports"});
  if (const json* d = Walker::Find(item, "description")) {
    if (auto s = w.String(*d, PointerChild(ip, "description"))) {
      if (s->size() > 256) w.Problem(PointerChild(ip, "description"), "must be at most 256 characters");
      rule.description = *s;
    }
  }
  const json* cidr = Walker::Find(item, "cidr");
  const json* service = Walker::Find(item, "service");
  const json* ns = Walker::Find(item, "namespace");
  const json* selector = Walker::Find(item, "podSelector");
  const int kinds = (cidr ? 1 : 0) + (service ? 1 : 0) + ((ns || selector) ? 1 : 0);
  if (kinds != 1) {
    w.Problem(ip, "each egress rule names exactly one destination: cidr, service, or namespace/podSelector");
    return;
  }
  std::optional<Cidr> parsed_cidr;
  if (cidr) {
    rule.kind = EgressRule::Kind::kCidr;
    parsed_cidr = CanonicalCidr(w, *cidr, PointerChild(ip, "cidr"));
    if (parsed_cidr) rule.cidr = parsed_cidr->ToString();
  }
  if (const json* except = Walker::Find(item, "except")) {
    const std::string ep = PointerChild(ip, "except");
    if (!cidr) {
      w.Problem(ep, "except only applies to a cidr destination");
    } else if (w.Array(*except, ep, 0, 16)) {
      for (size_t j = 0; j < except->size(); ++j) {
        const std::string jp = PointerChild(ep, j);
        const auto c = CanonicalCidr(w, (*except)[j], jp);
        if (!c) continue;
        if (parsed_cidr && (!CidrContains(*parsed_cidr, *c) || c->prefix_length == parsed_cidr->prefix_length)) {
          w.Problem(jp, c->ToString() + " must lie strictly inside the cidr " + parsed_cidr->ToString());
        } else {
          rule.except.push_back(c->ToString());
        }
      }
    }
  }
  if (service) {
    rule.kind = EgressRule::Kind::kService;
    const std::string sp = PointerChild(ip, "service");
    if (w.IsObject(*service, sp)) {
      w.KnownKeys(*service, sp, {"name", "namespace"});
      if (const json* n = w.Required(*service, sp, "name")) {
        if (auto s = w.String(*n, PointerChild(sp, "name"))) {
          if (!IsDns1035Label(*s)) {
            w.Problem(PointerChild(sp, "name"), "must be a Service name (DNS-1035 label: lowercase letter first)");
          }
          rule.service_name = *s;
        }
      }
      if (const json* n = Walker::Find(*service, "namespace")) {
        if (auto s = w.String(*n, PointerChild(sp, "namespace"))) {
          if (!IsDnsLabel(*s)) w.Problem(PointerChild(sp, "namespace"), "must be a namespace name");
          rule.namespace_ = *s;
        }
      }
    }
  }
  if (ns || selector) {
    rule.kind = EgressRule::Kind::kPods;
    if (ns) {
      if (auto s = w.String(*ns, PointerChild(ip, "namespace"))) {
        if (!IsDnsLabel(*s)) {
          w.Problem(PointerChild(ip, "namespace"), "must be a namespace name (DNS-1123 label)");
        }
        rule.namespace_ = *s;
      }
    }
    if (selector) rule.pod_selector = w.Selector(*selector, PointerChild(ip, "podSelector"));
  }
  if (const json* ports = w.Required(item, ip, "ports", " (at least one port)")) {
    const std::string pp = PointerChild(ip, "ports");
    if (w.Array(*ports, pp, 1, 16)) {
      for (size_t j = 0; j < ports->size(); ++j) {
        if (auto p = ParsePort(w, (*ports)[j], PointerChild(pp, j))) {
          if (service && p->end_port) {
            w.Problem(PointerChild(PointerChild(pp, j), "endPort"),
                      "port ranges do not apply to a Service; list the Service ports one by one");
          }
          rule.ports.push_back(*p);
        }
      }
    }
  }
}

}  // namespace

void ParseNetwork(Walker& w, const json& network, const std::string& path, NetworkSpec& out) {
  if (!w.IsObject(network, path)) return;
  w.KnownKeys(network, path, {"egress", "dns", "allowAwsSts"});
  w.ForEachObject(network, path, "egress", 64, [&](const json& item, const std::string& ip) {
    EgressRule rule;
    ParseEgressRule(w, item, ip, rule);
    out.egress.push_back(std::move(rule));
  });
  if (const json* dns = Walker::Find(network, "dns")) {
    const std::string dp = PointerChild(path, "dns");
    if (w.IsObject(*dns, dp)) {
      w.KnownKeys(*dns, dp, {"enabled", "namespace", "podSelector"});
      if (const json* v = Walker::Find(*dns, "enabled")) {
        if (auto b = w.Bool(*v, PointerChild(dp, "enabled"))) out.dns.enabled = *b;
      }
      if (const json* v = Walker::Find(*dns, "namespace")) {
        if (auto s = w.String(*v, PointerChild(dp, "namespace"))) {
          if (!IsDnsLabel(*s)) w.Problem(PointerChild(dp, "namespace"), "must be a namespace name");
          out.dns.namespace_ = *s;
        }
      }
      if (const json* v = Walker::Find(*dns, "podSelector")) {
        if (auto sel = w.Selector(*v, PointerChild(dp, "podSelector"))) out.dns.pod_selector = *sel;
      }
    }
  }
  if (const json* v = Walker::Find(network, "allowAwsSts")) {
    if (auto b = w.Bool(*v, PointerChild(path, "allowAwsSts"))) out.allow_aws_sts = *b;
  }
}

}  // namespace pipeguard::api::internal
