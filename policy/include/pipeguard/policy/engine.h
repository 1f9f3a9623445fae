// The policy engine: one Kubernetes object plus a context snapshot in, a verdict out.
//
// Pure: no sockets, files, clocks or metrics. Time, the requesting user and image-verification results come in
// as arguments. Thread-safe: an Engine is immutable and may be shared by every request thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "pipeguard/policy/context.h"
#include "pipeguard/policy/detect.h"
#include "pipeguard/policy/json_ref.h"
#include "pipeguard/policy/types.h"

namespace pipeguard::policy {

struct RequestInfo {
  std::string operation = "CREATE";  // CREATE, UPDATE (DELETE and CONNECT are never governed)
  std::string username;
  std::vector<std::string> groups;
  std::string namespace_;  // the request namespace; used when the object has none
  // The kind the admission request names (request.kind.kind); empty outside the webhook. An object whose own
  // `kind` is missing or differs is evaluated as this kind and denied as malformed.
  std::string kind;
  std::int64_t now_unix_seconds = 0;  // for break-glass expiry
};

// An image reference found in an object, with the JSON pointer of the field that names it.
struct ImageRef {
  std::string image;
  std::string path;  // e.g. /spec/containers/0/image, /spec/driver/image
};

// The result of verifying one image's signatures, produced outside the engine (signatures component).
struct ImageVerdict {
  bool verified = false;
  std::string digest;  // sha256:... that was verified (or resolved), empty if unknown
  std::string reason;  // why not verified: "no signature found", "registry unreachable", ...
  // The signature verified but the attestations did not meet the requirements (images.attestations or a profile's
  // spec.images.attestations); `reason` says which and why.
  bool signature_verified = false;
};

// Which of the configuration's trusted keys (images.keys, by name) may vouch for an image. PipelineSecurityProfiles
// narrow it with spec.images.trustedKeys; a profile can never add a key: names that images.keys does not configure
// are dropped here (and reported as profile-guardrail violations when the profile is admitted).
//
// A profile that names signers (spec.images.trustedKeys and/or spec.images.keylessIdentities) accepts only those:
// its keys and its keyless identities (none of a kind it does not name). Profiles also add attestation
// requirements (spec.images.attestations), which hold on top of the configuration's images.attestations.
struct KeyScope {
  // Unset: every key of images.keys. Set: the names that every restricting profile lists AND images.keys
  // configures, sorted and unique. May be empty: then no key can verify the image.
  std::optional<std::vector<std::string>> keys;
  // Set exactly when `keys` is: the names of images.keyless.identities that every restricting profile lists AND the
  // configuration has, sorted and unique (empty: keyless signatures do not count). Unset: every configured identity.
  std::optional<std::vector<std::string>> keyless_identities;
  // The restricting profiles' IDs (namespace/name), in the order given, for messages.
  std::vector<std::string> profiles;
  // Each selecting profile's spec.images.attestations (non-empty ones), with its ID, in the order given.
  std::vector<std::pair<std::string, AttestationsConfig>> attestations;

  bool restricted() const { return keys.has_value(); }
  // "" for the unrestricted scope without profile attestations; otherwise an unambiguous encoding of the keys,
  // identities and attestation requirements. Equal iff the scopes are equal, so verdicts can be keyed on it.
  std::string Id() const;
};

// The key scope for a pod selected by `profiles` (a pod must satisfy every profile selecting it, so restrictions
// intersect).
KeyScope KeyScopeFor(const std::vector<const Profile*>& profiles, const ImagesConfig& images);

// Looks up the verdict for an image (the string exactly as it appears in the object) verified with the keys of
// `scope`. nullopt when there is none: the engine then reports the image as not checked (fail closed).
using ImageVerdictLookup = std::function<std::optional<ImageVerdict>(const std::string& image, const KeyScope& scope)>;

// A bound on the work of one evaluation. The engine reads no clock: it calls `exhausted` between units of work
// (every few settings or command lines, before each ConfigMap's files) and, once it returns true, stops judging and
// denies the object with rule review-budget, naming `description` ("1000 ms of CPU"). An empty `exhausted` never
// stops. The webhook and `pipeguard scan` measure the evaluating thread's CPU time against Config::review_budget
// (base/thread_cpu.h), and the webhook also the API server's deadline.
struct WorkBudget {
  std::function<bool()> exhausted;
  std::string description;
};

// An image to verify before evaluating an object, with the keys it must be signed with.
struct ImageCheck {
  std::string image;
  std::string path;  // JSON pointer of the field naming it
  KeyScope scope;
};

// One problem found in a PipelineSecurityProfile object (pipeguard/profile/profile.h).
using ProfileProblem = api::GuardrailViolation;

// An extra check for PipelineSecurityProfile objects, e.g. the platform guardrails (pipeguard::guardrails), supplied
// by the program that owns that configuration. Called for every profile object with the profile as far as the
// grammar could read it (api::ReadProfile), so that one verdict lists the grammar's problems and the check's
// findings together; must be pure and thread-safe (the Engine calls it from request threads).
using ProfileCheck = std::function<std::vector<ProfileProblem>(const api::ParsedProfile& profile)>;

struct Workload;  // how the engine sees an object (internal: policy/src/workload.h)

// The ConfigMap `name` in namespace `ns` as the caller knows it (the webhook's informer cache, the files of a scan),
// or null when it does not exist there. Called by PrepareReview only; must not block on the network.
using ConfigMapLookup =
    std::function<std::shared_ptr<const nlohmann::json>(const std::string& ns, const std::string& name)>;

// The governed-kind objects that read ConfigMap `name` in namespace `ns`, as the caller knows them (an index over
// the webhook's informer caches, the documents of a scan). Called by PrepareReview only, for ConfigMaps; must be
// cheap (an index lookup, not a scan of every pod) and must not block on the network.
using ConfigMapReaders = std::function<std::vector<ConfigMapReader>(const std::string& ns, const std::string& name)>;

// One ConfigMap that an object reads: its name (in reader.namespace_) and the reader as PrepareReview sees it.
struct ConfigMapRead {
  std::string config_map;
  ConfigMapReader reader;

  friend bool operator==(const ConfigMapRead&, const ConfigMapRead&) = default;
};

// Every ConfigMap `object` reads, one per (pod spec, ConfigMap name) at the first field naming it: what an index
// of ConfigMap readers records for the object. The same extraction as PrepareReview's for the object itself (pod
// specs and pod templates of the evaluated kinds); objects the engine does not evaluate, unreadable pod specs and
// objects whose governance cannot be read (malformed labels or kind) read none. Pure; thread-safe.
std::vector<ConfigMapRead> ConfigMapReadsOf(const nlohmann::json& object);

// One object under one context snapshot, computed once per request by PrepareReview: the object's pods (or Spark
// roles, or Spark configuration) as the rules see them, whether each is governed, the profiles selecting each, and
// the images to verify. Engine::Evaluate, the signature verification before it and digest pinning all read this
// one value, so a request extracts its object once. It points into the object and the snapshot: both must outlive
// it. Immutable once prepared; cheap to move.
class Review {
 public:
  // True when the engine would judge the object: a governed pod, Spark role or Spark configuration, a
  // PipelineSecurityProfile, or an object too malformed to tell (it is then denied). False for kinds the engine does
  // not evaluate, DELETE and CONNECT, and objects no governance selects.
  bool governed() const { return governed_; }
  // The (image, key scope) pairs to verify before Evaluate, one per image field, in document order: the images of
  // governed, readable pods, each with the key scope of its pod's profiles. Images outside
  // images.allowedRegistries are left out: they are denied by untrusted-registry without a registry call.
  const std::vector<ImageCheck>& image_checks() const { return image_checks_; }
  const RequestInfo& request() const { return request_; }
  // "namespace/name" of the ConfigMaps that governed pods of the object read but the lookup does not have (not
  // created yet: the pod cannot start until they exist). Their contents were not judged.
  const std::vector<std::string>& unresolved_config_maps() const { return unresolved_config_maps_; }

 private:
  friend class Engine;
  friend Review PrepareReview(JsonRef, const RequestInfo&, const ContextSnapshot&, const ConfigMapLookup&,
                              const ConfigMapReaders&);

  // A ConfigMap that a governed pod reads, judged as part of that pod's pipeline (Engine::Evaluate).
  struct MountedConfigMap {
    std::string name;
    std::string reference_path;                    // the pod's field naming it
    std::shared_ptr<const nlohmann::json> object;  // the ConfigMap, from the lookup
  };
  struct Unit {
    bool governed = false;
    // Pods and Spark roles: the profiles selecting the unit's labels in its namespace. A ConfigMap governed through
    // its readers: the profiles selecting those readers (they give its mode); otherwise none.
    std::vector<const Profile*> profiles;
    std::vector<MountedConfigMap> config_maps;
    // A ConfigMap that no label or selector governs: the governed objects that read it, which govern it.
    std::vector<ConfigMapReader> governed_readers;
  };
  JsonRef object_;
  const ContextSnapshot* context_ = nullptr;
  RequestInfo request_;
  std::shared_ptr<const Workload> workload_;  // null: a kind (or operation) the engine does not evaluate
  std::vector<Unit> units_;                   // parallel to workload_->units
  bool governed_ = false;
  std::vector<ImageCheck> image_checks_;
  std::vector<std::string> unresolved_config_maps_;
};

// Computes the Review of `object` (not a List: see ForEachItem) for `request` under `context`. Pure; thread-safe.
//
// ConfigMaps: a ConfigMap that a governed pod mounts (volume, projected source) or reads (envFrom,
// configMapKeyRef), or that a SparkApplication names (spec.volumes, sparkConfigMap, hadoopConfigMap, a role's
// configMaps, envFrom or configMapKeyRef), is judged with the pod: its files are read by type and every finding names
// the ConfigMap, the file and the field, at the pod's field that references it. `config_maps` finds them; when empty,
// the snapshot's ConfigMaps (ContextSnapshot::ConfigMap) are used. A ConfigMap itself is governed when it is Spark's
// own, labelled pipeguard.io/pipeline, or selected by the governance selectors or a profile's podSelector; and, in the
// other order (the pods first), when `readers` names an object that reads it and is governed under `context` as at its
// own admission (same labels, selectors and profiles; readers in another namespace never count). Its files are then
// read and judged exactly as when it is judged with such a pod, at its own /data fields, each finding naming the
// reader ("read by Pod etl/dbt-run at /spec/volumes/0/configMap/name"), in the mode of the readers' profiles (or
// the namespace's, or the configuration's). When `readers` is empty, the snapshot's (ContextSnapshot::
// ConfigMapReaders) are used.
//
// `object` is an nlohmann value or a value of simdjson's DOM (JsonRef): the review is the same for both.
Review PrepareReview(JsonRef object, const RequestInfo& request, const ContextSnapshot& context,
                     const ConfigMapLookup& config_maps = {}, const ConfigMapReaders& readers = {});

class Engine {
 public:
  explicit Engine(const Detector& detector = DefaultDetector());
  // With `profile_check`, every problem it reports for a (parseable) PipelineSecurityProfile becomes a violation of
  // rule profile-guardrail, severity high, at the problem's path. An empty function checks nothing.
  Engine(const Detector& detector, ProfileCheck profile_check);
  explicit Engine(ProfileCheck profile_check);

  // The verdict on a prepared review. `images` may be empty when image verification is off or unavailable; with
  // config images.verify=true and no verdict for an image, the image is reported unverified (fail closed).
  // `budget` bounds the work (WorkBudget).
  Verdict Evaluate(const Review& review, const ImageVerdictLookup& images = {}, const WorkBudget& budget = {}) const;

  // Evaluate(PrepareReview(object, request, context), images), for callers that need nothing else of the review.
  Verdict Evaluate(JsonRef object, const RequestInfo& request, const ContextSnapshot& context,
                   const ImageVerdictLookup& images = {}) const;

  // The memo of mounted ConfigMaps' findings (engine.cc): a ConfigMap's files are read and judged once per
  // ConfigMap object (the lookup's shared_ptr: one informer version, one snapshot's copy), not once per pod that
  // mounts it. Findings depend on the ConfigMap's contents only, so the memo never changes a verdict. Bounded;
  // thread-safe; copies of an Engine share it.
  struct ConfigMapMemo;

 private:
  const Detector& detector_;
  ProfileCheck profile_check_;
  std::shared_ptr<ConfigMapMemo> config_map_memo_;
};

// Every image named by a governed-kind object (containers, init and ephemeral containers, SparkApplication
// images), in document order. Used by the signature verifier and the digest-pinning mutator.
std::vector<ImageRef> CollectImages(const nlohmann::json& object);

// Why an UPDATE from `old_object` (the stored object) to `object` may be admitted without evaluation, or nullopt when
// it must be evaluated. Two cases: the object was already being deleted (old metadata.deletionTimestamp set; the
// context ignores profiles being deleted, so their updates grant nothing), or nothing the rules read changed: the
// objects are equal except for status and for metadata no rule reads (finalizers, managedFields, resourceVersion,
// generation, ownerReferences, uid, creationTimestamp, deletionGracePeriodSeconds, selfLink, and annotations
// outside pipeguard.io/). Labels always count. Without this, a stored object that breaks today's rules (a profile
// from before the guardrails were tightened) could never lose its finalizer, so never be deleted.
std::optional<std::string> UnevaluatedUpdateReason(const nlohmann::json& old_object, const nlohmann::json& object);

// Calls fn(item, index) for each item of a `kind: *List` object, or fn(object, -1) for a plain object.
void ForEachItem(const nlohmann::json& object, const std::function<void(const nlohmann::json&, int)>& fn);

// Annotations of the break-glass procedure (docs/break-glass.md).
inline constexpr std::string_view kBreakGlassRulesAnnotation = "pipeguard.io/break-glass-rules";
inline constexpr std::string_view kBreakGlassTicketAnnotation = "pipeguard.io/break-glass-ticket";
inline constexpr std::string_view kBreakGlassExpiresAnnotation = "pipeguard.io/break-glass-expires";
inline constexpr std::string_view kModeLabel = "pipeguard.io/mode";
inline constexpr std::string_view kPipelineLabel = "pipeguard.io/pipeline";

}  // namespace pipeguard::policy
