// The PipelineSecurityProfile reconciler: level-based and idempotent (DESIGN.md, controller-runtime model). Given
// namespace/name it reads the profile, computes the desired state with the pure functions of pipeguard::desired and
// applies the difference:
//
//   1. NotFound: done. Deleting (deletionTimestamp) with our finalizer: delete the IAM role (inline policies, managed
//      policies detached, boundary, then DeleteRole; DeleteConflict requeues) or, with deletionPolicy Retain, tag it
//      pipeguard.io/orphaned=true; never touch a role that is not this profile's; then remove the finalizer.
//   2. The finalizer pipeguard.io/iam-role is added before anything else is created.
//   3. Parse errors, guardrail violations and IAM limits: Ready=False (InvalidSpec / GuardrailViolation) with the
//      message, a Warning Event, and no AWS or object writes.
//   4. IAM role (when spec.aws): GetRole; NoSuchEntity -> CreateRole + PutRolePolicy; otherwise refuse a role that is
//      not ours (AdoptionRefused), else compare canonically (trust, inline policies, managed policies, boundary,
//      ownership tags) and fix only what differs.
//   5. ServiceAccount through server-side apply (field manager "pipeguard-operator"), annotated with the role ARN once
//      the role exists; written only when it differs from the desired one.
//   6. NetworkPolicies (deny, allow): created when missing, else updated in place when they differ; never deleted.
//   7. status (observedGeneration, roleArn, roleName, serviceAccount, networkPolicies, conditions ServiceAccountReady,
//      IAMRoleReady, NetworkPolicyReady, Ready; lastTransitionTime moves only when a condition's status does) through
//      the status subresource, written only when it changed.
// Events (events.k8s.io/v1) report every change. A difference found after the profile had converged at its current
// generation (status.observedGeneration == metadata.generation and Ready=True) is drift: it is reverted, with a
// Warning Event, pipeguard_operator_drift_reverted_total{kind} and one JSON audit line.
//
// A second reconcile of an unchanged, converged profile makes no write at all (Kubernetes or IAM).
//
// Reads: with an ObjectCache attached (UseCache; the ProfileController attaches its informers), a converged profile
// (Ready at its generation, finalizer present, not deleting) and its ServiceAccount and NetworkPolicies are read from
// the cache, so a steady-state reconcile makes no Kubernetes API call at all (IAM is always read: it has no watch).
// Anything else is read from the API server, and every write is preceded by a fresh read from the API server and a
// second diff (controller::ReadForDiff / ConfirmLive), so a stale cache never causes a write; it can only delay a fix
// until the informer event that enqueues the profile again. Services resolved for egress come from the cache too.
// Thread-safe: Reconcile may run concurrently for different keys (the controller never runs one key twice at once).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "pipeguard/aws/iam_limits.h"
#include "pipeguard/controller/controller.h"
#include "pipeguard/controller/object_cache.h"
#include "pipeguard/desired/iam_role.h"
#include "pipeguard/guardrails/config.h"
#include "pipeguard/kube/client.h"
#include "pipeguard/kube/clock.h"
#include "pipeguard/reconcilers/iam_api.h"
#include "pipeguard/reconcilers/metrics.h"

namespace pipeguard::reconcilers {

inline constexpr std::string_view kFinalizer = "pipeguard.io/iam-role";
inline constexpr std::string_view kFieldManager = "pipeguard-operator";

// What the controller does with the key after a reconcile (controller.h).
using ReconcileResult = controller::Result;

// The reconcile contract the controller drives. An error Status is retried with backoff.
class Reconciler {
 public:
  virtual ~Reconciler() = default;
  virtual StatusOr<ReconcileResult> Reconcile(const std::string& namespace_, const std::string& name) = 0;
  // Offers the controller's informer caches for reads (nullptr withdraws them). `cache` must stay valid until it
  // is withdrawn; may be called while reconciles run. The default ignores it.
  virtual void UseCache(const controller::ObjectCache* cache) { (void)cache; }
};

// One structured audit record (drift reverted, adoption refused, role deleted): a JSON object with "audit" (the
// event), "namespace", "profile", "kind", "detail". Never contains secrets.
using AuditSink = std::function<void(const nlohmann::json& record)>;
// Writes each record as one JSON line through spdlog at warn level.
AuditSink SpdlogAuditSink();

struct ProfileReconcilerOptions {
  guardrails::OperatorConfig config;
  aws::IamLimits limits;
  std::string reporting_instance = "pipeguard-operator";  // Event reportingInstance (the pod name)
  OperatorMetrics* metrics = nullptr;                     // optional; must outlive the reconciler
  AuditSink audit;                                        // empty: SpdlogAuditSink()
};

class ProfileReconciler final : public Reconciler {
 public:
  // `kube`, `iam` and `clock` must outlive the reconciler.
  ProfileReconciler(kube::KubeClient& kube, IamApi& iam, ProfileReconcilerOptions options,
                    const kube::Clock& clock = kube::SystemClock());
  StatusOr<ReconcileResult> Reconcile(const std::string& namespace_, const std::string& name) override;
  void UseCache(const controller::ObjectCache* cache) override { cache_.store(cache); }

 private:
  struct Pass;
  StatusOr<ReconcileResult> ReconcileDeletion(Pass& pass);
  StatusOr<ReconcileResult> ReconcileRole(Pass& pass, std::optional<std::string>* role_arn);
  // A role that exists but is not this profile's: IAMRoleReady=False, and a Warning Event the first time.
  void RefuseAdoption(Pass& pass, const aws::Role& role, desired::RoleOwnership ownership);
  Status ReconcileServiceAccount(Pass& pass, const std::optional<std::string>& role_arn);
  Status ReconcileNetworkPolicies(Pass& pass);
  Status WriteStatus(Pass& pass);
  void Emit(Pass& pass, std::string_view type, std::string_view reason, std::string note);
  void DriftReverted(Pass& pass, std::string_view kind, const std::string& detail);
  void Audit(Pass& pass, std::string_view event, std::string_view kind, const std::string& detail);
  // The object for a diff, through controller::ReadForDiff with this reconciler's cache (object_cache.h).
  StatusOr<controller::Observed> Read(const kube::Resource& resource, const std::string& ns, const std::string& name,
                                      const controller::NeedsWrite& needs_write);

  kube::KubeClient& kube_;
  IamApi& iam_;
  const ProfileReconcilerOptions options_;
  const kube::Clock& clock_;
  AuditSink audit_;
  std::atomic<const controller::ObjectCache*> cache_{nullptr};
};

}  // namespace pipeguard::reconcilers
