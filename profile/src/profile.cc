#include "pipeguard/profile/profile.h"

#include <re2/re2.h>

#include <algorithm>
#include <set>

#include "pipeguard/base/time.h"
#include "walker.h"

namespace pipeguard::api {

using internal::PointerChild;
using internal::Walker;
using nlohmann::json;

std::string JoinViolations(const std::vector<GuardrailViolation>& violations) {
  std::string out;
  for (const auto& v : violations) {
    if (!out.empty()) out.append("; ");
    out.append(v.path.empty() ? "/" : v.path).append(": ").append(v.message);
  }
  return out;
}

bool AwsSpec::GrantsS3Writes() const {
  return std::any_of(s3.begin(), s3.end(), [](const S3Grant& g) { return g.access != S3Access::kRead; });
}

namespace {

void ReadMetadata(Walker& w, const json& meta, ParsedProfile& p) {
  if (const json* n = Walker::Find(meta, "name"); n && n->is_string() && IsDnsSubdomain(n->get<std::string>())) {
    p.name = n->get<std::string>();
  } else {
    w.Problem("/metadata/name", "is required: a DNS-1123 name (lowercase letters, digits, '-', '.')");
  }
  p.namespace_ = "default";
  if (const json* n = Walker::Find(meta, "namespace")) {
    if (n->is_string() && IsDnsLabel(n->get<std::string>())) {
      p.namespace_ = n->get<std::string>();
    } else {
      w.Problem("/metadata/namespace", "must be a namespace name (DNS-1123 label)");
    }
  }
  if (const json* u = Walker::Find(meta, "uid"); u && u->is_string()) p.uid = u->get<std::string>();
  if (const json* g = Walker::Find(meta, "generation"); g && g->is_number_integer()) {
    p.generation = g->get<std::int64_t>();
  }
}

void ReadServiceAccount(Walker& w, const json* sa, ParsedProfile& p) {
  if (sa == nullptr) {
    w.Problem("/spec/serviceAccount", "is required (with name: the pipeline's ServiceAccount)");
    return;
  }
  if (!w.IsObject(*sa, "/spec/serviceAccount")) return;
  w.KnownKeys(*sa, "/spec/serviceAccount", {"name", "automountToken"});
  const json* n = Walker::Find(*sa, "name");
  if (n && n->is_string() && IsDnsSubdomain(n->get<std::string>())) {
    p.service_account = n->get<std::string>();
  } else {
    w.Problem("/spec/serviceAccount/name", "is required: a DNS-1123 name (lowercase letters, digits, '-', '.')");
  }
  if (const json* a = Walker::Find(*sa, "automountToken")) {
    if (auto b = w.Bool(*a, "/spec/serviceAccount/automountToken")) p.automount_token = *b;
  }
}

// A list of 1 to 16 unique names (spec.images.trustedKeys, spec.images.keylessIdentities); nullopt when absent or
// wrong (with a problem recorded).
std::optional<std::vector<std::string>> ReadNames(Walker& w, const json& images, const char* key, const char* what) {
  const json* list = Walker::Find(images, key);
  if (list == nullptr) return std::nullopt;
  const std::string path = PointerChild("/spec/images", key);
  if (!list->is_array() || list->empty() || list->size() > 16) {
    w.Problem(path, std::string("must be a list of 1 to 16 ") + what);
    return std::nullopt;
  }
  std::vector<std::string> names;
  for (size_t i = 0; i < list->size(); ++i) {
    const json& name = (*list)[i];
    if (!name.is_string() || name.get_ref<const std::string&>().empty() ||
        name.get_ref<const std::string&>().size() > 128) {
      w.Problem(PointerChild(path, i), "must be a name of 1 to 128 characters");
    } else if (std::find(names.begin(), names.end(), name.get_ref<const std::string&>()) != names.end()) {
      w.Problem(PointerChild(path, i), "names \"" + name.get<std::string>() + "\" twice");
    } else {
      names.push_back(name.get<std::string>());
    }
  }
  return names;
}

// A string (exact) or {regexp: RE2} (whole value); nullopt after recording a problem.
std::optional<policy::StringMatchConfig> ReadStringMatch(Walker& w, const json& v, const std::string& path) {
  policy::StringMatchConfig matcher;
  if (v.is_object()) {
    w.KnownKeys(v, path, {"regexp"});
    const json* re = Walker::Find(v, "regexp");
    if (re == nullptr || !re->is_string()) {
      w.Problem(path, "must be a string (exact) or {regexp: RE2 expression}");
      return std::nullopt;
    }
    matcher.value = re->get<std::string>();
    matcher.regexp = true;
    const RE2 pattern(matcher.value, RE2::Quiet);
    if (!pattern.ok()) {
      w.Problem(PointerChild(path, "regexp"), "is not a valid RE2 expression: " + pattern.error());
      return std::nullopt;
    }
  } else if (v.is_string()) {
    matcher.value = v.get<std::string>();
  } else {
    w.Problem(path, "must be a string (exact) or {regexp: RE2 expression}");
    return std::nullopt;
  }
  if (matcher.value.empty() || matcher.value.size() > 1024) {
    w.Problem(path, "must be 1 to 1024 characters");
    return std::nullopt;
  }
  return matcher;
}

std::vector<policy::StringMatchConfig> ReadStringMatchList(Walker& w, const json& object, const std::string& path,
                                                           const char* key) {
  std::vector<policy::StringMatchConfig> out;
  const json* list = Walker::Find(object, key);
  if (list == nullptr) return out;
  const std::string list_path = PointerChild(path, key);
  if (!w.Array(*list, list_path, 1, 32)) return out;
  for (size_t i = 0; i < list->size(); ++i) {
    if (auto m = ReadStringMatch(w, (*list)[i], PointerChild(list_path, i))) out.push_back(std::move(*m));
  }
  return out;
}

// spec.images.attestations: the grammar of the configuration's images.attestations.
std::optional<policy::AttestationsConfig> ReadAttestations(Walker& w, const json& v) {
  const std::string path = "/spec/images/attestations";
  if (!w.IsObject(v, path)) return std::nullopt;
  w.KnownKeys(v, path, {"provenance", "vulnerabilities", "sbom"});
  policy::AttestationsConfig out;
  if (const json* p = Walker::Find(v, "provenance")) {
    const std::string at = path + "/provenance";
    if (w.IsObject(*p, at)) {
      w.KnownKeys(*p, at, {"builderIds", "sourceRepository", "sourceRef", "buildType"});
      policy::ProvenanceRequirementConfig provenance;
      provenance.builder_ids = ReadStringMatchList(w, *p, at, "builderIds");
      const std::pair<const char*, std::optional<policy::StringMatchConfig>*> fields[] = {
          {"sourceRepository", &provenance.source_repository},
          {"sourceRef", &provenance.source_ref},
          {"buildType", &provenance.build_type}};
      for (const auto& field : fields) {
        if (const json* f = Walker::Find(*p, field.first))
          *field.second = ReadStringMatch(w, *f, PointerChild(at, field.first));
      }
      out.provenance = std::move(provenance);
    }
  }
  if (const json* vu = Walker::Find(v, "vulnerabilities")) {
    const std::string at = path + "/vulnerabilities";
    if (w.IsObject(*vu, at)) {
      w.KnownKeys(*vu, at, {"scanners", "maxAgeHours", "failAt", "allow"});
      policy::VulnerabilityRequirementConfig vulnerabilities;
      vulnerabilities.scanners = ReadStringMatchList(w, *vu, at, "scanners");
      if (const json* age = Walker::Find(*vu, "maxAgeHours")) {
        if (auto hours = w.Integer(*age, at + "/maxAgeHours", 1, 24 * 366)) {
          vulnerabilities.max_age_hours = static_cast<int>(*hours);
        }
      }
      if (const json* fail_at = Walker::Find(*vu, "failAt")) {
        static const std::set<std::string> kSeverities = {"negligible", "low", "medium", "high", "critical"};
        if (!fail_at->is_string() || !kSeverities.count(fail_at->get<std::string>())) {
          w.Problem(at + "/failAt", "must be one of negligible, low, medium, high, critical");
        } else {
          vulnerabilities.fail_at = fail_at->get<std::string>();
        }
      }
      w.ForEachItem(*vu, at, "allow", 64, [&](const json& item, const std::string& item_path) {
        if (!w.IsObject(item, item_path)) return;
        w.KnownKeys(item, item_path, {"id", "expires"});
        const json* id = Walker::Find(item, "id");
        const json* expires = Walker::Find(item, "expires");
        if (id == nullptr || !id->is_string() || id->get<std::string>().empty() || expires == nullptr ||
            !expires->is_string()) {
          w.Problem(item_path, "needs id (e.g. CVE-2026-1234) and expires (RFC 3339, e.g. 2027-01-31T00:00:00Z)");
          return;
        }
        const auto when = base::ParseTimestamp(expires->get<std::string>());
        if (!when) {
          w.Problem(PointerChild(item_path, "expires"),
                    "\"" + expires->get<std::string>() + "\" is not an RFC 3339 time; every waiver must end");
          return;
        }
        vulnerabilities.allow.push_back({id->get<std::string>(), *when, expires->get<std::string>()});
      });
      out.vulnerabilities = std::move(vulnerabilities);
    }
  }
  if (const json* sbom = Walker::Find(v, "sbom")) {
    if (auto b = w.Bool(*sbom, path + "/sbom")) out.sbom = *b;
  }
  return out;
}

// spec.images: who may sign the pipeline's images (names only: the webhook configuration's images.keys and
// images.keyless.identities say which names exist) and which attestations they must carry.
void ReadImages(Walker& w, const json& images, ParsedProfile& p) {
  if (!w.IsObject(images, "/spec/images")) return;
  w.KnownKeys(images, "/spec/images", {"trustedKeys", "keylessIdentities", "attestations"});
  p.trusted_keys = ReadNames(w, images, "trustedKeys",
                             "key names from the configuration's images.keys (omit it to accept every configured key)");
  p.keyless_identities =
      ReadNames(w, images, "keylessIdentities", "identity names from the configuration's images.keyless.identities");
  if (const json* attestations = Walker::Find(images, "attestations"))
    p.attestations = ReadAttestations(w, *attestations);
}

void ReadSpec(Walker& w, const json& spec, ParsedProfile& p) {
  w.KnownKeys(spec, "/spec", {"podSelector", "mode", "serviceAccount", "aws", "network", "deletionPolicy", "images"});
  if (const json* sel = Walker::Find(spec, "podSelector")) {
    if (auto s = w.Selector(*sel, "/spec/podSelector")) p.pod_selector = *s;
  } else {
    w.Problem("/spec/podSelector", "is required (use {} to select every pod in the namespace)");
  }
  if (const json* m = Walker::Find(spec, "mode")) {
    p.mode = w.OneOf<std::string>(*m, "/spec/mode", {{"enforce", "enforce"}, {"audit", "audit"}});
  }
  ReadServiceAccount(w, Walker::Find(spec, "serviceAccount"), p);
  if (const json* images = Walker::Find(spec, "images")) ReadImages(w, *images, p);
  if (const json* aws = Walker::Find(spec, "aws")) {
    AwsSpec a;
    internal::ParseAws(w, *aws, "/spec/aws", a);
    p.aws = std::move(a);
  }
  if (const json* network = Walker::Find(spec, "network")) {
    internal::ParseNetwork(w, *network, "/spec/network", p.network);
  }
  if (const json* d = Walker::Find(spec, "deletionPolicy")) {
    if (auto policy = w.OneOf<DeletionPolicy>(
            *d, "/spec/deletionPolicy", {{"Delete", DeletionPolicy::kDelete}, {"Retain", DeletionPolicy::kRetain}})) {
      p.deletion_policy = *policy;
    }
  }
}

}  // namespace

ProfileReading ReadProfile(const json& object) {
  Walker w;
  ProfileReading reading;
  ParsedProfile& p = reading.profile;
  if (!object.is_object()) {
    w.Problem("", "a PipelineSecurityProfile must be an object");
  } else {
    const json* api_version = Walker::Find(object, "apiVersion");
    const json* kind = Walker::Find(object, "kind");
    if (!api_version || *api_version != kProfileApiVersion) {
      w.Problem("/apiVersion", "must be " + std::string(kProfileApiVersion));
    }
    if (!kind || *kind != kProfileKind) w.Problem("/kind", "must be " + std::string(kProfileKind));
    const json* meta = Walker::Find(object, "metadata");
    if (!meta || !meta->is_object()) {
      w.Problem("/metadata", "is required (with name)");
    } else {
      ReadMetadata(w, *meta, p);
    }
    const json* spec = Walker::Find(object, "spec");
    if (!spec || !spec->is_object()) {
      w.Problem("/spec", "is required (with podSelector and serviceAccount)");
    } else {
      ReadSpec(w, *spec, p);
    }
  }
  reading.problems = std::move(w.problems);
  return reading;
}

StatusOr<ParsedProfile> ParseProfile(const json& object, std::vector<GuardrailViolation>* problems) {
  ProfileReading reading = ReadProfile(object);
  if (reading.ok()) return std::move(reading.profile);
  if (problems) problems->insert(problems->end(), reading.problems.begin(), reading.problems.end());
  const ParsedProfile& p = reading.profile;
  std::string where =
      p.name.empty() ? "PipelineSecurityProfile" : "PipelineSecurityProfile " + p.namespace_ + "/" + p.name;
  return Status::InvalidArgument(where + ": " + JoinViolations(reading.problems));
}

}  // namespace pipeguard::api
