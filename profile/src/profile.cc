#include "pipeguard/profile/profile.h"

#include <algorithm>

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

// spec.images.trustedKeys: names only (the webhook configuration's images.keys says which names exist).
void ReadImages(Walker& w, const json& images, ParsedProfile& p) {
  if (!w.IsObject(images, "/spec/images")) return;
  w.KnownKeys(images, "/spec/images", {"trustedKeys"});
  const json* keys = Walker::Find(images, "trustedKeys");
  if (keys == nullptr) return;
  const std::string path = "/spec/images/trustedKeys";
  if (!keys->is_array() || keys->empty() || keys->size() > 16) {
    w.Problem(path,
              "must be a list of 1 to 16 key names from the configuration's images.keys (omit it to accept every "
              "configured key)");
    return;
  }
  std::vector<std::string> names;
  for (size_t i = 0; i < keys->size(); ++i) {
    const json& name = (*keys)[i];
    if (!name.is_string() || name.get_ref<const std::string&>().empty() ||
        name.get_ref<const std::string&>().size() > 128) {
      w.Problem(PointerChild(path, i), "must be a key name of 1 to 128 characters");
    } else if (std::find(names.begin(), names.end(), name.get_ref<const std::string&>()) != names.end()) {
      w.Problem(PointerChild(path, i), "names \"" + name.get<std::string>() + "\" twice");
    } else {
      names.push_back(name.get<std::string>());
    }
  }
  p.trusted_keys = std::move(names);
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
