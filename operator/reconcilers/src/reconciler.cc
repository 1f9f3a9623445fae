#include "pipeguard/reconcilers/reconciler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <map>
#include <set>

#include "pipeguard/aws/policy_document.h"
#include "pipeguard/base/time.h"
#include "pipeguard/desired/drift.h"
#include "pipeguard/desired/iam_role.h"
#include "pipeguard/desired/network_policy.h"
#include "pipeguard/desired/profile_review.h"
#include "pipeguard/desired/service_account.h"
#include "pipeguard/guardrails/guardrails.h"
#include "pipeguard/guardrails/iam_policy.h"
#include "pipeguard/kube/errors.h"
#include "pipeguard/profile/profile.h"

namespace pipeguard::reconcilers {
namespace {

using Json = nlohmann::json;
namespace res = kube::resources;

constexpr size_t kMaxConditionMessage = 32768;

// The status conditions, in the order they are written: one per owned part, then Ready.
constexpr std::array<const char*, 3> kPartConditions = {"ServiceAccountReady", "IAMRoleReady", "NetworkPolicyReady"};
constexpr std::array<const char*, 4> kConditions = {"ServiceAccountReady", "IAMRoleReady", "NetworkPolicyReady",
                                                    "Ready"};

struct Condition {
  std::string type;
  std::string status;  // "True", "False", "Unknown"
  std::string reason;
  std::string message;
};

// metav1.Time: RFC 3339 with second precision, UTC.
std::string FormatTime(std::chrono::system_clock::time_point t) {
  return base::FormatTimestamp(std::chrono::system_clock::to_time_t(t));
}

// IAM errors a later retry can cure: throttling, concurrent writers, eventual consistency, transport.
bool IsTransientIam(const aws::AwsError& e) {
  return e.retryable || e.Is(aws::errc::kThrottling) || e.Is(aws::errc::kConcurrentModification) ||
         e.Is(aws::errc::kEntityAlreadyExists) || e.Is(aws::errc::kServiceFailure) ||
         e.Is(aws::errc::kThrottlingException) || e.Is(aws::errc::kRequestLimitExceeded);
}

bool HasFinalizer(const Json& object) {
  const Json* f = object.contains("metadata") && object["metadata"].contains("finalizers")
                      ? &object["metadata"]["finalizers"]
                      : nullptr;
  if (f == nullptr || !f->is_array()) return false;
  return std::any_of(f->begin(), f->end(), [](const Json& v) { return v.is_string() && v == kFinalizer; });
}

std::string JoinDrifts(const std::vector<desired::Drift>& drifts) {
  std::string out;
  for (const auto& d : drifts) {
    if (!out.empty()) out += "; ";
    out += d.detail;
  }
  return out;
}

std::string StringAt(const Json& object, const Json::json_pointer& p) {
  return object.contains(p) && object[p].is_string() ? object[p].get<std::string>() : std::string();
}

}  // namespace

AuditSink SpdlogAuditSink() {
  return [](const Json& record) { spdlog::warn("{}", record.dump()); };
}

// State of one reconcile pass.
struct ProfileReconciler::Pass {
  std::string ns;
  std::string name;
  Json object;              // the profile as last read or written
  bool from_cache = false;  // `object` came from the informer cache (re-read from the API server before writing)
  int64_t generation = 0;   // metadata.generation of the spec being reconciled
  api::ParsedProfile profile;
  bool converged = false;  // status says Ready=True at the current generation: any difference now is drift
  std::map<std::string, Condition> conditions;
  std::optional<std::string> role_arn;
  std::optional<std::string> role_name;
  std::vector<std::string> network_policies;
  std::string service_account;

  void Set(const std::string& type, bool ok, std::string reason, std::string message) {
    if (message.size() > kMaxConditionMessage) message.resize(kMaxConditionMessage);
    conditions[type] = Condition{type, ok ? "True" : "False", std::move(reason), std::move(message)};
  }
};

ProfileReconciler::ProfileReconciler(kube::KubeClient& kube, IamApi& iam, ProfileReconcilerOptions options,
                                     const kube::Clock& clock)
    : kube_(kube), iam_(iam), options_(std::move(options)), clock_(clock) {
  audit_ = options_.audit ? options_.audit : SpdlogAuditSink();
}

void ProfileReconciler::Emit(Pass& pass, std::string_view type, std::string_view reason, std::string note) {
  kube::EventSpec spec;
  spec.regarding = {{"apiVersion", std::string(api::kProfileApiVersion)},
                    {"kind", std::string(api::kProfileKind)},
                    {"metadata",
                     {{"name", pass.name},
                      {"namespace", pass.ns},
                      {"uid", StringAt(pass.object, "/metadata/uid"_json_pointer)},
                      {"resourceVersion", kube::ResourceVersionOf(pass.object)}}}};
  spec.type = std::string(type);
  spec.reason = std::string(reason);
  spec.action = "Reconcile";
  spec.note = std::move(note);
  spec.reporting_controller = "pipeguard.io/operator";
  spec.reporting_instance = options_.reporting_instance;
  // CreateEvent makes the name unique even for several Events within one clock tick of a pass.
  StatusOr<Json> created = kube::CreateEvent(kube_, spec, clock_);
  if (!created.ok()) {
    spdlog::warn("profile {}/{}: cannot record Event {}: {}", pass.ns, pass.name, reason, created.status().message());
  }
}

void ProfileReconciler::Audit(Pass& pass, std::string_view event, std::string_view kind, const std::string& detail) {
  audit_({{"audit", std::string(event)},
          {"component", "operator"},
          {"namespace", pass.ns},
          {"profile", pass.name},
          {"kind", std::string(kind)},
          {"detail", detail}});
}

void ProfileReconciler::DriftReverted(Pass& pass, std::string_view kind, const std::string& detail) {
  if (options_.metrics != nullptr) options_.metrics->RecordDriftReverted(kind);
  Emit(pass, "Warning", "DriftReverted", std::string(kind) + ": " + detail + " (reverted)");
  Audit(pass, "drift_reverted", kind, detail);
}

StatusOr<controller::Observed> ProfileReconciler::Read(const kube::Resource& resource, const std::string& ns,
                                                       const std::string& name,
                                                       const controller::NeedsWrite& needs_write) {
  return controller::ReadForDiff(kube_, cache_.load(), resource, ns, name, needs_write);
}

namespace {
// Ready=True recorded at the object's current generation.
bool IsConverged(const Json& object) {
  const Json status = object.value("status", Json::object());
  const int64_t generation = object["metadata"].value("generation", int64_t{0});
  if (!status.is_object() || status.value("observedGeneration", int64_t{-1}) != generation ||
      !status.contains("conditions") || !status["conditions"].is_array()) {
    return false;
  }
  return std::any_of(status["conditions"].begin(), status["conditions"].end(),
                     [](const Json& c) { return c.value("type", "") == "Ready" && c.value("status", "") == "True"; });
}
}  // namespace

StatusOr<ReconcileResult> ProfileReconciler::Reconcile(const std::string& namespace_, const std::string& name) {
  Pass pass;
  pass.ns = namespace_;
  pass.name = name;
  // Only a converged, finalized, live profile is taken from the cache: anything that will be written is read fresh.
  auto got = Read(res::PipelineSecurityProfiles(), namespace_, name, [](const std::optional<Json>& profile) {
    return !profile || !IsConverged(*profile) || !HasFinalizer(*profile) ||
           (*profile)["metadata"].contains("deletionTimestamp");
  });
  if (!got.ok()) return got.status();
  if (!got->object) return ReconcileResult::Done();
  pass.object = std::move(*got->object);
  pass.from_cache = got->from_cache;

  const Json& status = pass.object.value("status", Json::object());
  const int64_t generation = pass.object["metadata"].value("generation", int64_t{0});
  pass.generation = generation;
  pass.converged = IsConverged(pass.object);

  if (pass.object["metadata"].contains("deletionTimestamp")) return ReconcileDeletion(pass);

  desired::ProfileReview review = desired::ReviewProfile(pass.object, options_.config, options_.limits);
  if (!review.grammar.empty()) {
    // One answer: the grammar's problems and the guardrails' findings on what could be read, together.
    std::vector<api::GuardrailViolation> problems = std::move(review.grammar);
    problems.insert(problems.end(), review.guardrails.begin(), review.guardrails.end());
    const std::string message = "the profile is invalid: " + api::JoinViolations(problems);
    for (const char* type : kConditions) {
      pass.Set(type, false, "InvalidSpec", message);
    }
    if (!pass.converged && status.value("observedGeneration", int64_t{-1}) != generation) {
      Emit(pass, "Warning", "InvalidSpec", message);
    }
    if (Status s = WriteStatus(pass); !s.ok()) return s;
    return ReconcileResult::Done();
  }
  pass.profile = std::move(review.profile);
  pass.service_account = pass.profile.service_account;

  // The finalizer goes on before anything external exists, so nothing can be orphaned.
  if (!HasFinalizer(pass.object)) {
    Json updated = pass.object;
    if (!updated["metadata"].contains("finalizers") || !updated["metadata"]["finalizers"].is_array()) {
      updated["metadata"]["finalizers"] = Json::array();
    }
    updated["metadata"]["finalizers"].push_back(std::string(kFinalizer));
    auto written = kube_.Update(res::PipelineSecurityProfiles(), namespace_, updated);
    if (!written.ok()) {
      if (kube::IsConflict(written.status())) return ReconcileResult::Requeue("finalizer: profile changed meanwhile");
      return written.status();
    }
    pass.object = std::move(written).value();
  }

  // Guardrails and IAM limits: nothing is written (to AWS or to owned objects) for a profile that breaks them.
  if (!review.guardrails.empty()) {
    const std::string message = "the profile breaks the platform guardrails: " + api::JoinViolations(review.guardrails);
    for (const char* type : kConditions) {
      pass.Set(type, false, "GuardrailViolation", message);
    }
    const Json* old_conditions = status.contains("conditions") ? &status["conditions"] : nullptr;
    bool already_reported = false;
    if (old_conditions != nullptr && old_conditions->is_array()) {
      for (const auto& c : *old_conditions) {
        if (c.value("type", "") == "Ready" && c.value("reason", "") == "GuardrailViolation" &&
            c.value("message", "") == pass.conditions["Ready"].message) {
          already_reported = true;
        }
      }
    }
    if (!already_reported) Emit(pass, "Warning", "GuardrailViolation", message);
    if (Status s = WriteStatus(pass); !s.ok()) return s;
    return ReconcileResult::Done();
  }

  std::optional<ReconcileResult> role_result;
  Status first_error;
  if (pass.profile.aws.has_value()) {
    auto r = ReconcileRole(pass, &pass.role_arn);
    if (!r.ok()) {
      first_error = r.status();
      pass.Set("IAMRoleReady", false, "AwsError", r.status().message());
    } else if (r->action != ReconcileResult::Action::kDone) {
      role_result = *r;
    }
  } else {
    pass.Set("IAMRoleReady", true, "NotRequested", "the profile has no spec.aws, so no IAM role is managed");
  }

  if (Status s = ReconcileServiceAccount(pass, pass.role_arn); !s.ok()) {
    pass.Set("ServiceAccountReady", false, "ApplyFailed", s.message());
    if (first_error.ok()) first_error = s;
  }
  if (Status s = ReconcileNetworkPolicies(pass); !s.ok()) {
    if (first_error.ok()) first_error = s;
  }

  bool all_ready = true;
  std::string not_ready;
  for (const char* type : kPartConditions) {
    auto it = pass.conditions.find(type);
    if (it == pass.conditions.end() || it->second.status != "True") {
      all_ready = false;
      if (!not_ready.empty()) not_ready += ", ";
      not_ready += type;
    }
  }
  if (all_ready) {
    pass.Set("Ready", true, "Reconciled", "the ServiceAccount, IAM role and NetworkPolicies match the profile");
  } else {
    pass.Set("Ready", false, "NotReconciled", "not ready: " + not_ready);
  }
  if (Status s = WriteStatus(pass); !s.ok()) {
    if (kube::IsConflict(s)) return ReconcileResult::Requeue("status: profile changed meanwhile");
    if (first_error.ok()) first_error = s;
  }
  if (!first_error.ok()) return first_error;
  if (role_result.has_value()) return *role_result;
  return ReconcileResult::Done();
}

namespace {

// A failed IAM call while reconciling a role: which call, and AWS's error.
struct IamCallError {
  const char* call;
  aws::AwsError error;
};

// The role's inline policies (name -> document) and attached managed policies, into `observed`.
std::optional<IamCallError> ReadRolePolicies(IamApi& iam, const std::string& name, desired::RoleState* observed) {
  auto names = iam.ListRolePolicies(name);
  if (!names.ok()) return IamCallError{"ListRolePolicies", names.error()};
  for (const auto& n : *names) {
    auto doc = iam.GetRolePolicy(name, n);
    if (!doc.ok()) return IamCallError{"GetRolePolicy", doc.error()};
    observed->inline_policies[n] = *doc;
  }
  auto attached = iam.ListAttachedRolePolicies(name);
  if (!attached.ok()) return IamCallError{"ListAttachedRolePolicies", attached.error()};
  for (const auto& a : *attached) observed->managed_policy_arns.push_back(a.arn);
  return std::nullopt;
}

// The IAM calls that take role `name` from `observed` to `wanted` for one kind of drift. NoSuchEntity on a delete
// or detach is success (already gone).
std::optional<IamCallError> FixRoleDrift(IamApi& iam, const std::string& name, desired::DriftKind kind,
                                         const desired::RoleState& wanted, const desired::RoleState& observed) {
  auto failed = [](const char* call, const auto& result, bool gone_is_ok = false) -> std::optional<IamCallError> {
    if (result.ok() || (gone_is_ok && result.error().Is(aws::errc::kNoSuchEntity))) return std::nullopt;
    return IamCallError{call, result.error()};
  };
  switch (kind) {
    case desired::DriftKind::kRoleTrustPolicy:
      return failed("UpdateAssumeRolePolicy", iam.UpdateAssumeRolePolicy(name, wanted.trust_policy));
    case desired::DriftKind::kRoleInlinePolicy: {
      const std::string policy_name(desired::kInlinePolicyName);
      const std::string& inline_policy = wanted.inline_policies.at(policy_name);
      auto ours = observed.inline_policies.find(policy_name);
      if (ours == observed.inline_policies.end() || !aws::PoliciesEquivalent(ours->second, inline_policy)) {
        if (auto e = failed("PutRolePolicy", iam.PutRolePolicy(name, policy_name, inline_policy))) return e;
      }
      for (const auto& [other, doc] : observed.inline_policies) {
        if (other == policy_name) continue;
        if (auto e = failed("DeleteRolePolicy", iam.DeleteRolePolicy(name, other), true)) return e;
      }
      return std::nullopt;
    }
    case desired::DriftKind::kRoleManagedPolicies:
      for (const auto& arn : observed.managed_policy_arns) {
        if (auto e = failed("DetachRolePolicy", iam.DetachRolePolicy(name, arn), true)) return e;
      }
      return std::nullopt;
    case desired::DriftKind::kRolePermissionsBoundary:
      return failed("PutRolePermissionsBoundary",
                    iam.PutRolePermissionsBoundary(name, wanted.permissions_boundary_arn));
    case desired::DriftKind::kRoleTags: {
      std::map<std::string, std::string> have;
      for (const auto& t : observed.tags) have[t.key] = t.value;
      std::vector<aws::Tag> missing;
      for (const auto& t : wanted.tags) {
        auto it = have.find(t.key);
        if (it == have.end() || it->second != t.value) missing.push_back(t);
      }
      if (missing.empty()) return std::nullopt;
      return failed("TagRole", iam.TagRole(name, missing));
    }
    case desired::DriftKind::kRoleMaxSessionDuration:
      return failed("UpdateRole", iam.UpdateRoleMaxSessionDuration(name, wanted.max_session_duration.value_or(3600)));
    default:
      return std::nullopt;
  }
}

bool HasUidTag(const std::vector<aws::Tag>& tags) {
  return std::any_of(tags.begin(), tags.end(), [](const aws::Tag& t) { return t.key == desired::kTagProfileUid; });
}

}  // namespace

void ProfileReconciler::RefuseAdoption(Pass& pass, const aws::Role& role, desired::RoleOwnership ownership) {
  const std::string message =
      "IAM role " + role.arn +
      (ownership == desired::RoleOwnership::kForeign ? " exists without pipeguard's ownership tags"
                                                     : " belongs to another pipeguard profile or cluster") +
      "; refusing to adopt it. Delete or rename that role, or rename this profile.";
  pass.Set("IAMRoleReady", false, "AdoptionRefused", message);
  const Json& old_status = pass.object.value("status", Json::object());
  bool reported = false;
  for (const auto& c : old_status.value("conditions", Json::array())) {
    if (c.value("type", "") == "IAMRoleReady" && c.value("reason", "") == "AdoptionRefused") reported = true;
  }
  if (!reported) {
    Emit(pass, "Warning", "AdoptionRefused", message);
    Audit(pass, "adoption_refused", "iam_role", message);
  }
}

StatusOr<ReconcileResult> ProfileReconciler::ReconcileRole(Pass& pass, std::optional<std::string>* role_arn) {
  const api::ParsedProfile& profile = pass.profile;
  const guardrails::OperatorConfig& config = options_.config;
  const std::string name = desired::RoleName(config.cluster_name, profile.namespace_, profile.name);
  pass.role_name = name;
  const aws::CreateRoleRequest desired = desired::DesiredCreateRole(config, profile);
  const std::string inline_policy = guardrails::CanonicalInlinePolicy(profile, config.aws_partition);
  const std::string policy_name(desired::kInlinePolicyName);

  auto transient_or_error = [&](const IamCallError& e) -> StatusOr<ReconcileResult> {
    pass.Set("IAMRoleReady", false, "AwsError", std::string(e.call) + ": " + e.error.ToString());
    if (IsTransientIam(e.error) || e.error.Is(aws::errc::kNoSuchEntity)) {
      return ReconcileResult::Requeue(std::string(e.call) + ": " + e.error.code);
    }
    return e.error.ToStatus();
  };

  auto got = iam_.GetRole(name);
  if (!got.ok()) {
    if (!got.error().Is(aws::errc::kNoSuchEntity)) return transient_or_error({"GetRole", got.error()});
    auto created = iam_.CreateRole(desired);
    if (!created.ok()) return transient_or_error({"CreateRole", created.error()});
    // A new role can be briefly invisible to other IAM calls (eventual consistency): NoSuchEntity requeues.
    auto put = iam_.PutRolePolicy(name, policy_name, inline_policy);
    if (!put.ok()) return transient_or_error({"PutRolePolicy", put.error()});
    *role_arn = created->arn;
    Emit(pass, "Normal", "RoleCreated", "created IAM role " + created->arn + " with inline policy " + policy_name);
    pass.Set("IAMRoleReady", true, "RoleReady", "IAM role " + created->arn + " matches the profile");
    return ReconcileResult::Done();
  }
  const aws::Role& role = *got;

  desired::RoleState observed;
  observed.trust_policy = role.assume_role_policy_document;
  observed.permissions_boundary_arn = role.permissions_boundary_arn;
  observed.tags = role.tags;
  observed.max_session_duration = role.max_session_duration;
  if (observed.tags.empty()) {
    auto tags = iam_.ListRoleTags(name);
    if (!tags.ok()) return transient_or_error({"ListRoleTags", tags.error()});
    observed.tags = *tags;
  }
  const desired::RoleOwnership ownership = desired::ClassifyRoleOwnership(observed.tags, config, profile);
  if (ownership == desired::RoleOwnership::kForeign || ownership == desired::RoleOwnership::kOtherProfile) {
    RefuseAdoption(pass, role, ownership);
    return ReconcileResult::Done();
  }
  // A different profile-uid tag is a takeover of a role retained from an earlier profile; a removed one is drift.
  const bool takeover = ownership == desired::RoleOwnership::kOursEarlierUid && HasUidTag(observed.tags);
  if (takeover) {
    Emit(pass, "Normal", "RoleAdopted",
         "taking over IAM role " + role.arn + " retained from an earlier profile of the same name");
  }
  if (auto e = ReadRolePolicies(iam_, name, &observed)) return transient_or_error(*e);

  desired::RoleState wanted;
  wanted.trust_policy = desired.assume_role_policy_document;
  wanted.inline_policies[policy_name] = inline_policy;
  wanted.permissions_boundary_arn = desired.permissions_boundary_arn;
  wanted.tags = desired.tags;
  wanted.max_session_duration = desired.max_session_duration;

  const std::vector<desired::Drift> drifts = desired::ClassifyRoleDrift(wanted, observed);
  std::set<desired::DriftKind> fixed;
  for (const desired::Drift& drift : drifts) {
    if (!fixed.insert(drift.kind).second) continue;  // desired::ClassifyRoleDrift reports role kinds only
    if (auto e = FixRoleDrift(iam_, name, drift.kind, wanted, observed)) return transient_or_error(*e);
    std::vector<desired::Drift> same_kind;
    std::copy_if(drifts.begin(), drifts.end(), std::back_inserter(same_kind),
                 [&](const desired::Drift& d) { return d.kind == drift.kind; });
    const std::string detail = JoinDrifts(same_kind);
    if (pass.converged && !(takeover && drift.kind == desired::DriftKind::kRoleTags)) {
      DriftReverted(pass, desired::DriftKindLabel(drift.kind), detail);
    } else {
      Emit(pass, "Normal", "RoleUpdated", "IAM role " + role.arn + " updated: " + detail);
    }
  }
  *role_arn = role.arn;
  pass.Set("IAMRoleReady", true, "RoleReady", "IAM role " + role.arn + " matches the profile");
  return ReconcileResult::Done();
}

Status ProfileReconciler::ReconcileServiceAccount(Pass& pass, const std::optional<std::string>& role_arn) {
  auto desired = desired::DesiredServiceAccount(pass.profile, role_arn);
  if (!desired.ok()) return desired.status();
  const std::string& sa = pass.profile.service_account;
  auto differs = [&](const std::optional<Json>& sa_object) {
    return !sa_object || desired::PlanServiceAccountUpdate(*desired, *sa_object).has_value();
  };
  auto got = Read(res::ServiceAccounts(), pass.ns, sa, differs);
  if (!got.ok()) return got.status();
  const std::optional<Json>& observed = got->object;
  if (differs(observed)) {
    const std::vector<desired::Drift> drifts = desired::ClassifyServiceAccountDrift(*desired, observed);
    auto applied = kube_.Apply(res::ServiceAccounts(), pass.ns, sa, *desired,
                               {.field_manager = std::string(kFieldManager), .force = true});
    if (!applied.ok()) return applied.status();
    if (pass.converged && !drifts.empty()) {
      DriftReverted(pass, desired::DriftKindLabel(desired::DriftKind::kServiceAccount), JoinDrifts(drifts));
    } else {
      Emit(pass, "Normal", observed ? "ServiceAccountUpdated" : "ServiceAccountCreated",
           "ServiceAccount " + sa + (role_arn ? " bound to IAM role " + *role_arn : std::string()));
    }
  }
  if (pass.profile.aws.has_value() && !role_arn) {
    pass.Set("ServiceAccountReady", false, "WaitingForRole",
             "ServiceAccount " + sa + " exists but is not annotated until the IAM role is ready");
  } else {
    pass.Set("ServiceAccountReady", true, "Applied", "ServiceAccount " + sa + " matches the profile");
  }
  return Status::Ok();
}

Status ProfileReconciler::ReconcileNetworkPolicies(Pass& pass) {
  // Services come from the cache when one covers them: a stale Service can only make a NetworkPolicy briefly wrong,
  // and its change arrives as an informer event that enqueues every profile naming it (ProfileController).
  desired::ServiceResolver resolver = [this](const std::string& ns,
                                             const std::string& name) -> StatusOr<desired::ResolvedService> {
    auto got = Read(res::Services(), ns, name, [](const std::optional<Json>&) { return false; });  // never written
    if (!got.ok()) return got.status();
    if (!got->object) return Status::NotFound("Service " + ns + "/" + name + " not found");
    const Json& service = *got->object;
    desired::ResolvedService out;
    const Json spec = service.value("spec", Json::object());
    // Named, not iterated as a temporary: items() of a temporary dangles in a range-for (C++20).
    const Json selector = spec.value("selector", Json::object());
    for (const auto& [k, v] : selector.items()) {
      if (v.is_string()) out.selector[k] = v.get<std::string>();
    }
    for (const auto& p : spec.value("ports", Json::array())) {
      desired::ResolvedServicePort port;
      port.port = p.value("port", 0);
      port.protocol = p.value("protocol", "TCP");
      if (p.contains("targetPort") && p["targetPort"].is_string()) {
        port.target_port = p["targetPort"].get<std::string>();
      } else {
        port.target_port = p.value("targetPort", port.port);
      }
      out.ports.push_back(std::move(port));
    }
    return out;
  };

  std::vector<Json> desired;
  auto deny = desired::DesiredDenyNetworkPolicy(pass.profile);
  if (!deny.ok()) return deny.status();
  desired.push_back(*deny);
  auto allow = desired::DesiredAllowNetworkPolicy(pass.profile, options_.config, resolver);
  std::string allow_problem;
  if (allow.ok()) {
    desired.push_back(*allow);
  } else {
    allow_problem = allow.status().message();
  }

  Status first_error;
  for (const Json& want : desired) {
    const std::string name = want["metadata"]["name"].get<std::string>();
    pass.network_policies.push_back(name);
    auto got = Read(res::NetworkPolicies(), pass.ns, name, [&](const std::optional<Json>& np) {
      return !np || desired::PlanNetworkPolicyUpdate(want, *np).has_value();
    });
    if (!got.ok()) {
      if (first_error.ok()) first_error = got.status();
      continue;
    }
    const std::optional<Json>& observed = got->object;
    const std::vector<desired::Drift> drifts = desired::ClassifyNetworkPolicyDrift(want, observed);
    if (!observed) {
      auto created = kube_.Create(res::NetworkPolicies(), pass.ns, want);
      if (!created.ok()) {
        if (first_error.ok()) first_error = created.status();
        continue;
      }
    } else if (auto plan = desired::PlanNetworkPolicyUpdate(want, *observed)) {
      auto updated = kube_.Update(res::NetworkPolicies(), pass.ns, *plan);  // in place, never delete+create
      if (!updated.ok()) {
        if (first_error.ok()) first_error = updated.status();
        continue;
      }
    } else {
      continue;
    }
    if (pass.converged && !drifts.empty()) {
      DriftReverted(pass, desired::DriftKindLabel(desired::DriftKind::kNetworkPolicy),
                    "NetworkPolicy " + name + ": " + JoinDrifts(drifts));
    } else {
      Emit(pass, "Normal", observed ? "NetworkPolicyUpdated" : "NetworkPolicyCreated", "NetworkPolicy " + name);
    }
  }
  if (!first_error.ok()) {
    pass.Set("NetworkPolicyReady", false, "ApplyFailed", first_error.message());
  } else if (!allow_problem.empty()) {
    pass.Set("NetworkPolicyReady", false, "AllowPolicyInvalid",
             "the default-deny policy is in place but the allow policy cannot be built: " + allow_problem);
  } else {
    pass.Set("NetworkPolicyReady", true, "Applied", "default-deny and allow NetworkPolicies match the profile");
  }
  return first_error;
}

Status ProfileReconciler::WriteStatus(Pass& pass) {
  const std::string now = FormatTime(clock_.Now());
  // The merge patch that takes `profile`'s status to this pass's, or nullopt when it already matches.
  auto patch_for = [&](const Json& profile) -> std::optional<Json> {
    const Json old = profile.value("status", Json::object());
    const Json old_conditions = old.is_object() ? old.value("conditions", Json::array()) : Json::array();
    Json conditions = Json::array();
    for (const char* type : kConditions) {
      auto it = pass.conditions.find(type);
      if (it == pass.conditions.end()) continue;
      const Condition& c = it->second;
      std::string transition = now;
      for (const auto& o : old_conditions) {
        if (o.value("type", "") == c.type && o.value("status", "") == c.status && o.contains("lastTransitionTime")) {
          transition = o["lastTransitionTime"].get<std::string>();
        }
      }
      conditions.push_back({{"type", c.type},
                            {"status", c.status},
                            {"observedGeneration", pass.generation},
                            {"lastTransitionTime", transition},
                            {"reason", c.reason},
                            {"message", c.message}});
    }
    Json desired = {{"observedGeneration", pass.generation}, {"conditions", conditions}};
    if (pass.role_arn) desired["roleArn"] = *pass.role_arn;
    if (pass.role_name && pass.role_arn) desired["roleName"] = *pass.role_name;
    if (!pass.service_account.empty()) desired["serviceAccount"] = pass.service_account;
    if (!pass.network_policies.empty()) desired["networkPolicies"] = pass.network_policies;

    Json patch = desired;
    bool changed = false;
    for (const char* key :
         {"observedGeneration", "conditions", "roleArn", "roleName", "serviceAccount", "networkPolicies"}) {
      const bool want = desired.contains(key);
      const bool have = old.is_object() && old.contains(key);
      if (want != have || (want && desired[key] != old[key])) changed = true;
      if (!want && have) patch[key] = nullptr;
    }
    if (!changed) return std::nullopt;
    return patch;
  };
  // The cached status may be stale: a difference is diffed again against the API server's before writing.
  auto live = controller::ConfirmLive(
      kube_, {.object = pass.object, .from_cache = pass.from_cache}, res::PipelineSecurityProfiles(), pass.ns,
      pass.name, [&](const std::optional<Json>& profile) { return !profile || patch_for(*profile).has_value(); });
  if (!live.ok()) return live.status();
  if (!live->object) return Status::NotFound("PipelineSecurityProfile " + pass.ns + "/" + pass.name + " not found");
  pass.object = std::move(*live->object);
  pass.from_cache = live->from_cache;
  const std::optional<Json> patch = patch_for(pass.object);
  if (!patch) return Status::Ok();
  auto written = kube_.Patch(res::PipelineSecurityProfiles(), pass.ns, pass.name, kube::PatchType::kMerge,
                             {{"status", *patch}}, "status", kFieldManager);
  if (!written.ok()) return written.status();
  pass.object = std::move(written).value();
  return Status::Ok();
}

StatusOr<ReconcileResult> ProfileReconciler::ReconcileDeletion(Pass& pass) {
  if (!HasFinalizer(pass.object)) return ReconcileResult::Done();
  const Json spec = pass.object.value("spec", Json::object());
  if (spec.is_object() && spec.contains("aws")) {
    api::ParsedProfile identity;  // what ownership needs, even when the spec no longer parses
    identity.namespace_ = pass.ns;
    identity.name = pass.name;
    identity.uid = StringAt(pass.object, "/metadata/uid"_json_pointer);
    const bool retain = spec.value("deletionPolicy", "Delete") == "Retain";
    const std::string name = desired::RoleName(options_.config.cluster_name, pass.ns, pass.name);
    auto transient_or_error = [&](const aws::AwsError& e, const char* what) -> StatusOr<ReconcileResult> {
      if (IsTransientIam(e) || e.Is(aws::errc::kDeleteConflict)) {
        return ReconcileResult::Requeue(std::string(what) + ": " + e.code);
      }
      return e.ToStatus();
    };
    auto got = iam_.GetRole(name);
    if (!got.ok() && !got.error().Is(aws::errc::kNoSuchEntity)) return transient_or_error(got.error(), "GetRole");
    if (got.ok()) {
      std::vector<aws::Tag> tags = got->tags;
      if (tags.empty()) {
        auto listed = iam_.ListRoleTags(name);
        if (!listed.ok()) return transient_or_error(listed.error(), "ListRoleTags");
        tags = *listed;
      }
      if (desired::ClassifyRoleOwnership(tags, options_.config, identity) != desired::RoleOwnership::kOurs) {
        const std::string message = "IAM role " + got->arn + " is not this profile's; left as it is";
        Emit(pass, "Warning", "RoleNotOwned", message);
        Audit(pass, "role_left_alone", "iam_role", message);
      } else if (retain) {
        auto r = iam_.TagRole(name, {{std::string(desired::kTagOrphaned), "true"}});
        if (!r.ok()) return transient_or_error(r.error(), "TagRole");
        Emit(pass, "Normal", "RoleRetained", "deletionPolicy Retain: IAM role " + got->arn + " kept, tagged orphaned");
        Audit(pass, "role_retained", "iam_role", got->arn);
      } else {
        auto policies = iam_.ListRolePolicies(name);
        if (!policies.ok()) return transient_or_error(policies.error(), "ListRolePolicies");
        for (const auto& p : *policies) {
          auto r = iam_.DeleteRolePolicy(name, p);
          if (!r.ok() && !r.error().Is(aws::errc::kNoSuchEntity))
            return transient_or_error(r.error(), "DeleteRolePolicy");
        }
        auto attached = iam_.ListAttachedRolePolicies(name);
        if (!attached.ok()) return transient_or_error(attached.error(), "ListAttachedRolePolicies");
        for (const auto& a : *attached) {
          auto r = iam_.DetachRolePolicy(name, a.arn);
          if (!r.ok() && !r.error().Is(aws::errc::kNoSuchEntity))
            return transient_or_error(r.error(), "DetachRolePolicy");
        }
        if (!got->permissions_boundary_arn.empty()) {
          auto r = iam_.DeleteRolePermissionsBoundary(name);
          if (!r.ok() && !r.error().Is(aws::errc::kNoSuchEntity)) {
            return transient_or_error(r.error(), "DeleteRolePermissionsBoundary");
          }
        }
        auto r = iam_.DeleteRole(name);
        if (!r.ok() && !r.error().Is(aws::errc::kNoSuchEntity)) return transient_or_error(r.error(), "DeleteRole");
        Emit(pass, "Normal", "RoleDeleted", "deleted IAM role " + got->arn);
        Audit(pass, "role_deleted", "iam_role", got->arn);
      }
    }
  }
  Json updated = pass.object;
  Json remaining = Json::array();
  for (const auto& f : updated["metadata"]["finalizers"]) {
    if (!(f.is_string() && f == kFinalizer)) remaining.push_back(f);
  }
  updated["metadata"]["finalizers"] = remaining;
  auto written = kube_.Update(res::PipelineSecurityProfiles(), pass.ns, updated);
  if (!written.ok()) {
    if (kube::IsConflict(written.status())) return ReconcileResult::Requeue("finalizer removal: profile changed");
    if (kube::IsNotFound(written.status())) return ReconcileResult::Done();
    return written.status();
  }
  return ReconcileResult::Done();
}

}  // namespace pipeguard::reconcilers
