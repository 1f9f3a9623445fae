#include "pipeguard/policy/config.h"

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "pipeguard/base/time.h"
#include "pipeguard/base/yaml_reader.h"

namespace pipeguard::policy {
namespace {

nlohmann::json YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = YamlToJson(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(YamlToJson(item));
      return out;
    }
    case YAML::NodeType::Scalar:
      return node.Scalar();
    default:
      return nullptr;
  }
}

// A list of {name, path | publicKey} PEM public keys (images.keys, images.rekor.publicKeys). Names are unique.
Status ParseKeyList(const base::YamlReader& r, const YAML::Node& node, const std::string& key_path,
                    std::vector<TrustedKey>& out) {
  if (!node.IsSequence()) return r.Error(node, key_path, "must be a list of {name, path | publicKey}");
  const std::string item = key_path + "[]";
  for (const auto& k : node) {
    if (auto s = r.CheckKeys(k, item, {"name", "path", "publicKey"}); !s.ok()) return s;
    TrustedKey key;
    if (k["name"]) {
      if (auto s = r.String(k["name"], item + ".name", key.name); !s.ok()) return s;
    }
    if (k["path"]) {
      if (auto s = r.String(k["path"], item + ".path", key.path); !s.ok()) return s;
    }
    if (k["publicKey"]) {
      if (auto s = r.String(k["publicKey"], item + ".publicKey", key.public_key_pem); !s.ok()) return s;
    }
    if (key.path.empty() == key.public_key_pem.empty()) {
      return r.Error(k, item, "set exactly one of path (a PEM file) or publicKey (inline PEM)");
    }
    if (key.name.empty()) key.name = key.path.empty() ? "key-" + std::to_string(out.size()) : key.path;
    for (const auto& existing : out) {
      if (existing.name == key.name) {
        return r.Error(k, item + ".name", "\"" + key.name + "\" is used twice; give every key a unique name");
      }
    }
    out.push_back(std::move(key));
  }
  return Status::Ok();
}

Status ParseRekor(const base::YamlReader& r, const YAML::Node& node, RekorConfig& out) {
  if (auto s = r.CheckKeys(node, "images.rekor", {"publicKeys", "trustedRootFile", "required"}); !s.ok()) return s;
  if (node["publicKeys"]) {
    if (auto s = ParseKeyList(r, node["publicKeys"], "images.rekor.publicKeys", out.public_keys); !s.ok()) return s;
  }
  if (node["trustedRootFile"]) {
    if (auto s = r.String(node["trustedRootFile"], "images.rekor.trustedRootFile", out.trusted_root_file); !s.ok()) {
      return s;
    }
    if (out.trusted_root_file.empty()) {
      return r.Error(node["trustedRootFile"], "images.rekor.trustedRootFile",
                     "must name a Sigstore trusted_root.json file (or remove the setting)");
    }
  }
  if (node["required"]) {
    if (auto s = r.Bool(node["required"], "images.rekor.required", out.required); !s.ok()) return s;
  }
  if (out.required && !out.configured()) {
    return r.Error(node, "images.rekor.required",
                   "requires a Rekor log key: set images.rekor.publicKeys or images.rekor.trustedRootFile");
  }
  return Status::Ok();
}

Status ParseKeyless(const base::YamlReader& r, const YAML::Node& node, KeylessConfig& out) {
  if (auto s = r.CheckKeys(node, "images.keyless", {"trustedRootFile", "identities", "requireSct"}); !s.ok()) return s;
  if (!node["trustedRootFile"]) {
    return r.Error(node, "images.keyless.trustedRootFile", "is required (a Sigstore trusted_root.json file)");
  }
  if (auto s = r.String(node["trustedRootFile"], "images.keyless.trustedRootFile", out.trusted_root_file); !s.ok()) {
    return s;
  }
  if (out.trusted_root_file.empty()) {
    return r.Error(node["trustedRootFile"], "images.keyless.trustedRootFile", "must name a trusted_root.json file");
  }
  if (node["requireSct"]) {
    if (auto s = r.Bool(node["requireSct"], "images.keyless.requireSct", out.require_sct); !s.ok()) return s;
  }
  const YAML::Node identities = node["identities"];
  if (!identities || !identities.IsSequence() || identities.size() == 0) {
    return r.Error(node, "images.keyless.identities",
                   "must list at least one {name, issuer | issuerRegExp, subject | subjectRegExp} signer identity");
  }
  const std::string item = "images.keyless.identities[]";
  for (const auto& i : identities) {
    if (auto s = r.CheckKeys(i, item, {"name", "subject", "subjectRegExp", "issuer", "issuerRegExp", "extensions"});
        !s.ok()) {
      return s;
    }
    KeylessIdentityConfig identity;
    const std::pair<const char*, std::string*> fields[] = {{"name", &identity.name},
                                                           {"subject", &identity.subject},
                                                           {"subjectRegExp", &identity.subject_regexp},
                                                           {"issuer", &identity.issuer},
                                                           {"issuerRegExp", &identity.issuer_regexp}};
    for (const auto& [field, target] : fields) {
      if (i[field]) {
        if (auto s = r.String(i[field], item + "." + field, *target); !s.ok()) return s;
      }
    }
    if (identity.subject.empty() == identity.subject_regexp.empty()) {
      return r.Error(i, item, "set exactly one of subject (exact) or subjectRegExp (RE2, whole value)");
    }
    if (identity.issuer.empty() == identity.issuer_regexp.empty()) {
      return r.Error(i, item, "set exactly one of issuer (exact) or issuerRegExp (RE2, whole value)");
    }
    if (const YAML::Node extensions = i["extensions"]) {
      if (!extensions.IsMap()) {
        return r.Error(extensions, item + ".extensions", "must map certificate claim names to exact values");
      }
      for (const auto& entry : extensions) {
        const std::string claim = entry.first.as<std::string>("");
        std::string value;
        if (auto s = r.String(entry.second, item + ".extensions." + claim, value); !s.ok()) return s;
        identity.extensions[claim] = value;
      }
    }
    if (identity.name.empty()) identity.name = "identity-" + std::to_string(out.identities.size());
    for (const auto& existing : out.identities) {
      if (existing.name == identity.name) {
        return r.Error(i, item + ".name", "\"" + identity.name + "\" is used twice; give every identity a unique name");
      }
    }
    out.identities.push_back(std::move(identity));
  }
  return Status::Ok();
}

// A string: exact when a scalar, `{regexp: RE2}` (whole-value match) otherwise. The expression must compile.
Status ParseStringMatch(const base::YamlReader& r, const YAML::Node& node, const std::string& key,
                        StringMatchConfig& out) {
  if (node.IsMap()) {
    if (auto s = r.CheckKeys(node, key, {"regexp"}); !s.ok()) return s;
    if (!node["regexp"]) return r.Error(node, key, "must be a string (exact) or {regexp: RE2 expression}");
    if (auto s = r.String(node["regexp"], key + ".regexp", out.value); !s.ok()) return s;
    out.regexp = true;
    const RE2 pattern(out.value, RE2::Quiet);
    if (!pattern.ok())
      return r.Error(node["regexp"], key + ".regexp", "is not a valid RE2 expression: " + pattern.error());
  } else {
    if (auto s = r.String(node, key, out.value); !s.ok()) return s;
    out.regexp = false;
  }
  if (out.value.empty()) return r.Error(node, key, "must not be empty");
  return Status::Ok();
}

Status ParseStringMatchList(const base::YamlReader& r, const YAML::Node& node, const std::string& key,
                            std::vector<StringMatchConfig>& out) {
  if (!node.IsSequence() || node.size() == 0) {
    return r.Error(node, key, "must be a non-empty list of strings (exact) or {regexp: RE2 expression}");
  }
  for (const auto& item : node) {
    StringMatchConfig matcher;
    if (auto s = ParseStringMatch(r, item, key + "[]", matcher); !s.ok()) return s;
    out.push_back(std::move(matcher));
  }
  return Status::Ok();
}

Status ParseAttestations(const base::YamlReader& r, const YAML::Node& node, const std::string& where,
                         AttestationsConfig& out) {
  if (!node.IsMap()) return r.Error(node, where, "must be a map with provenance, vulnerabilities and/or sbom");
  if (auto s = r.CheckKeys(node, where, {"provenance", "vulnerabilities", "sbom"}); !s.ok()) return s;
  if (const YAML::Node p = node["provenance"]) {
    const std::string at = where + ".provenance";
    if (!p.IsMap()) return r.Error(p, at, "must be a map of builderIds, sourceRepository, sourceRef, buildType");
    if (auto s = r.CheckKeys(p, at, {"builderIds", "sourceRepository", "sourceRef", "buildType"}); !s.ok()) return s;
    ProvenanceRequirementConfig provenance;
    if (p["builderIds"]) {
      if (auto s = ParseStringMatchList(r, p["builderIds"], at + ".builderIds", provenance.builder_ids); !s.ok()) {
        return s;
      }
    }
    const std::pair<const char*, std::optional<StringMatchConfig>*> fields[] = {
        {"sourceRepository", &provenance.source_repository},
        {"sourceRef", &provenance.source_ref},
        {"buildType", &provenance.build_type}};
    for (const auto& field : fields) {
      if (!p[field.first]) continue;
      StringMatchConfig matcher;
      if (auto s = ParseStringMatch(r, p[field.first], at + "." + field.first, matcher); !s.ok()) return s;
      *field.second = std::move(matcher);
    }
    out.provenance = std::move(provenance);
  }
  if (const YAML::Node v = node["vulnerabilities"]) {
    const std::string at = where + ".vulnerabilities";
    if (!v.IsMap()) return r.Error(v, at, "must be a map of scanners, maxAgeHours, failAt, allow");
    if (auto s = r.CheckKeys(v, at, {"scanners", "maxAgeHours", "failAt", "allow"}); !s.ok()) return s;
    VulnerabilityRequirementConfig vulnerabilities;
    if (v["scanners"]) {
      if (auto s = ParseStringMatchList(r, v["scanners"], at + ".scanners", vulnerabilities.scanners); !s.ok()) {
        return s;
      }
    }
    if (v["maxAgeHours"]) {
      if (auto s = r.Int(v["maxAgeHours"], at + ".maxAgeHours", 1, 24 * 366, vulnerabilities.max_age_hours); !s.ok()) {
        return s;
      }
    }
    if (v["failAt"]) {
      if (auto s = r.String(v["failAt"], at + ".failAt", vulnerabilities.fail_at); !s.ok()) return s;
      static const std::set<std::string> kSeverities = {"negligible", "low", "medium", "high", "critical"};
      if (!kSeverities.count(vulnerabilities.fail_at)) {
        return r.Error(
            v["failAt"], at + ".failAt",
            "must be one of negligible, low, medium, high, critical (got \"" + vulnerabilities.fail_at + "\")");
      }
    }
    if (const YAML::Node allow = v["allow"]) {
      if (!allow.IsSequence()) return r.Error(allow, at + ".allow", "must be a list of {id, expires}");
      const std::string item = at + ".allow[]";
      for (const auto& a : allow) {
        if (auto s = r.CheckKeys(a, item, {"id", "expires"}); !s.ok()) return s;
        AllowedVulnerabilityConfig entry;
        if (!a["id"] || !a["expires"]) {
          return r.Error(a, item, "needs id (e.g. CVE-2026-1234) and expires (RFC 3339, e.g. 2027-01-31T00:00:00Z)");
        }
        if (auto s = r.String(a["id"], item + ".id", entry.id); !s.ok()) return s;
        if (entry.id.empty()) return r.Error(a["id"], item + ".id", "must not be empty");
        if (auto s = r.String(a["expires"], item + ".expires", entry.expires); !s.ok()) return s;
        const auto expires = base::ParseTimestamp(entry.expires);
        if (!expires) {
          return r.Error(a["expires"], item + ".expires",
                         "\"" + entry.expires +
                             "\" is not an RFC 3339 time (e.g. 2027-01-31T00:00:00Z); every waiver "
                             "must end");
        }
        entry.expires_unix_seconds = *expires;
        vulnerabilities.allow.push_back(std::move(entry));
      }
    }
    out.vulnerabilities = std::move(vulnerabilities);
  }
  if (node["sbom"]) {
    if (auto s = r.Bool(node["sbom"], where + ".sbom", out.sbom); !s.ok()) return s;
  }
  return Status::Ok();
}

Status ParseImages(const base::YamlReader& r, const YAML::Node& node, ImagesConfig& out) {
  if (auto s = r.CheckKeys(node, "images",
                           {"verify", "allowedRegistries", "keys", "rekor", "keyless", "attestations", "registries",
                            "pinDigests", "deadline"});
      !s.ok()) {
    return s;
  }
  if (node["verify"]) {
    if (auto s = r.Bool(node["verify"], "images.verify", out.verify); !s.ok()) return s;
  }
  if (node["pinDigests"]) {
    if (auto s = r.Bool(node["pinDigests"], "images.pinDigests", out.pin_digests); !s.ok()) return s;
  }
  if (node["deadline"]) {
    if (auto s = r.Duration(node["deadline"], "images.deadline", out.deadline); !s.ok()) return s;
  }
  if (node["allowedRegistries"]) {
    if (auto s = r.StringList(node["allowedRegistries"], "images.allowedRegistries", out.allowed_registries); !s.ok()) {
      return s;
    }
    for (const auto& prefix : out.allowed_registries) {
      if (prefix.empty()) {
        return r.Error(node["allowedRegistries"], "images.allowedRegistries",
                       "an empty prefix would allow every registry; remove it or list registry prefixes");
      }
    }
  }
  if (const auto keys = node["keys"]) {
    if (auto s = ParseKeyList(r, keys, "images.keys", out.keys); !s.ok()) return s;
  }
  if (const auto rekor = node["rekor"]) {
    if (auto s = ParseRekor(r, rekor, out.rekor); !s.ok()) return s;
  }
  if (const auto keyless = node["keyless"]) {
    if (auto s = ParseKeyless(r, keyless, out.keyless); !s.ok()) return s;
  }
  if (const auto attestations = node["attestations"]) {
    if (auto s = ParseAttestations(r, attestations, "images.attestations", out.attestations); !s.ok()) return s;
  }
  if (const auto regs = node["registries"]) {
    if (!regs.IsSequence()) {
      return r.Error(regs, "images.registries", "must be a list of {host, caFile | insecure, credentialsFile}");
    }
    for (const auto& g : regs) {
      if (auto s = r.CheckKeys(g, "images.registries[]", {"host", "caFile", "insecure", "credentialsFile"}); !s.ok()) {
        return s;
      }
      RegistryConfig reg;
      if (!g["host"]) return r.Error(g, "images.registries[].host", "is required (host:port as in image references)");
      if (auto s = r.String(g["host"], "images.registries[].host", reg.host); !s.ok()) return s;
      if (g["caFile"]) {
        if (auto s = r.String(g["caFile"], "images.registries[].caFile", reg.ca_file); !s.ok()) return s;
      }
      if (g["insecure"]) {
        if (auto s = r.Bool(g["insecure"], "images.registries[].insecure", reg.insecure); !s.ok()) return s;
      }
      if (g["credentialsFile"]) {
        if (auto s = r.String(g["credentialsFile"], "images.registries[].credentialsFile", reg.credentials_file);
            !s.ok()) {
          return s;
        }
      }
      if (reg.insecure && !reg.ca_file.empty()) {
        return r.Error(g, "images.registries[]", "insecure (plain HTTP) and caFile (TLS) exclude each other");
      }
      out.registries.push_back(std::move(reg));
    }
  }
  return Status::Ok();
}

Status ParseGovernance(const base::YamlReader& r, const YAML::Node& node, GovernanceConfig& out) {
  if (auto s = r.CheckKeys(node, "governance", {"selectors", "sparkApplications", "profileSelected"}); !s.ok()) {
    return s;
  }
  if (node["sparkApplications"]) {
    if (auto s = r.Bool(node["sparkApplications"], "governance.sparkApplications", out.spark_applications); !s.ok()) {
      return s;
    }
  }
  if (node["profileSelected"]) {
    if (auto s = r.Bool(node["profileSelected"], "governance.profileSelected", out.profile_selected); !s.ok()) {
      return s;
    }
  }
  if (const auto selectors = node["selectors"]) {
    if (!selectors.IsSequence()) {
      return r.Error(selectors, "governance.selectors",
                     "must be a list of label selectors (matchLabels/matchExpressions)");
    }
    out.selectors.clear();
    for (const auto& sel : selectors) {
      auto parsed = LabelSelector::FromJson(YamlToJson(sel), "governance.selectors[]");
      if (!parsed.ok()) return r.Error(sel, "governance.selectors[]", parsed.status().message());
      if (parsed->empty()) {
        return r.Error(sel, "governance.selectors[]",
                       "an empty selector would govern every pod in the cluster; give matchLabels or matchExpressions");
      }
      out.selectors.push_back(std::move(parsed).value());
    }
  }
  return Status::Ok();
}

Status ParseBreakGlass(const base::YamlReader& r, const YAML::Node& node, BreakGlassConfig& out) {
  if (auto s = r.CheckKeys(node, "breakGlass", {"groups", "trustedRequesters", "maxDuration"}); !s.ok()) return s;
  if (node["groups"]) {
    if (auto s = r.StringList(node["groups"], "breakGlass.groups", out.groups); !s.ok()) return s;
  }
  if (node["trustedRequesters"]) {
    if (auto s = r.StringList(node["trustedRequesters"], "breakGlass.trustedRequesters", out.trusted_requesters);
        !s.ok()) {
      return s;
    }
  }
  if (node["maxDuration"]) {
    std::chrono::milliseconds d{};
    if (auto s = r.Duration(node["maxDuration"], "breakGlass.maxDuration", d); !s.ok()) return s;
    if (d > std::chrono::hours(24 * 7) || d < std::chrono::hours(1)) {
      return r.Error(node["maxDuration"], "breakGlass.maxDuration", "must be between 1h and 168h (7 days)");
    }
    out.max_duration = std::chrono::duration_cast<std::chrono::hours>(d);
  }
  return Status::Ok();
}

}  // namespace

Config DefaultConfig() {
  Config c;
  c.governance.selectors = {
      LabelSelector::MatchingLabel("kubernetes_pod_operator", "True"),
      *LabelSelector::FromJson(
          nlohmann::json::parse(R"({"matchExpressions":[{"key":"spark-role","operator":"Exists"}]})"), "default"),
      *LabelSelector::FromJson(
          nlohmann::json::parse(R"({"matchExpressions":[{"key":"pipeguard.io/pipeline","operator":"Exists"}]})"),
          "default"),
  };
  // Pods created by Kubernetes controllers from a template that was itself admitted (with its break-glass
  // annotation checked against the human requester at that time).
  c.break_glass.trusted_requesters = {
      "system:serviceaccount:kube-system:replicaset-controller",
      "system:serviceaccount:kube-system:job-controller",
      "system:serviceaccount:kube-system:statefulset-controller",
      "system:serviceaccount:kube-system:daemon-set-controller",
      "system:serviceaccount:kube-system:cronjob-controller",
      "system:serviceaccount:kube-system:deployment-controller",
  };
  return c;
}

StatusOr<Config> ParseConfig(std::string_view yaml_text, const std::string& source) {
  base::YamlReader r(source);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(source + ":" + std::to_string(e.mark.line + 1) + ":" +
                                   std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
  }
  Config config = DefaultConfig();
  if (root.IsNull()) return config;
  try {
    if (auto s = r.CheckKeys(
            root, "",
            {"mode", "blockingSeverity", "images", "governance", "breakGlass", "serviceAccounts", "reviewBudget"});
        !s.ok()) {
      return s;
    }
    if (const auto mode = root["mode"]) {
      auto parsed = mode.IsScalar() ? ParseMode(mode.Scalar()) : std::nullopt;
      if (!parsed) return r.Error(mode, "mode", "must be enforce or audit");
      config.mode = *parsed;
    }
    if (const auto sev = root["blockingSeverity"]) {
      auto parsed = sev.IsScalar() ? ParseSeverity(sev.Scalar()) : std::nullopt;
      if (!parsed || *parsed == Severity::kInfo) {
        return r.Error(sev, "blockingSeverity", "must be low, medium, high or critical");
      }
      config.blocking_severity = *parsed;
    }
    if (root["images"]) {
      if (auto s = ParseImages(r, root["images"], config.images); !s.ok()) return s;
    }
    if (root["reviewBudget"]) {
      if (auto s = r.Duration(root["reviewBudget"], "reviewBudget", config.review_budget); !s.ok()) return s;
      if (config.review_budget < std::chrono::milliseconds(10) || config.review_budget > std::chrono::seconds(60)) {
        return r.Error(root["reviewBudget"], "reviewBudget", "must be between 10ms and 60s");
      }
    }
    if (root["governance"]) {
      if (auto s = ParseGovernance(r, root["governance"], config.governance); !s.ok()) return s;
    }
    if (root["breakGlass"]) {
      if (auto s = ParseBreakGlass(r, root["breakGlass"], config.break_glass); !s.ok()) return s;
    }
    if (const auto sa = root["serviceAccounts"]) {
      if (auto s = r.CheckKeys(sa, "serviceAccounts", {"forbiddenRoles"}); !s.ok()) return s;
      if (sa["forbiddenRoles"]) {
        if (auto s = r.StringList(sa["forbiddenRoles"], "serviceAccounts.forbiddenRoles",
                                  config.service_accounts.forbidden_roles);
            !s.ok()) {
          return s;
        }
      }
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return config;
}

}  // namespace pipeguard::policy
