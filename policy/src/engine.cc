#include "pipeguard/policy/engine.h"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <set>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "pipeguard/base/time.h"
#include "workload.h"

namespace pipeguard::policy {

using nlohmann::json;

namespace {

constexpr std::string_view kKnownRules[] = {
    rules::kUnsignedImage,       rules::kUntrustedRegistry, rules::kPlaintextSecret, rules::kInsecureTransport,
    rules::kServiceAccountScope, rules::kMissingProfile,    rules::kProfileGuardrail};

bool Contains(const std::vector<std::string>& values, std::string_view v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

std::string Describe(const Workload& w) {
  return w.kind + " " + w.namespace_ + "/" + (w.name.empty() ? "(unnamed)" : w.name);
}

// --- registries -------------------------------------------------------------------------------------------------

// Docker Hub short names ("python:3.11", "bitnami/spark") expand to docker.io/library/... as the kubelet does.
std::string NormalizeImage(const std::string& image) {
  const size_t slash = image.find('/');
  if (slash == std::string::npos) return "docker.io/library/" + image;
  const std::string_view first(image.data(), slash);
  const bool is_host =
      first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos || first == "localhost";
  return is_host ? image : "docker.io/" + image;
}

// A prefix matches at a path boundary so "registry.corp" does not allow "registry.corp.evil.io/x".
bool MatchesRegistryPrefix(const std::string& image, const std::string& prefix) {
  if (image.compare(0, prefix.size(), prefix) != 0) return false;
  if (image.size() == prefix.size() || prefix.back() == '/') return true;
  const char next = image[prefix.size()];
  return next == '/' || next == ':' || next == '@';
}

bool IsTrustedRegistry(const std::string& image, const std::vector<std::string>& prefixes) {
  if (prefixes.empty()) return true;
  const std::string normalized = NormalizeImage(image);
  for (const auto& prefix : prefixes) {
    if (MatchesRegistryPrefix(image, prefix) || MatchesRegistryPrefix(normalized, prefix)) return true;
  }
  return false;
}

// --- rule helpers -----------------------------------------------------------------------------------------------

Violation Make(std::string_view rule, Severity severity, std::string path, std::string message,
               std::string detector = "") {
  Violation v;
  v.rule = std::string(rule);
  v.severity = severity;
  v.path = std::move(path);
  v.message = std::move(message);
  v.detector = std::move(detector);
  return v;
}

// Whether a unit of `kind` with `labels` is governed; `profiles`: the profiles selecting `labels` in its namespace.
// `pipeline_config`: a ConfigMap that is pipeline configuration by itself (PodUnit::pipeline_config).
bool Governed(UnitKind kind, bool pipeline_config, const Labels& labels, const Config& config,
              const std::vector<const Profile*>& profiles) {
  switch (kind) {
    case UnitKind::kSparkRole:
      return config.governance.spark_applications;
    case UnitKind::kSparkConfigMap:
      if (pipeline_config) return true;
      break;  // a ConfigMap the pipeline's label or profile selects, like a pod
    case UnitKind::kPodSpec:
      break;
  }
  for (const auto& selector : config.governance.selectors) {
    if (selector.Matches(labels)) return true;
  }
  return config.governance.profile_selected && !profiles.empty();
}

bool UnitGoverned(const PodUnit& unit, const Config& config, const std::vector<const Profile*>& profiles) {
  return Governed(unit.kind, unit.pipeline_config, unit.labels, config, profiles);
}

// The readers of ConfigMap `ns`/`name` that are governed under `context` (as at their own admission), sorted by
// kind, name and path (so the one a message names does not depend on the index's order); `profiles` gets the
// profiles selecting them, each once, sorted by name. Readers in another namespace are ignored: a pod can only read
// ConfigMaps of its own namespace.
std::vector<ConfigMapReader> GovernedReaders(const std::string& ns, const std::string& name,
                                             const ContextSnapshot& context, const ConfigMapReaders& readers,
                                             std::vector<const Profile*>& profiles) {
  std::vector<ConfigMapReader> all = readers ? readers(ns, name) : context.ConfigMapReaders(ns, name);
  // Readers with the same labels (the pods of one controller) are decided once: by the first such reader's index.
  const auto by_labels = [&all](std::size_t a, std::size_t b) {
    return std::tie(all[a].spark_role, all[a].labels) < std::tie(all[b].spark_role, all[b].labels);
  };
  std::set<std::size_t, decltype(by_labels)> decided(by_labels);
  std::vector<bool> governs(all.size(), false);
  std::vector<ConfigMapReader> governed;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const ConfigMapReader& reader = all[i];
    if (reader.namespace_ != ns) continue;
    const auto same = decided.find(i);
    if (same != decided.end()) {
      governs[i] = governs[*same];
    } else {
      decided.insert(i);
      const std::vector<const Profile*> selecting = context.ProfilesSelecting(ns, reader.labels);
      const UnitKind kind = reader.spark_role ? UnitKind::kSparkRole : UnitKind::kPodSpec;
      governs[i] = Governed(kind, false, reader.labels, context.config(), selecting);
      for (const Profile* p : governs[i] ? selecting : std::vector<const Profile*>()) {
        if (std::find(profiles.begin(), profiles.end(), p) == profiles.end()) profiles.push_back(p);
      }
    }
  }
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (governs[i]) governed.push_back(std::move(all[i]));
  }
  std::sort(governed.begin(), governed.end(), [](const ConfigMapReader& a, const ConfigMapReader& b) {
    return std::tie(a.kind, a.name, a.path) < std::tie(b.kind, b.name, b.path);
  });
  std::sort(profiles.begin(), profiles.end(), [](const Profile* a, const Profile* b) { return a->name < b->name; });
  return governed;
}

// "read by Pod etl/dbt-run at /spec/volumes/0/configMap/name" (" and 2 more governed objects" when other objects
// read it too): why a ConfigMap that nothing else governs is judged. `readers` is not empty.
std::string ReadByPhrase(const std::vector<ConfigMapReader>& readers) {
  const ConfigMapReader& first = readers.front();
  std::string phrase = "read by " + first.kind + " " + first.namespace_ + "/" +
                       (first.name.empty() ? "(unnamed)" : first.name) + " at " + first.path;
  std::set<std::pair<std::string_view, std::string_view>> others;  // (kind, name): one object may read it twice
  for (const ConfigMapReader& r : readers) {
    if (r.kind != first.kind || r.name != first.name) others.emplace(r.kind, r.name);
  }
  if (!others.empty()) {
    phrase += " and " + std::to_string(others.size()) + " more governed object" + (others.size() > 1 ? "s" : "");
  }
  return phrase;
}

void CheckServiceAccount(const PodUnit& unit, const Workload& w, const std::vector<const Profile*>& profiles,
                         const ContextSnapshot& ctx, std::vector<Violation>& out) {
  const std::string sa = unit.service_account.empty() ? "default" : unit.service_account;
  for (const Profile* p : profiles) {
    if (sa != p->service_account) {
      out.push_back(Make(rules::kServiceAccountScope, Severity::kHigh, unit.service_account_path,
                         "runs as service account \"" + sa + "\" but profile " + p->Id() +
                             " grants its pipeline only \"" + p->service_account + "\"; set " +
                             (unit.kind == UnitKind::kSparkRole ? "serviceAccount" : "serviceAccountName") + ": " +
                             p->service_account));
    }
    if (!p->automount_token) {
      if (unit.automount_token.value_or(false)) {
        out.push_back(Make(rules::kServiceAccountScope, Severity::kMedium, unit.automount_path,
                           "sets automountServiceAccountToken: true but profile " + p->Id() +
                               " disallows API tokens in pipeline pods; remove it or set it to false"));
      } else if (!unit.automount_token.has_value() && unit.kind == UnitKind::kPodSpec) {
        const ServiceAccountInfo* info = ctx.ServiceAccount(w.namespace_, sa);
        if (info != nullptr && info->automount_token.value_or(true)) {
          out.push_back(Make(rules::kServiceAccountScope, Severity::kMedium, unit.automount_path,
                             "would mount an API token: service account \"" + sa +
                                 "\" does not set automountServiceAccountToken: false and profile " + p->Id() +
                                 " disallows tokens; set automountServiceAccountToken: false on the pod"));
        }
      }
    }
  }
  for (const auto& grant : ctx.RiskyGrantsFor(w.namespace_, sa)) {
    out.push_back(Make(rules::kServiceAccountScope, Severity::kHigh, unit.service_account_path,
                       "service account \"" + sa + "\" is bound by " + grant.binding + " to " + grant.role +
                           ", which " + grant.reason +
                           "; pipeline pods need a dedicated least-privilege service account"));
  }
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// "profile etl/a" or "profiles etl/a, etl/b".
std::string ProfilesPhrase(const KeyScope& scope) {
  return (scope.profiles.size() == 1 ? "profile " : "profiles ") + JoinNames(scope.profiles);
}

void CheckImages(const PodUnit& unit, const std::vector<const Profile*>& profiles, const ContextSnapshot& ctx,
                 const ImageVerdictLookup& images, std::vector<Violation>& out) {
  const ImagesConfig& config = ctx.config().images;
  const KeyScope scope = KeyScopeFor(profiles, config);
  for (const auto& ref : unit.images) {
    if (!IsTrustedRegistry(ref.image, config.allowed_registries)) {
      std::string allowed;
      for (const auto& p : config.allowed_registries) allowed += (allowed.empty() ? "" : ", ") + p;
      out.push_back(Make(
          rules::kUntrustedRegistry, Severity::kHigh, ref.path,
          "image \"" + ref.image + "\" is not from an allowed registry (" + allowed + "); push it to one of them"));
      // Denied already; and its signature is never fetched (Review::image_checks leaves it out), so that a pod spec
      // cannot make the webhook connect to a host of the requester's choosing.
      continue;
    }
    if (!config.verify) continue;
    if (scope.restricted() && scope.keys->empty() && scope.keyless_identities->empty()) {
      out.push_back(Make(rules::kUnsignedImage, Severity::kHigh, ref.path,
                         "image \"" + ref.image + "\" cannot be verified: " + ProfilesPhrase(scope) +
                             " together trust no key that the configuration's images.keys provides "
                             "(spec.images.trustedKeys) and no identity of images.keyless.identities "
                             "(spec.images.keylessIdentities); name a configured key or identity"));
      continue;
    }
    std::optional<ImageVerdict> verdict = images ? images(ref.image, scope) : std::nullopt;
    if (!verdict) {
      out.push_back(Make(rules::kUnsignedImage, Severity::kHigh, ref.path,
                         "image \"" + ref.image +
                             "\" could not be checked for a signature (verification unavailable here; "
                             "for offline scans set images.verify: false)"));
    } else if (!verdict->verified) {
      const std::string subject =
          "image \"" + ref.image + "\"" + (verdict->digest.empty() ? "" : " (" + verdict->digest + ")");
      if (verdict->signature_verified) {
        out.push_back(
            Make(rules::kUnsignedImage, Severity::kHigh, ref.path,
                 subject + " is signed, but its attestations do not meet the requirements: " + verdict->reason));
      } else if (scope.restricted()) {
        std::string signers = "trustedKeys: " + (scope.keys->empty() ? std::string("none") : JoinNames(*scope.keys));
        if (!scope.keyless_identities->empty())
          signers += "; keylessIdentities: " + JoinNames(*scope.keyless_identities);
        out.push_back(Make(rules::kUnsignedImage, Severity::kHigh, ref.path,
                           subject + " is not signed by a key " + ProfilesPhrase(scope) + " trusts (" + signers +
                               "): " + verdict->reason));
      } else {
        out.push_back(Make(rules::kUnsignedImage, Severity::kHigh, ref.path,
                           subject + " is not signed by a trusted key: " + verdict->reason));
      }
    }
  }
}

// spec.images.trustedKeys may only name keys of images.keys: a profile narrows the platform's keys, it cannot add
// one. Checked whenever the configuration verifies images or lists keys (an offline scan with images.verify off and
// no keys has nothing to compare against).
void CheckProfileTrustedKeys(const std::optional<std::vector<std::string>>& trusted_keys, const ImagesConfig& config,
                             std::vector<Violation>& out) {
  if (!trusted_keys || (!config.verify && config.keys.empty())) return;
  std::vector<std::string> configured;
  for (const auto& key : config.keys) configured.push_back(key.name);
  for (size_t i = 0; i < trusted_keys->size(); ++i) {
    const std::string& name = (*trusted_keys)[i];
    if (Contains(configured, name)) continue;
    out.push_back(
        Make(rules::kProfileGuardrail, Severity::kHigh, "/spec/images/trustedKeys/" + std::to_string(i),
             "names trusted key \"" + name + "\", which the platform configuration (images.keys) does not have (" +
                 (configured.empty() ? std::string("none configured") : "configured: " + JoinNames(configured)) +
                 "); a profile can only choose among the platform's keys, not add its own"));
  }
}

// spec.images.keylessIdentities may only name identities of images.keyless.identities (same rule as trustedKeys).
void CheckProfileKeylessIdentities(const std::optional<std::vector<std::string>>& names, const ImagesConfig& config,
                                   std::vector<Violation>& out) {
  if (!names || (!config.verify && !config.keyless.configured())) return;
  std::vector<std::string> configured;
  for (const auto& identity : config.keyless.identities) configured.push_back(identity.name);
  for (size_t i = 0; i < names->size(); ++i) {
    const std::string& name = (*names)[i];
    if (Contains(configured, name)) continue;
    out.push_back(
        Make(rules::kProfileGuardrail, Severity::kHigh, "/spec/images/keylessIdentities/" + std::to_string(i),
             "names keyless identity \"" + name +
                 "\", which the platform configuration (images.keyless.identities) does not have (" +
                 (configured.empty() ? std::string("none configured") : "configured: " + JoinNames(configured)) +
                 "); a profile can only choose among the platform's identities, not add its own"));
  }
}

// One malformed-object violation per malformed field.
void AddMalformed(const std::vector<Malformation>& malformed, std::vector<Violation>& out) {
  for (const auto& m : malformed) {
    out.push_back(Make(rules::kMalformedObject, Severity::kCritical, m.path,
                       "is " + m.found + " where Kubernetes defines " + m.expected +
                           "; pipeguard cannot evaluate an object it cannot read and does not admit it: fix the "
                           "field's type (the Kubernetes API rejects it too)"));
  }
}

// The detectors' findings on one unit. Returns false when `budget` ran out before the unit was fully scanned.
bool AddDetectorFindings(const PodUnit& unit, const Detector& detector, const WorkBudget& budget,
                         std::vector<Violation>& out) {
  if (unit.scan.entries.empty() && unit.scan.command_lines.empty()) return true;
  bool stopped = false;
  std::vector<Finding> findings = detector.Scan(unit.scan, budget.exhausted, &stopped);
  out.reserve(out.size() + findings.size());
  for (auto& f : findings) {
    Violation v;
    v.rule = std::move(f.rule);
    v.severity = f.severity;
    v.path = std::move(f.path);
    v.message = std::move(f.message);
    v.detector = std::move(f.detector);
    out.push_back(std::move(v));
  }
  return !stopped;
}

// The denial of an object whose evaluation ran out of budget at `path` (the unit being judged).
Violation BudgetExhausted(const std::string& path, const WorkBudget& budget) {
  return Make(rules::kReviewBudget, Severity::kCritical, path,
              "pipeguard stopped judging this object after " +
                  (budget.description.empty() ? std::string("its work budget") : budget.description) +
                  " (reviewBudget in the configuration); what was not judged is unknown, so the object is not "
                  "admitted. Split it into smaller objects, or raise reviewBudget if such objects are expected");
}

// The detectors' findings in the files of one ConfigMap (read as pipeline configuration, whatever its labels).
std::vector<Finding> JudgeConfigMapFiles(const json& config_map, const Detector& detector) {
  std::optional<PodUnit> files = MountedConfigMapUnit(config_map);
  if (!files || (files->scan.entries.empty() && files->scan.command_lines.empty())) return {};
  return detector.Scan(files->scan);
}

// The findings of a mounted ConfigMap, each at the unit's field that names the ConfigMap, its message naming the
// ConfigMap (the file and the field inside it come from the finding).
void AddMountedConfigMapFindings(const std::string& name, const std::string& reference_path,
                                 const std::vector<Finding>& findings, const std::string& namespace_,
                                 std::vector<Violation>& out) {
  for (const Finding& f : findings) {
    out.push_back(Make(f.rule, f.severity, reference_path, "ConfigMap " + namespace_ + "/" + name + ", " + f.message,
                       f.detector));
  }
}

// Effective mode: profile (enforce wins when several disagree) > namespace label > configuration.
void ResolveMode(const Workload& w, const std::vector<const Profile*>& profiles, const ContextSnapshot& ctx,
                 Verdict& verdict) {
  verdict.mode = ctx.config().mode;
  verdict.mode_source = "config";
  if (const Labels* ns_labels = ctx.NamespaceLabels(w.namespace_)) {
    auto it = ns_labels->find(std::string(kModeLabel));
    if (it != ns_labels->end()) {
      // An unreadable label fails safe to enforce.
      verdict.mode = ParseMode(it->second).value_or(Mode::kEnforce);
      verdict.mode_source = "namespace " + w.namespace_;
    }
  }
  std::optional<Mode> profile_mode;
  std::string source;
  for (const Profile* p : profiles) {
    if (!p->mode) continue;
    if (!profile_mode || *p->mode == Mode::kEnforce) {
      profile_mode = p->mode;
      source = "profile " + p->Id();
    }
  }
  if (profile_mode) {
    verdict.mode = *profile_mode;
    verdict.mode_source = source;
  }
}

// The string annotation `key`; absent when there is none or it is not a string.
JsonRef Annotation(JsonRef annotations, std::string_view key) {
  const JsonRef value = annotations.Find(key);
  return value.is_string() ? value : JsonRef();
}

// Applies a break-glass waiver when its annotations are valid and the requester may use it. Any problem with a
// break-glass request is reported as a non-blocking `break-glass` finding and nothing is waived.
void ApplyBreakGlass(JsonRef annotations, const std::string& metadata_path, const RequestInfo& request,
                     const Config& config, Verdict& verdict) {
  const JsonRef rules_value = Annotation(annotations, kBreakGlassRulesAnnotation);
  const JsonRef ticket = Annotation(annotations, kBreakGlassTicketAnnotation);
  const JsonRef expires = Annotation(annotations, kBreakGlassExpiresAnnotation);
  if (!rules_value && !ticket && !expires) return;
  const std::string path = metadata_path + "/annotations/pipeguard.io~1break-glass-rules";
  auto refuse = [&](const std::string& why) {
    verdict.violations.push_back(Make(rules::kBreakGlass, Severity::kLow, path,
                                      "break-glass not honoured: " + why + " (see docs/break-glass.md)"));
  };
  if (!rules_value || !ticket || !expires) {
    return refuse("set all three annotations pipeguard.io/break-glass-rules, -ticket and -expires");
  }
  std::set<std::string> waived;
  std::string_view list = rules_value.string();
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) {
      if (item == rules::kMalformedObject) {
        return refuse("malformed-object cannot be waived: fix the malformed fields instead");
      }
      if (item == rules::kReviewBudget) {
        return refuse("review-budget cannot be waived: an object that was not fully judged is never admitted");
      }
      if (std::find(std::begin(kKnownRules), std::end(kKnownRules), item) == std::end(kKnownRules)) {
        return refuse("\"" + std::string(item) + "\" is not a rule ID (list rule IDs such as plaintext-secret)");
      }
      waived.emplace(item);
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  if (waived.empty()) return refuse("pipeguard.io/break-glass-rules names no rule IDs");
  const std::string_view ticket_ref = ticket.string();
  const bool ticket_ok =
      !ticket_ref.empty() && ticket_ref.size() <= 128 && std::all_of(ticket_ref.begin(), ticket_ref.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) ||
               std::string_view("-_.:/#").find(c) != std::string_view::npos;
      });
  if (!ticket_ok) return refuse("pipeguard.io/break-glass-ticket must be a ticket reference such as INC-1234");
  const auto expiry = base::ParseTimestamp(expires.string());
  if (!expiry) return refuse("pipeguard.io/break-glass-expires must be an RFC 3339 time such as 2026-11-30T18:00:00Z");
  if (*expiry <= request.now_unix_seconds) return refuse("the waiver has expired");
  const auto max_seconds = std::chrono::duration_cast<std::chrono::seconds>(config.break_glass.max_duration).count();
  if (*expiry > request.now_unix_seconds + max_seconds) {
    return refuse("the expiry is more than " + std::to_string(max_seconds / 3600) + "h ahead");
  }
  bool authorized = Contains(config.break_glass.trusted_requesters, request.username);
  for (const auto& g : request.groups) authorized |= Contains(config.break_glass.groups, g);
  if (!authorized) {
    return refuse("requester \"" + (request.username.empty() ? std::string("(unknown)") : request.username) +
                  "\" is not in a break-glass group");
  }
  bool used = false;
  for (auto& v : verdict.violations) {
    if (waived.count(v.rule)) {
      v.waived = true;
      used = true;
    }
  }
  if (used) verdict.break_glass_ticket = std::string(ticket_ref);
}

// Decides blocking and the verdict on every violation, then lists the first kMaxReportedViolations in a stable
// order (denials first, then by path) and counts the rest. Sorts positions, not violations, and moves only the
// listed ones: O(n log n) comparisons, O(n) moves.
void Finalize(const Config& config, Verdict& verdict) {
  std::vector<Violation>& all = verdict.violations;
  for (auto& v : all) {
    v.blocking = v.rule != rules::kBreakGlass && v.severity >= config.blocking_severity;
  }
  const auto denies = [](const Violation& v) { return v.blocking && !v.waived; };
  std::vector<std::size_t> order(all.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const bool a_denies = denies(all[a]), b_denies = denies(all[b]);
    if (a_denies != b_denies) return a_denies;
    return all[a].path < all[b].path;
  });
  std::vector<Violation> listed;
  listed.reserve(std::min(all.size(), kMaxReportedViolations));
  for (std::size_t i = 0; i < order.size(); ++i) {
    Violation& v = all[order[i]];
    if (i < kMaxReportedViolations) {
      listed.push_back(std::move(v));
      continue;
    }
    ++verdict.unlisted.count;
    verdict.unlisted.denials += denies(v) ? 1 : 0;
    ++verdict.unlisted.by_rule[v.rule];
  }
  all = std::move(listed);
  verdict.allowed = verdict.mode == Mode::kAudit || !verdict.HasBlocking();
}

}  // namespace

struct Engine::ConfigMapMemo {
  static constexpr std::size_t kCapacity = 4096;  // ConfigMaps; emptied when full
  struct Entry {
    std::weak_ptr<const json> object;  // expired: the object is gone and its address may be reused
    std::shared_ptr<const std::vector<Finding>> findings;
  };
  std::mutex mu;
  std::unordered_map<const json*, Entry> entries;

  std::shared_ptr<const std::vector<Finding>> Get(const std::shared_ptr<const json>& object, const Detector& detector) {
    {
      std::lock_guard lock(mu);
      auto it = entries.find(object.get());
      if (it != entries.end() && it->second.object.lock() == object) return it->second.findings;
    }
    // Judged outside the lock: two requests may both judge a new ConfigMap; they compute the same findings.
    auto findings = std::make_shared<const std::vector<Finding>>(JudgeConfigMapFiles(*object, detector));
    std::lock_guard lock(mu);
    if (entries.size() >= kCapacity) entries.clear();
    entries[object.get()] = Entry{object, findings};
    return findings;
  }
};

Engine::Engine(const Detector& detector) : Engine(detector, ProfileCheck()) {}

Engine::Engine(const Detector& detector, ProfileCheck profile_check)
    : detector_(detector),
      profile_check_(std::move(profile_check)),
      config_map_memo_(std::make_shared<ConfigMapMemo>()) {}

Engine::Engine(ProfileCheck profile_check) : Engine(DefaultDetector(), std::move(profile_check)) {}

Review PrepareReview(JsonRef object, const RequestInfo& request, const ContextSnapshot& context,
                     const ConfigMapLookup& config_maps, const ConfigMapReaders& readers) {
  Review review;
  review.object_ = object;
  review.context_ = &context;
  review.request_ = request;
  if (request.operation == "DELETE" || request.operation == "CONNECT") return review;
  std::optional<Workload> extracted = ExtractWorkload(object, request.namespace_, request.kind);
  if (!extracted) return review;
  const Config& config = context.config();
  review.governed_ = extracted->is_profile || !extracted->unreadable.empty();
  review.units_.reserve(extracted->units.size());
  for (PodUnit& unit : extracted->units) {
    Review::Unit& u = review.units_.emplace_back();
    const std::vector<const Profile*> selecting = context.ProfilesSelecting(extracted->namespace_, unit.labels);
    u.governed = UnitGoverned(unit, config, selecting);
    review.governed_ = review.governed_ || u.governed;
    if (unit.kind == UnitKind::kSparkConfigMap) {
      if (!u.governed && extracted->unreadable.empty()) {
        // Read by a governed pod or template: part of that pipeline, judged as when the pod is judged with it.
        u.governed_readers = GovernedReaders(extracted->namespace_, extracted->name, context, readers, u.profiles);
        u.governed = !u.governed_readers.empty();
        review.governed_ = review.governed_ || u.governed;
      }
      // Selected like a pod (or read by a governed one): its files are pipeline configuration. The profiles
      // selecting its own labels do not apply to it as to a pod.
      if (u.governed && !unit.pipeline_config) ReadConfigMapFiles(object, unit);
      continue;
    }
    u.profiles = selecting;
    if (!u.governed || !unit.readable || !extracted->unreadable.empty()) continue;
    for (const ConfigMapRef& ref : unit.config_maps) {
      std::shared_ptr<const json> found = config_maps ? config_maps(extracted->namespace_, ref.name)
                                                      : context.ConfigMap(extracted->namespace_, ref.name);
      if (found == nullptr) {
        review.unresolved_config_maps_.push_back(extracted->namespace_ + "/" + ref.name);
        continue;
      }
      u.config_maps.push_back({ref.name, ref.path, std::move(found)});
    }
  }
  auto w = std::make_shared<const Workload>(std::move(*extracted));
  review.workload_ = w;
  // Images are checked only on governed, readable pods of a readable object (see Engine::Evaluate).
  if (!w->unreadable.empty()) return review;
  for (size_t i = 0; i < w->units.size(); ++i) {
    const PodUnit& unit = w->units[i];
    if (!review.units_[i].governed || !unit.readable || unit.kind == UnitKind::kSparkConfigMap) continue;
    const KeyScope scope = KeyScopeFor(review.units_[i].profiles, config.images);
    for (const ImageRef& ref : unit.images) {
      if (!IsTrustedRegistry(ref.image, config.images.allowed_registries)) continue;
      const bool seen = std::any_of(review.image_checks_.begin(), review.image_checks_.end(),
                                    [&](const ImageCheck& c) { return c.path == ref.path; });
      if (!seen) review.image_checks_.push_back(ImageCheck{ref.image, ref.path, scope});
    }
  }
  return review;
}

Verdict Engine::Evaluate(JsonRef object, const RequestInfo& request, const ContextSnapshot& context,
                         const ImageVerdictLookup& images) const {
  return Evaluate(PrepareReview(object, request, context), images);
}

Verdict Engine::Evaluate(const Review& review, const ImageVerdictLookup& images, const WorkBudget& budget) const {
  const ContextSnapshot& context = *review.context_;
  const RequestInfo& request = review.request_;
  Verdict verdict;
  verdict.mode = context.config().mode;
  verdict.mode_source = "config";
  if (review.workload_ == nullptr) return verdict;
  const Workload& w = *review.workload_;

  if (!w.unreadable.empty()) {
    // Whether and how the object is governed cannot be told: fail closed, reporting every malformed field.
    verdict.governed = true;
    AddMalformed(w.unreadable, verdict.violations);
    AddMalformed(w.malformed, verdict.violations);
    for (const auto& unit : w.units) AddMalformed(unit.malformed, verdict.violations);
    ResolveMode(w, {}, context, verdict);
    Finalize(context.config(), verdict);
    return verdict;
  }

  if (w.is_profile) {
    verdict.governed = true;
    // One answer: the grammar's problems, the trusted keys and the outside check's findings, all at once.
    // The profile grammar reads nlohmann: a simdjson object is converted (profiles are rare and small).
    const nlohmann::json* profile = review.object_.nlohmann();
    const nlohmann::json converted = profile == nullptr ? review.object_.ToJson() : nlohmann::json();
    api::ProfileReading reading = api::ReadProfile(profile != nullptr ? *profile : converted);
    CheckProfileTrustedKeys(reading.profile.trusted_keys, context.config().images, verdict.violations);
    CheckProfileKeylessIdentities(reading.profile.keyless_identities, context.config().images, verdict.violations);
    if (profile_check_) {
      for (auto& problem : profile_check_(reading.profile)) reading.problems.push_back(std::move(problem));
    }
    for (auto& problem : reading.problems) {
      verdict.violations.push_back(
          Make(rules::kProfileGuardrail, Severity::kHigh, std::move(problem.path), std::move(problem.message)));
    }
    Finalize(context.config(), verdict);
    return verdict;
  }

  std::vector<const Profile*> all_profiles;
  const PodUnit* annotated_template = nullptr;
  for (size_t i = 0; i < w.units.size(); ++i) {
    const PodUnit& unit = w.units[i];
    const Review::Unit& reviewed = review.units_[i];
    if (!reviewed.governed) continue;
    verdict.governed = true;
    if (unit.annotations && annotated_template == nullptr) annotated_template = &unit;
    const std::size_t first_of_unit = verdict.violations.size();
    AddMalformed(unit.malformed, verdict.violations);
    if (!unit.readable) continue;  // its pod spec is not an object: nothing else to check
    if (unit.kind != UnitKind::kSparkConfigMap) {
      const auto& profiles = reviewed.profiles;
      if (profiles.empty()) {
        verdict.violations.push_back(
            Make(rules::kMissingProfile, Severity::kHigh,
                 unit.kind == UnitKind::kSparkRole ? unit.base_path : "/metadata/labels",
                 Describe(w) + (unit.kind == UnitKind::kSparkRole ? " (" + unit.base_path.substr(6) + ")" : "") +
                     " is a governed pipeline workload but no PipelineSecurityProfile in namespace " + w.namespace_ +
                     " selects its labels; create one whose spec.podSelector matches them"));
      }
      CheckServiceAccount(unit, w, profiles, context, verdict.violations);
      CheckImages(unit, profiles, context, images, verdict.violations);
      for (const Profile* p : profiles) {
        if (std::find(all_profiles.begin(), all_profiles.end(), p) == all_profiles.end()) all_profiles.push_back(p);
      }
    }
    bool finished = AddDetectorFindings(unit, detector_, budget, verdict.violations);
    for (size_t m = 0; finished && m < reviewed.config_maps.size(); ++m) {
      const auto& mounted = reviewed.config_maps[m];
      if (budget.exhausted && budget.exhausted()) {
        finished = false;
        break;
      }
      AddMountedConfigMapFindings(mounted.name, mounted.reference_path,
                                  *config_map_memo_->Get(mounted.object, detector_), w.namespace_, verdict.violations);
    }
    if (!reviewed.governed_readers.empty()) {
      // A ConfigMap governed only by the objects that read it: each finding says which, and their profiles give
      // the mode.
      const std::string read_by = ReadByPhrase(reviewed.governed_readers);
      for (std::size_t j = first_of_unit; j < verdict.violations.size(); ++j) {
        verdict.violations[j].message = read_by + "; " + verdict.violations[j].message;
      }
      for (const Profile* p : reviewed.profiles) {
        if (std::find(all_profiles.begin(), all_profiles.end(), p) == all_profiles.end()) all_profiles.push_back(p);
      }
    }
    if (!finished) {
      verdict.violations.push_back(BudgetExhausted(unit.base_path, budget));
      break;
    }
  }
  if (!verdict.governed) return verdict;
  AddMalformed(w.malformed, verdict.violations);

  for (const Profile* p : all_profiles) verdict.profiles.push_back(p->Id());
  ResolveMode(w, all_profiles, context, verdict);
  // The object's own annotations, else (for pods made by controllers and for templates) the template's.
  if (Annotation(w.annotations, kBreakGlassRulesAnnotation) || Annotation(w.annotations, kBreakGlassTicketAnnotation)) {
    ApplyBreakGlass(w.annotations, "/metadata", request, context.config(), verdict);
  } else if (annotated_template != nullptr && w.kind != "Pod") {
    ApplyBreakGlass(annotated_template->annotations, annotated_template->metadata_path, request, context.config(),
                    verdict);
  }
  Finalize(context.config(), verdict);
  return verdict;
}

namespace {

void AppendField(std::string& out, std::string_view value) {
  out.append(":").append(std::to_string(value.size())).append(":").append(value);
}

void AppendMatcher(std::string& out, const StringMatchConfig& m) { AppendField(out, (m.regexp ? "r" : "x") + m.value); }

// An unambiguous text of one requirement set (for KeyScope::Id).
std::string AttestationsText(const AttestationsConfig& a) {
  std::string out;
  if (a.provenance) {
    out += "|provenance";
    out += ":" + std::to_string(a.provenance->builder_ids.size());
    for (const auto& m : a.provenance->builder_ids) AppendMatcher(out, m);
    for (const auto* field : {&a.provenance->source_repository, &a.provenance->source_ref, &a.provenance->build_type}) {
      if (*field) {
        AppendMatcher(out, **field);
      } else {
        out += ":-";
      }
    }
  }
  if (a.vulnerabilities) {
    out += "|vulnerabilities:" + std::to_string(a.vulnerabilities->max_age_hours);
    AppendField(out, a.vulnerabilities->fail_at);
    out += ":" + std::to_string(a.vulnerabilities->scanners.size());
    for (const auto& m : a.vulnerabilities->scanners) AppendMatcher(out, m);
    out += ":" + std::to_string(a.vulnerabilities->allow.size());
    for (const auto& w : a.vulnerabilities->allow) {
      AppendField(out, w.id);
      out += ":" + std::to_string(w.expires_unix_seconds);
    }
  }
  if (a.sbom) out += "|sbom";
  return out;
}

}  // namespace

std::string KeyScope::Id() const {
  if (!keys && attestations.empty()) return "";
  std::string id;
  if (keys) {
    id = "keys";
    for (const auto& name : *keys) id += ":" + std::to_string(name.size()) + ":" + name;
    id += "|identities";
    if (keyless_identities) {
      for (const auto& name : *keyless_identities) id += ":" + std::to_string(name.size()) + ":" + name;
    } else {
      id += ":*";
    }
  }
  for (const auto& [profile, requirements] : attestations) {
    id += "|attestations";
    AppendField(id, profile);
    const std::string text = AttestationsText(requirements);
    AppendField(id, text);
  }
  return id;
}

KeyScope KeyScopeFor(const std::vector<const Profile*>& profiles, const ImagesConfig& images) {
  KeyScope scope;
  for (const Profile* p : profiles) {
    if (p->attestations && !p->attestations->empty()) scope.attestations.emplace_back(p->Id(), *p->attestations);
    if (!p->trusted_keys && !p->keyless_identities) continue;
    // A profile naming signers accepts only those: a kind it does not name contributes nothing.
    const std::vector<std::string> no_names;
    const std::vector<std::string>& key_names = p->trusted_keys ? *p->trusted_keys : no_names;
    const std::vector<std::string>& identity_names = p->keyless_identities ? *p->keyless_identities : no_names;
    std::vector<std::string> allowed;
    for (const auto& key : images.keys) {
      if (Contains(key_names, key.name) && (!scope.keys || Contains(*scope.keys, key.name)) &&
          !Contains(allowed, key.name)) {
        allowed.push_back(key.name);
      }
    }
    std::sort(allowed.begin(), allowed.end());
    scope.keys = std::move(allowed);
    std::vector<std::string> identities;
    for (const auto& identity : images.keyless.identities) {
      if (Contains(identity_names, identity.name) &&
          (!scope.keyless_identities || Contains(*scope.keyless_identities, identity.name)) &&
          !Contains(identities, identity.name)) {
        identities.push_back(identity.name);
      }
    }
    std::sort(identities.begin(), identities.end());
    scope.keyless_identities = std::move(identities);
    scope.profiles.push_back(p->Id());
  }
  return scope;
}

std::vector<ConfigMapRead> ConfigMapReadsOf(const json& object) {
  std::vector<ConfigMapRead> out;
  std::optional<Workload> w = ExtractWorkload(object, "");
  if (!w || !w->unreadable.empty()) return out;
  for (const PodUnit& unit : w->units) {
    if (!unit.readable || unit.kind == UnitKind::kSparkConfigMap) continue;
    for (const ConfigMapRef& ref : unit.config_maps) {
      out.push_back({ref.name, ConfigMapReader{w->kind, w->namespace_, w->name, ref.path, unit.labels,
                                               unit.kind == UnitKind::kSparkRole}});
    }
  }
  return out;
}

std::vector<ImageRef> CollectImages(const json& object) {
  std::vector<ImageRef> out;
  auto w = ExtractWorkload(object, "");
  if (!w) return out;
  for (auto& unit : w->units) {
    for (auto& ref : unit.images) {
      const bool seen = std::any_of(out.begin(), out.end(), [&](const ImageRef& r) { return r.path == ref.path; });
      if (!seen) out.push_back(std::move(ref));
    }
  }
  return out;
}

void ForEachItem(const json& object, const std::function<void(const json&, int)>& fn) {
  if (object.is_object()) {
    auto kind = object.find("kind");
    auto items = object.find("items");
    if (kind != object.end() && kind->is_string() && items != object.end() && items->is_array()) {
      const auto& k = kind->get_ref<const std::string&>();
      if (k.size() >= 4 && k.compare(k.size() - 4, 4, "List") == 0) {
        for (size_t i = 0; i < items->size(); ++i) fn((*items)[i], static_cast<int>(i));
        return;
      }
    }
  }
  fn(object, -1);
}

}  // namespace pipeguard::policy
