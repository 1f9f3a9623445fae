#include "pipeguard/policy/context.h"

#include <algorithm>

namespace pipeguard::policy {

using nlohmann::json;

namespace {

const std::vector<Profile> kNoProfiles;

std::string StringAt(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string ObjectName(const json& object) {
  const json& meta = object.contains("metadata") ? object["metadata"] : json();
  std::string ns = meta.is_object() ? StringAt(meta, "namespace") : "";
  std::string name = meta.is_object() ? StringAt(meta, "name") : "";
  return StringAt(object, "kind") + " " + (ns.empty() ? "" : ns + "/") + (name.empty() ? "(unnamed)" : name);
}

std::vector<std::string> StringArray(const json& object, const char* key) {
  std::vector<std::string> out;
  auto it = object.find(key);
  if (it == object.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

bool Contains(const std::vector<std::string>& values, std::string_view v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

// Why a role is too broad for a pipeline pod, or empty when it is not.
std::string RoleRisk(const RbacRole& role) {
  for (const auto& rule : role.rules) {
    const bool core = rule.api_groups.empty() || Contains(rule.api_groups, "") || Contains(rule.api_groups, "*");
    if (Contains(rule.verbs, "*")) return "grants wildcard verbs (*)";
    if (Contains(rule.resources, "*")) return "grants wildcard resources (*)";
    if (core && Contains(rule.resources, "secrets") && rule.resource_names.empty() &&
        (Contains(rule.verbs, "get") || Contains(rule.verbs, "list") || Contains(rule.verbs, "watch"))) {
      return "grants read access to secrets";
    }
  }
  return "";
}

std::string RoleKey(const std::string& ns, const std::string& name) { return ns + "/" + name; }

}  // namespace

Profile ProfileView(const api::ParsedProfile& profile) {
  Profile view;
  view.namespace_ = profile.namespace_;
  view.name = profile.name;
  // A valid profile's selector passed LabelSelector::FromJson in the grammar already.
  if (auto selector = LabelSelector::FromJson(profile.pod_selector, "spec.podSelector"); selector.ok()) {
    view.pod_selector = std::move(selector).value();
  }
  view.service_account = profile.service_account;
  view.automount_token = profile.automount_token;
  if (profile.mode) view.mode = ParseMode(*profile.mode);
  view.trusted_keys = profile.trusted_keys;
  view.keyless_identities = profile.keyless_identities;
  if (profile.attestations && !profile.attestations->empty()) view.attestations = profile.attestations;
  return view;
}

StatusOr<Profile> ParseProfile(const json& object) {
  auto parsed = api::ParseProfile(object);
  if (!parsed.ok()) return parsed.status();
  return ProfileView(*parsed);
}

bool IsContextKind(const json& object) {
  if (!object.is_object()) return false;
  const std::string kind = StringAt(object, "kind");
  return kind == kProfileKind || kind == "Namespace" || kind == "ServiceAccount" || kind == "Role" ||
         kind == "ClusterRole" || kind == "RoleBinding" || kind == "ClusterRoleBinding";
}

std::vector<const Profile*> ContextSnapshot::ProfilesSelecting(const std::string& ns, const Labels& labels) const {
  std::vector<const Profile*> out;
  for (const auto& p : ProfilesIn(ns)) {
    if (p.pod_selector.Matches(labels)) out.push_back(&p);
  }
  return out;
}

const std::vector<Profile>& ContextSnapshot::ProfilesIn(const std::string& ns) const {
  auto it = profiles_.find(ns);
  return it == profiles_.end() ? kNoProfiles : it->second;
}

const Labels* ContextSnapshot::NamespaceLabels(const std::string& ns) const {
  auto it = namespace_labels_.find(ns);
  return it == namespace_labels_.end() ? nullptr : &it->second;
}

const ServiceAccountInfo* ContextSnapshot::ServiceAccount(const std::string& ns, const std::string& name) const {
  auto it = service_accounts_.find(RoleKey(ns, name));
  return it == service_accounts_.end() ? nullptr : &it->second;
}

std::vector<RiskyGrant> ContextSnapshot::RiskyGrantsFor(const std::string& ns, const std::string& name) const {
  std::vector<RiskyGrant> out;
  for (const auto& b : bindings_) {
    bool binds_sa = false;
    for (const auto& s : b.subjects) {
      if (s.kind == "ServiceAccount") {
        const std::string& subject_ns = s.namespace_.empty() ? b.namespace_ : s.namespace_;
        binds_sa |= s.name == name && subject_ns == ns;
      } else if (s.kind == "Group") {
        binds_sa |= s.name == "system:serviceaccounts" || s.name == "system:serviceaccounts:" + ns;
      }
    }
    // A RoleBinding only grants within its own namespace.
    if (!binds_sa || (!b.namespace_.empty() && b.namespace_ != ns)) continue;
    const std::string binding =
        (b.namespace_.empty() ? "ClusterRoleBinding " : "RoleBinding " + b.namespace_ + "/") + b.name;
    const std::string role = b.role_kind + " " + b.role_name;
    if (b.role_kind == "ClusterRole" && Contains(config_.service_accounts.forbidden_roles, b.role_name)) {
      out.push_back({binding, role, "binds the built-in role " + b.role_name});
      continue;
    }
    auto it = roles_.find(b.role_kind == "ClusterRole" ? RoleKey("", b.role_name) : RoleKey(b.namespace_, b.role_name));
    if (it == roles_.end()) continue;
    if (std::string risk = RoleRisk(it->second); !risk.empty()) out.push_back({binding, role, risk});
  }
  return out;
}

size_t ContextSnapshot::profile_count() const {
  size_t n = 0;
  for (const auto& [ns, list] : profiles_) n += list.size();
  return n;
}

std::shared_ptr<const json> ContextSnapshot::ConfigMap(const std::string& ns, const std::string& name) const {
  auto it = config_maps_.find(RoleKey(ns, name));
  return it == config_maps_.end() ? nullptr : it->second;
}

bool ContextSnapshotBuilder::AddConfigMap(const json& object) {
  if (!object.is_object() || StringAt(object, "kind") != "ConfigMap") return false;
  const auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return false;
  const auto name = meta->find("name");
  if (name == meta->end() || !name->is_string() || name->get_ref<const std::string&>().empty()) return false;
  const auto ns = meta->find("namespace");
  const std::string namespace_ = ns != meta->end() && ns->is_string() && !ns->get_ref<const std::string&>().empty()
                                     ? ns->get<std::string>()
                                     : "default";
  snapshot_->config_maps_[RoleKey(namespace_, name->get<std::string>())] = std::make_shared<const json>(object);
  return true;
}

std::vector<ConfigMapReader> ContextSnapshot::ConfigMapReaders(const std::string& ns, const std::string& name) const {
  auto it = config_map_readers_.find(RoleKey(ns, name));
  return it == config_map_readers_.end() ? std::vector<ConfigMapReader>() : it->second;
}

void ContextSnapshotBuilder::AddConfigMapReader(const std::string& config_map, ConfigMapReader reader) {
  auto& readers = snapshot_->config_map_readers_[RoleKey(reader.namespace_, config_map)];
  if (std::find(readers.begin(), readers.end(), reader) == readers.end()) readers.push_back(std::move(reader));
}

namespace {

// Adds to `out` the namespace (what `namespace_of` returns for an entry) of every entry that is in one map and not
// equal in the other.
template <typename Map, typename NamespaceOf>
void AddChangedNamespaces(const Map& newer, const Map& older, NamespaceOf namespace_of, std::set<std::string>& out) {
  for (const auto& [key, value] : newer) {
    auto it = older.find(key);
    if (it == older.end() || !(it->second == value)) out.insert(namespace_of(key, value));
  }
  for (const auto& [key, value] : older) {
    if (!newer.count(key)) out.insert(namespace_of(key, value));
  }
}

}  // namespace

std::optional<std::set<std::string>> ContextSnapshot::NamespacesChangedSince(const ContextSnapshot& older) const {
  if (!(config_ == older.config_) || !(roles_ == older.roles_) || !(bindings_ == older.bindings_)) return std::nullopt;
  std::set<std::string> changed;
  auto by_key = [](const std::string& ns, const auto&) { return ns; };
  AddChangedNamespaces(profiles_, older.profiles_, by_key, changed);
  AddChangedNamespaces(namespace_labels_, older.namespace_labels_, by_key, changed);
  AddChangedNamespaces(
      service_accounts_, older.service_accounts_,
      [](const std::string&, const ServiceAccountInfo& account) { return account.namespace_; }, changed);
  // ConfigMaps (from context files) by content: a changed one changes the verdicts of the pods that mount it.
  for (const auto* maps : {&config_maps_, &older.config_maps_}) {
    const auto& other = maps == &config_maps_ ? older.config_maps_ : config_maps_;
    for (const auto& [key, object] : *maps) {
      auto it = other.find(key);
      if (it == other.end() || !(*it->second == *object)) changed.insert(key.substr(0, key.find('/')));
    }
  }
  return changed;
}

ContextSnapshotBuilder::ContextSnapshotBuilder(Config config) : snapshot_(std::make_unique<ContextSnapshot>()) {
  snapshot_->config_ = std::move(config);
}

void ContextSnapshotBuilder::AddProfile(Profile profile) {
  snapshot_->profiles_[profile.namespace_].push_back(std::move(profile));
}

StatusOr<bool> ContextSnapshotBuilder::Add(const json& object) {
  if (!IsContextKind(object)) return false;
  const std::string kind = StringAt(object, "kind");
  if (kind == kProfileKind) {
    // A profile being deleted selects nothing: its updates are admitted without evaluation (UnevaluatedUpdateReason),
    // so what it says can no longer be trusted. Pods it selected are governed as without it (missing-profile).
    if (const auto meta = object.find("metadata"); meta != object.end() && meta->is_object()) {
      if (const auto deleting = meta->find("deletionTimestamp"); deleting != meta->end() && !deleting->is_null()) {
        return false;
      }
    }
    auto profile = ParseProfile(object);
    if (!profile.ok()) return profile.status();
    AddProfile(std::move(profile).value());
    return true;
  }
  const json meta = object.contains("metadata") && object["metadata"].is_object() ? object["metadata"] : json::object();
  const std::string name = StringAt(meta, "name");
  std::string ns = StringAt(meta, "namespace");
  if (name.empty()) return Status::InvalidArgument(ObjectName(object) + ": metadata.name is required");
  const bool cluster_scoped = kind == "Namespace" || kind == "ClusterRole" || kind == "ClusterRoleBinding";
  if (cluster_scoped) {
    ns.clear();
  } else if (ns.empty()) {
    ns = "default";
  }

  if (kind == "Namespace") {
    snapshot_->namespace_labels_[name] = meta.contains("labels") ? LabelsFromJson(meta["labels"]) : Labels{};
  } else if (kind == "ServiceAccount") {
    ServiceAccountInfo sa{ns, name, std::nullopt};
    if (object.contains("automountServiceAccountToken") && object["automountServiceAccountToken"].is_boolean()) {
      sa.automount_token = object["automountServiceAccountToken"].get<bool>();
    }
    snapshot_->service_accounts_[RoleKey(ns, name)] = std::move(sa);
  } else if (kind == "Role" || kind == "ClusterRole") {
    RbacRole role{ns, name, {}};
    if (object.contains("rules") && object["rules"].is_array()) {
      for (const auto& r : object["rules"]) {
        if (!r.is_object()) return Status::InvalidArgument(ObjectName(object) + ": rules[] must be objects");
        role.rules.push_back({StringArray(r, "apiGroups"), StringArray(r, "resources"), StringArray(r, "verbs"),
                              StringArray(r, "resourceNames")});
      }
    }
    snapshot_->roles_[RoleKey(ns, name)] = std::move(role);
  } else {  // RoleBinding, ClusterRoleBinding
    RbacBinding b;
    b.namespace_ = ns;
    b.name = name;
    if (!object.contains("roleRef") || !object["roleRef"].is_object()) {
      return Status::InvalidArgument(ObjectName(object) + ": roleRef is required");
    }
    b.role_kind = StringAt(object["roleRef"], "kind");
    b.role_name = StringAt(object["roleRef"], "name");
    if (object.contains("subjects") && object["subjects"].is_array()) {
      for (const auto& s : object["subjects"]) {
        if (!s.is_object()) continue;
        b.subjects.push_back({StringAt(s, "kind"), StringAt(s, "name"), StringAt(s, "namespace")});
      }
    }
    snapshot_->bindings_.push_back(std::move(b));
  }
  return true;
}

std::shared_ptr<const ContextSnapshot> ContextSnapshotBuilder::Build() && {
  for (auto& [ns, list] : snapshot_->profiles_) {
    // A profile seen twice (e.g. in --profiles and in the scanned files) counts once: the last one added wins.
    std::stable_sort(list.begin(), list.end(), [](const Profile& a, const Profile& b) { return a.name < b.name; });
    std::vector<Profile> unique;
    for (auto& p : list) {
      if (!unique.empty() && unique.back().name == p.name) {
        unique.back() = std::move(p);
      } else {
        unique.push_back(std::move(p));
      }
    }
    list = std::move(unique);
  }
  return std::shared_ptr<const ContextSnapshot>(std::move(snapshot_));
}

}  // namespace pipeguard::policy
