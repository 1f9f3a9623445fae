// The context snapshot: everything the engine needs from the cluster besides the object under review.
//
// A snapshot is immutable once built and safe to share between threads; providers swap in a new snapshot
// atomically when their sources change (DESIGN.md guideline 3). The request path never does I/O.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/policy/config.h"
#include "pipeguard/policy/label_selector.h"
#include "pipeguard/profile/profile.h"

namespace pipeguard::policy {

using api::kProfileApiVersion;
using api::kProfileKind;

// The engine's view of a PipelineSecurityProfile: the parts the admission rules use, derived from the one parsed
// profile (pipeguard/profile/profile.h), which the operator reads in full.
struct Profile {
  std::string namespace_;
  std::string name;
  LabelSelector pod_selector;
  std::string service_account;   // spec.serviceAccount.name (required by the grammar)
  bool automount_token = false;  // spec.serviceAccount.automountToken
  std::optional<Mode> mode;      // spec.mode
  // spec.images.trustedKeys: names of keys in the configuration's images.keys that the selected pods' images must
  // be signed with. Unset: every configured key. A profile can only narrow the platform's key set, never add a key
  // (names are references, not keys); names the configuration does not have are reported by the engine as
  // profile-guardrail violations and never widen anything.
  std::optional<std::vector<std::string>> trusted_keys;
  // spec.images.keylessIdentities: names of images.keyless.identities (unset: none when trusted_keys is set, else
  // every configured identity). Same rule: names only, never widening.
  std::optional<std::vector<std::string>> keyless_identities;
  // spec.images.attestations: required on top of images.attestations.
  std::optional<AttestationsConfig> attestations;

  std::string Id() const { return namespace_ + "/" + name; }

  friend bool operator==(const Profile&, const Profile&) = default;
};

// The engine's view of a valid parsed profile.
Profile ProfileView(const api::ParsedProfile& profile);

// api::ParseProfile, then ProfileView: errors name every field with a problem and how to fix it.
StatusOr<Profile> ParseProfile(const nlohmann::json& object);

struct RbacRule {
  std::vector<std::string> api_groups, resources, verbs, resource_names;

  friend bool operator==(const RbacRule&, const RbacRule&) = default;
};

struct RbacRole {
  std::string namespace_;  // empty for a ClusterRole
  std::string name;
  std::vector<RbacRule> rules;

  friend bool operator==(const RbacRole&, const RbacRole&) = default;
};

struct RbacSubject {
  std::string kind;  // ServiceAccount, User, Group
  std::string name;
  std::string namespace_;

  friend bool operator==(const RbacSubject&, const RbacSubject&) = default;
};

struct RbacBinding {
  std::string namespace_;  // empty for a ClusterRoleBinding
  std::string name;
  std::string role_kind;  // Role or ClusterRole
  std::string role_name;
  std::vector<RbacSubject> subjects;

  friend bool operator==(const RbacBinding&, const RbacBinding&) = default;
};

struct ServiceAccountInfo {
  std::string namespace_, name;
  std::optional<bool> automount_token;

  friend bool operator==(const ServiceAccountInfo&, const ServiceAccountInfo&) = default;
};

// Why a service account's RBAC is broader than a pipeline pod may have.
struct RiskyGrant {
  std::string binding;  // "RoleBinding etl/spark-admin" or "ClusterRoleBinding x"
  std::string role;     // "ClusterRole cluster-admin"
  std::string reason;   // "grants the built-in role cluster-admin", "wildcard verbs", "reads secrets"
};

// A governed-kind object that reads a ConfigMap (mounts it as a volume or projected source, or reads it through
// envFrom or configMapKeyRef), as an index of the cluster (the webhook's background-audit informers) or the
// documents of a scan know it. What PrepareReview needs to decide, under its snapshot, whether the reader is
// governed and which profiles select it, as at the reader's own admission (policy::ConfigMapReadsOf).
struct ConfigMapReader {
  std::string kind;        // Pod, Deployment, Job, CronJob, ...
  std::string namespace_;  // the reader's (and so the ConfigMap's) namespace
  std::string name;
  std::string path;         // JSON pointer of the reader's field naming the ConfigMap
  Labels labels;            // the labels of the pod (or pod template) that reads it
  bool spark_role = false;  // a SparkApplication role, governed by governance.sparkApplications

  friend bool operator==(const ConfigMapReader&, const ConfigMapReader&) = default;
};

class ContextSnapshot {
 public:
  const Config& config() const { return config_; }

  // Profiles in `ns` whose podSelector matches `labels`, in name order.
  std::vector<const Profile*> ProfilesSelecting(const std::string& ns, const Labels& labels) const;
  const std::vector<Profile>& ProfilesIn(const std::string& ns) const;
  // Labels of namespace `ns`, or nullptr when the namespace is unknown to the snapshot.
  const Labels* NamespaceLabels(const std::string& ns) const;
  const ServiceAccountInfo* ServiceAccount(const std::string& ns, const std::string& name) const;
  // Grants to system:serviceaccount:<ns>:<name> (directly, or through its groups) that exceed pipeline needs.
  std::vector<RiskyGrant> RiskyGrantsFor(const std::string& ns, const std::string& name) const;

  size_t profile_count() const;
  // The ConfigMap namespace/name among the snapshot's sources (context files, the documents of a scan), or null.
  std::shared_ptr<const nlohmann::json> ConfigMap(const std::string& ns, const std::string& name) const;
  // The objects among the snapshot's sources (the documents of a scan) that read ConfigMap namespace/name, in the
  // order added; empty when none (always, for snapshots built from the cluster: see
  // ContextProvider::ConfigMapReaders).
  std::vector<ConfigMapReader> ConfigMapReaders(const std::string& ns, const std::string& name) const;

  // The namespaces whose decisions may differ between `older` and this snapshot: those whose profiles, labels or
  // service accounts differ (present in either snapshot). nullopt means every namespace: the configuration or RBAC
  // changed, which can change a decision anywhere. Lets a background audit re-evaluate only what a change selects.
  std::optional<std::set<std::string>> NamespacesChangedSince(const ContextSnapshot& older) const;

 private:
  friend class ContextSnapshotBuilder;
  Config config_;
  std::map<std::string, std::vector<Profile>, std::less<>> profiles_;
  std::map<std::string, Labels, std::less<>> namespace_labels_;
  std::map<std::string, ServiceAccountInfo, std::less<>> service_accounts_;  // key "ns/name"
  std::map<std::string, RbacRole, std::less<>> roles_;                       // key "ns/name" or "/name"
  std::vector<RbacBinding> bindings_;
  std::map<std::string, std::shared_ptr<const nlohmann::json>, std::less<>> config_maps_;  // key "ns/name"
  std::map<std::string, std::vector<ConfigMapReader>, std::less<>> config_map_readers_;    // key "ns/name"
};

// Collects context objects (profiles, namespaces, service accounts, RBAC) and builds an immutable snapshot.
class ContextSnapshotBuilder {
 public:
  explicit ContextSnapshotBuilder(Config config);

  // Adds one Kubernetes object if it is a context kind; other kinds, and profiles being deleted
  // (metadata.deletionTimestamp set), are ignored (returns false).
  // A malformed context object is an error that names the object and field.
  StatusOr<bool> Add(const nlohmann::json& object);
  void AddProfile(Profile profile);
  // Keeps a ConfigMap for ContextSnapshot::ConfigMap (governed pods that mount it are judged with it). Not a context
  // kind: IsContextKind stays false for ConfigMaps, which are also reviewed objects. Returns false for other
  // objects and ConfigMaps without a name.
  bool AddConfigMap(const nlohmann::json& object);
  // Records that `reader` reads ConfigMap `config_map` in the reader's namespace, for
  // ContextSnapshot::ConfigMapReaders (`pipeguard scan` adds policy::ConfigMapReadsOf of every scanned document, so
  // a ConfigMap is judged as read by the governed pods among them, whichever comes first).
  void AddConfigMapReader(const std::string& config_map, ConfigMapReader reader);

  std::shared_ptr<const ContextSnapshot> Build() &&;

 private:
  std::unique_ptr<ContextSnapshot> snapshot_;
};

// Where the webhook gets its current snapshot. Implementations: file-backed (reloads files on change) and
// Kubernetes-API-backed (informers). Current() is thread-safe and cheap (an atomic shared_ptr load).
class ContextProvider {
 public:
  virtual ~ContextProvider() = default;
  virtual std::shared_ptr<const ContextSnapshot> Current() const = 0;
  // True once Current() reflects the provider's sources (files loaded; informers synced). The webhook's readiness
  // probe reports it: before then a decision would see only the configuration (e.g. no profiles).
  virtual bool Ready() const { return Current() != nullptr; }
  // The ConfigMap namespace/name for PrepareReview (policy::ConfigMapLookup), or null when unknown. Default: the
  // current snapshot's. Thread-safe, cheap, never blocks on the network.
  virtual std::shared_ptr<const nlohmann::json> ConfigMap(const std::string& ns, const std::string& name) const {
    const auto snapshot = Current();
    return snapshot == nullptr ? nullptr : snapshot->ConfigMap(ns, name);
  }
  // The governed-kind objects known to read ConfigMap namespace/name, for PrepareReview (policy::ConfigMapReaders):
  // a ConfigMap that no label or selector governs is governed when a governed object reads it. Default: the current
  // snapshot's (none for snapshots built from the cluster). Thread-safe, cheap (an index lookup), never blocks on
  // the network.
  virtual std::vector<ConfigMapReader> ConfigMapReaders(const std::string& ns, const std::string& name) const {
    const auto snapshot = Current();
    return snapshot == nullptr ? std::vector<ConfigMapReader>() : snapshot->ConfigMapReaders(ns, name);
  }
  // True when ConfigMapReaders follows the cluster (an index over the workloads, e.g. the background audit's
  // informers), so that a ConfigMap created after the pods that read it is judged at its own admission.
  virtual bool TracksConfigMapReaders() const { return false; }
};

// True for the kinds ContextSnapshotBuilder::Add consumes.
bool IsContextKind(const nlohmann::json& object);

}  // namespace pipeguard::policy
