#include "pipeguard/signatures/attestation_policy.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <tuple>

#include "pipeguard/base/json.h"
#include "pipeguard/base/time.h"
#include "pipeguard/signatures/crypto.h"

namespace pipeguard::signatures {
namespace {

using nlohmann::json;

constexpr int kMaxStatementDepth = 64;
constexpr std::size_t kMaxListedFindings = 5;

// The string at `path` (keys) in `value`, or "" when any step is missing or not that type.
std::string StringAt(const json& value, std::initializer_list<std::string_view> path) {
  const json* at = &value;
  for (std::string_view key : path) {
    if (!at->is_object()) return {};
    auto it = at->find(key);
    if (it == at->end()) return {};
    at = &*it;
  }
  return at->is_string() ? at->get<std::string>() : std::string();
}

bool Matches(const StringMatcher& matcher, const std::string& text) {
  if (!matcher.regex) return text == matcher.value;
  const RE2 pattern(matcher.value, RE2::Quiet);
  return pattern.ok() && RE2::FullMatch(text, pattern);
}

std::string Describe(const StringMatcher& matcher) {
  return matcher.regex ? "matching ^" + matcher.value + "$" : "\"" + matcher.value + "\"";
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

const char* SeverityName(VulnerabilitySeverity severity) {
  switch (severity) {
    case VulnerabilitySeverity::kNegligible:
      return "negligible";
    case VulnerabilitySeverity::kLow:
      return "low";
    case VulnerabilitySeverity::kMedium:
      return "medium";
    case VulnerabilitySeverity::kHigh:
      return "high";
    case VulnerabilitySeverity::kCritical:
      return "critical";
  }
  return "unknown";
}

bool IsProvenance(const InTotoStatement& s) {
  return s.predicate_type == kSlsaProvenanceV1 || s.predicate_type == kSlsaProvenanceV02;
}

// What a provenance statement says, read by its version.
struct ProvenanceFacts {
  std::string builder_id, repository, ref, build_type;
};

ProvenanceFacts ReadProvenance(const InTotoStatement& s) {
  ProvenanceFacts facts;
  const json& p = s.predicate;
  if (s.predicate_type == kSlsaProvenanceV1) {
    facts.builder_id = StringAt(p, {"runDetails", "builder", "id"});
    facts.build_type = StringAt(p, {"buildDefinition", "buildType"});
    facts.repository = StringAt(p, {"buildDefinition", "externalParameters", "workflow", "repository"});
    facts.ref = StringAt(p, {"buildDefinition", "externalParameters", "workflow", "ref"});
    return facts;
  }
  facts.builder_id = StringAt(p, {"builder", "id"});
  facts.build_type = StringAt(p, {"buildType"});
  std::string uri = StringAt(p, {"invocation", "configSource", "uri"});  // git+https://github.com/o/r@refs/tags/v1
  if (uri.rfind("git+", 0) == 0) uri.erase(0, 4);
  const std::size_t at = uri.rfind('@');
  facts.repository = at == std::string::npos ? uri : uri.substr(0, at);
  facts.ref = at == std::string::npos ? std::string() : uri.substr(at + 1);
  return facts;
}

// The unmet conditions of `requirement` for one provenance statement.
std::vector<std::string> ProvenanceMismatches(const ProvenanceFacts& facts, const ProvenanceRequirement& requirement) {
  std::vector<std::string> mismatches;
  if (!requirement.builder_ids.empty() &&
      std::none_of(requirement.builder_ids.begin(), requirement.builder_ids.end(),
                   [&](const StringMatcher& m) { return Matches(m, facts.builder_id); })) {
    mismatches.push_back("builder \"" + facts.builder_id + "\" is not a trusted builder");
  }
  auto check = [&](const std::optional<StringMatcher>& matcher, const std::string& value, const char* what) {
    if (matcher && !Matches(*matcher, value)) {
      mismatches.push_back(std::string(what) + " \"" + value + "\" is not " + Describe(*matcher));
    }
  };
  check(requirement.source_repository, facts.repository, "source repository");
  check(requirement.source_ref, facts.ref, "source ref");
  check(requirement.build_type, facts.build_type, "build type");
  return mismatches;
}

struct Finding {
  std::string id;
  std::optional<VulnerabilitySeverity> severity;
};

// Findings from the scanner's own report: Grype's or Trivy's shape.
std::vector<Finding> ReadFindings(const json& result) {
  std::vector<Finding> findings;
  if (!result.is_object()) return findings;
  if (auto matches = result.find("matches"); matches != result.end() && matches->is_array()) {
    for (const json& match : *matches) {
      findings.push_back({StringAt(match, {"vulnerability", "id"}),
                          ParseVulnerabilitySeverity(StringAt(match, {"vulnerability", "severity"}))});
    }
  }
  if (auto results = result.find("Results"); results != result.end() && results->is_array()) {
    for (const json& target : *results) {
      if (!target.is_object() || !target.contains("Vulnerabilities") || !target["Vulnerabilities"].is_array()) continue;
      for (const json& v : target["Vulnerabilities"]) {
        findings.push_back({StringAt(v, {"VulnerabilityID"}), ParseVulnerabilitySeverity(StringAt(v, {"Severity"}))});
      }
    }
  }
  return findings;
}

std::string Hours(std::int64_t seconds) {
  return seconds % 3600 == 0 ? std::to_string(seconds / 3600) + " h" : std::to_string(seconds / 60) + " min";
}

std::optional<std::string> CheckVulnerabilities(const std::vector<InTotoStatement>& statements,
                                                const VulnerabilityRequirement& requirement, std::int64_t now,
                                                std::optional<std::int64_t>& changes_at) {
  const auto change_at = [&](std::int64_t at) {
    if (at > now && (!changes_at || at < *changes_at)) changes_at = at;
  };
  for (const AllowedVulnerability& waiver : requirement.allowed) change_at(waiver.expires_unix_seconds);
  const std::string prefix = "vulnerability scan: ";
  const InTotoStatement* newest = nullptr;
  std::int64_t newest_time = 0;
  bool any = false, any_allowed_scanner = false;
  for (const InTotoStatement& s : statements) {
    if (s.predicate_type != kCosignVulnerability) continue;
    any = true;
    const std::string scanner = StringAt(s.predicate, {"scanner", "uri"});
    if (!requirement.scanner_uris.empty() &&
        std::none_of(requirement.scanner_uris.begin(), requirement.scanner_uris.end(),
                     [&](const StringMatcher& m) { return Matches(m, scanner); })) {
      continue;
    }
    any_allowed_scanner = true;
    const auto finished = base::ParseTimestamp(StringAt(s.predicate, {"metadata", "scanFinishedOn"}));
    if (finished && (newest == nullptr || *finished > newest_time)) {
      newest = &s;
      newest_time = *finished;
    }
  }
  if (!any)
    return prefix + "no attestation of type " + std::string(kCosignVulnerability) + " (cosign attest --type vuln)";
  if (!any_allowed_scanner) return prefix + "no attestation from a trusted scanner (scanner.uri)";
  if (newest == nullptr) return prefix + "no attestation with a valid metadata.scanFinishedOn (RFC 3339)";
  const std::int64_t age = now - newest_time;
  change_at(newest_time + requirement.max_age_seconds + 1);
  if (age > requirement.max_age_seconds) {
    return prefix + "the newest scan finished " + StringAt(newest->predicate, {"metadata", "scanFinishedOn"}) + ", " +
           Hours(std::max<std::int64_t>(age, 0) / 60 * 60) + " ago (at most " + Hours(requirement.max_age_seconds) +
           "); scan the image again";
  }
  std::vector<std::string> failing;
  std::size_t expired_waivers = 0;
  static const json kNone;
  const json& scanner =
      newest->predicate.is_object() && newest->predicate.contains("scanner") ? newest->predicate["scanner"] : kNone;
  const json& result = scanner.is_object() && scanner.contains("result") ? scanner["result"] : kNone;
  for (const Finding& finding : ReadFindings(result)) {
    if (!finding.severity || *finding.severity < requirement.fail_at) continue;
    auto waiver = std::find_if(requirement.allowed.begin(), requirement.allowed.end(),
                               [&](const AllowedVulnerability& a) { return a.id == finding.id; });
    if (waiver != requirement.allowed.end()) {
      if (waiver->expires_unix_seconds > now) continue;
      ++expired_waivers;
    }
    if (std::find(failing.begin(), failing.end(), finding.id) == failing.end()) failing.push_back(finding.id);
  }
  if (failing.empty()) return std::nullopt;
  std::string message = prefix + std::to_string(failing.size()) + " finding" + (failing.size() == 1 ? "" : "s") +
                        " at or above " + SeverityName(requirement.fail_at) + ": ";
  for (std::size_t i = 0; i < failing.size() && i < kMaxListedFindings; ++i) message += (i ? ", " : "") + failing[i];
  if (failing.size() > kMaxListedFindings) message += ", ...";
  if (expired_waivers > 0) message += " (" + std::to_string(expired_waivers) + " with an expired waiver)";
  return message + "; fix them or allow-list an id with an expiry";
}

}  // namespace

std::optional<VulnerabilitySeverity> ParseVulnerabilitySeverity(std::string_view text) {
  static const std::map<std::string, VulnerabilitySeverity, std::less<>> kNames = {
      {"negligible", VulnerabilitySeverity::kNegligible},
      {"low", VulnerabilitySeverity::kLow},
      {"medium", VulnerabilitySeverity::kMedium},
      {"moderate", VulnerabilitySeverity::kMedium},
      {"high", VulnerabilitySeverity::kHigh},
      {"critical", VulnerabilitySeverity::kCritical}};
  auto it = kNames.find(Lower(std::string(text)));
  if (it == kNames.end()) return std::nullopt;
  return it->second;
}

StatusOr<InTotoStatement> ParseInTotoStatement(std::string_view payload) {
  auto parsed = base::ParseJson(payload, "in-toto statement", kMaxStatementDepth);
  if (!parsed.ok()) return parsed.status();
  const json& doc = *parsed;
  if (!doc.is_object()) return Status::InvalidArgument("in-toto statement: must be a JSON object");
  const std::string type = StringAt(doc, {"_type"});
  if (type != "https://in-toto.io/Statement/v0.1" && type != "https://in-toto.io/Statement/v1") {
    return Status::InvalidArgument("in-toto statement: _type \"" + type +
                                   "\" is not https://in-toto.io/Statement/v0.1 or v1");
  }
  InTotoStatement statement;
  statement.predicate_type = StringAt(doc, {"predicateType"});
  if (statement.predicate_type.empty()) return Status::InvalidArgument("in-toto statement: predicateType is missing");
  auto subjects = doc.find("subject");
  if (subjects == doc.end() || !subjects->is_array() || subjects->empty()) {
    return Status::InvalidArgument("in-toto statement: subject must be a non-empty list");
  }
  for (const json& subject : *subjects) {
    const std::string digest = StringAt(subject, {"digest", "sha256"});
    if (digest.size() != 64 || !std::all_of(digest.begin(), digest.end(),
                                            [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })) {
      return Status::InvalidArgument("in-toto statement: subject[].digest.sha256 must be 64 lower-case hex digits");
    }
    statement.subjects.emplace_back(StringAt(subject, {"name"}), digest);
  }
  statement.predicate = doc.value("predicate", json());
  return statement;
}

bool StatementNamesDigest(const InTotoStatement& statement, std::string_view digest) {
  if (digest.rfind("sha256:", 0) == 0) digest.remove_prefix(7);
  return std::any_of(statement.subjects.begin(), statement.subjects.end(),
                     [&](const auto& subject) { return subject.second == digest; });
}

AttestationCheck CheckAttestations(const std::vector<InTotoStatement>& statements,
                                   const AttestationRequirements& requirements, std::int64_t now_unix_seconds) {
  AttestationCheck check;
  if (requirements.provenance) {
    std::vector<std::string> first_mismatches;
    bool met = false, any = false;
    for (const InTotoStatement& s : statements) {
      if (!IsProvenance(s)) continue;
      std::vector<std::string> mismatches = ProvenanceMismatches(ReadProvenance(s), *requirements.provenance);
      if (mismatches.empty()) {
        met = true;
        break;
      }
      if (!any) first_mismatches = std::move(mismatches);
      any = true;
    }
    if (!any && !met) {
      check.failures.push_back("provenance: no attestation of type " + std::string(kSlsaProvenanceV1) + " or " +
                               std::string(kSlsaProvenanceV02));
    } else if (!met) {
      std::string message = "provenance: ";
      for (std::size_t i = 0; i < first_mismatches.size(); ++i) message += (i ? "; " : "") + first_mismatches[i];
      check.failures.push_back(std::move(message));
    }
  }
  if (requirements.vulnerabilities) {
    if (auto failure = CheckVulnerabilities(statements, *requirements.vulnerabilities, now_unix_seconds,
                                            check.changes_at_unix_seconds)) {
      check.failures.push_back(std::move(*failure));
    }
  }
  if (requirements.sbom && std::none_of(statements.begin(), statements.end(), [](const InTotoStatement& s) {
        return s.predicate_type == kCycloneDx || s.predicate_type.rfind(kSpdx, 0) == 0;
      })) {
    check.failures.push_back("sbom: no CycloneDX (" + std::string(kCycloneDx) + ") or SPDX (" + std::string(kSpdx) +
                             ") attestation (cosign attest --type cyclonedx)");
  }
  check.satisfied = check.failures.empty();
  return check;
}

StatusOr<AttestationRequirements> RequirementsFromConfig(const policy::AttestationsConfig& config,
                                                         const std::string& where) {
  AttestationRequirements requirements;
  const auto matcher = [](const policy::StringMatchConfig& m) { return StringMatcher{m.value, m.regexp}; };
  const auto check = [&](const policy::StringMatchConfig& m, const std::string& field) -> Status {
    if (!m.regexp) return Status::Ok();
    const RE2 pattern(m.value, RE2::Quiet);
    if (!pattern.ok()) {
      return Status::InvalidArgument(where + "." + field + ".regexp is not a valid RE2 expression: " + pattern.error());
    }
    return Status::Ok();
  };
  if (const auto& p = config.provenance) {
    ProvenanceRequirement provenance;
    for (const auto& m : p->builder_ids) {
      if (Status s = check(m, "provenance.builderIds[]"); !s.ok()) return s;
      provenance.builder_ids.push_back(matcher(m));
    }
    const std::tuple<const std::optional<policy::StringMatchConfig>*, std::optional<StringMatcher>*, const char*>
        fields[] = {{&p->source_repository, &provenance.source_repository, "provenance.sourceRepository"},
                    {&p->source_ref, &provenance.source_ref, "provenance.sourceRef"},
                    {&p->build_type, &provenance.build_type, "provenance.buildType"}};
    for (const auto& field : fields) {
      if (!*std::get<0>(field)) continue;
      if (Status s = check(**std::get<0>(field), std::get<2>(field)); !s.ok()) return s;
      *std::get<1>(field) = matcher(**std::get<0>(field));
    }
    requirements.provenance = std::move(provenance);
  }
  if (const auto& v = config.vulnerabilities) {
    VulnerabilityRequirement vulnerabilities;
    for (const auto& m : v->scanners) {
      if (Status s = check(m, "vulnerabilities.scanners[]"); !s.ok()) return s;
      vulnerabilities.scanner_uris.push_back(matcher(m));
    }
    if (v->max_age_hours <= 0) {
      return Status::InvalidArgument(where + ".vulnerabilities.maxAgeHours must be positive");
    }
    vulnerabilities.max_age_seconds = static_cast<std::int64_t>(v->max_age_hours) * 3600;
    const auto severity = ParseVulnerabilitySeverity(v->fail_at);
    if (!severity) {
      return Status::InvalidArgument(where +
                                     ".vulnerabilities.failAt must be one of negligible, low, medium, high, "
                                     "critical");
    }
    vulnerabilities.fail_at = *severity;
    for (const auto& a : v->allow) vulnerabilities.allowed.push_back({a.id, a.expires_unix_seconds});
    requirements.vulnerabilities = std::move(vulnerabilities);
  }
  requirements.sbom = config.sbom;
  return requirements;
}

std::string AttestationRequirementsFingerprint(const AttestationRequirements& requirements) {
  std::string canonical = "attestation-requirements-v1\n";
  const auto text = [&](std::string_view field, const std::string& value) {
    canonical.append(field).append(" ").append(std::to_string(value.size())).append(":").append(value).append("\n");
  };
  const auto matcher = [&](std::string_view field, const StringMatcher& m) {
    text(std::string(field) + (m.regex ? " regexp" : " exact"), m.value);
  };
  const auto matchers = [&](std::string_view field, std::vector<StringMatcher> list) {
    std::sort(list.begin(), list.end(), [](const StringMatcher& a, const StringMatcher& b) {
      return std::tie(a.regex, a.value) < std::tie(b.regex, b.value);
    });
    canonical.append(field).append(" count ").append(std::to_string(list.size())).append("\n");
    for (const StringMatcher& m : list) matcher(field, m);
  };
  if (const auto& p = requirements.provenance) {
    canonical += "provenance\n";
    matchers("builder", p->builder_ids);
    if (p->source_repository) matcher("repository", *p->source_repository);
    if (p->source_ref) matcher("ref", *p->source_ref);
    if (p->build_type) matcher("build-type", *p->build_type);
  }
  if (const auto& v = requirements.vulnerabilities) {
    canonical +=
        "vulnerabilities max-age " + std::to_string(v->max_age_seconds) + " fail-at " + SeverityName(v->fail_at) + "\n";
    matchers("scanner", v->scanner_uris);
    std::vector<AllowedVulnerability> allowed = v->allowed;
    std::sort(allowed.begin(), allowed.end(), [](const AllowedVulnerability& a, const AllowedVulnerability& b) {
      return std::tie(a.id, a.expires_unix_seconds) < std::tie(b.id, b.expires_unix_seconds);
    });
    for (const AllowedVulnerability& a : allowed) text("allow " + std::to_string(a.expires_unix_seconds), a.id);
  }
  canonical += requirements.sbom ? "sbom\n" : "";
  return Sha256Hex(canonical);
}

std::string DescribeRequirements(const AttestationRequirements& requirements) {
  std::vector<std::string> parts;
  if (requirements.provenance) parts.push_back("provenance");
  if (const auto& v = requirements.vulnerabilities) {
    parts.push_back(std::string("vulnerability scan (no finding at or above ") + SeverityName(v->fail_at) +
                    ", at most " + Hours(v->max_age_seconds) + " old)");
  }
  if (requirements.sbom) parts.push_back("SBOM");
  if (parts.empty()) return "none";
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
  return out;
}

}  // namespace pipeguard::signatures
