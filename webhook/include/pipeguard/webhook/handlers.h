// The admission handlers behind /validate and /mutate, and the pure mapping from an engine verdict to a reply.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pipeguard/policy/context.h"
#include "pipeguard/policy/engine.h"
#include "pipeguard/webhook/admission.h"
#include "pipeguard/webhook/image_verification.h"

namespace pipeguard::webhook {

// Wall-clock time as Unix seconds; injected so break-glass expiry is testable.
using UnixClock = std::function<std::int64_t()>;
UnixClock SystemUnixClock();

// Warnings longer than this are cut: Kubernetes may truncate warnings over 256 characters. A warning carries the
// finding's message (policy::FindingLine), so that it says why, e.g. why a break-glass request was refused.
inline constexpr size_t kMaxWarningChars = 256;
// At most this many warnings per reply; the rest are summarised in one more warning.
inline constexpr size_t kMaxWarnings = 10;
// At most this many violations are listed in a denial message; the rest are summarised.
inline constexpr size_t kMaxListedViolations = 20;

// The context of `inner`, with ConfigMapReaders answered by `readers` (an index the caller keeps over the
// cluster's workloads: the background audit's, audit::BackgroundAudit::ConfigMapReaders), so that the handlers judge
// a ConfigMap created after the governed pods that read it as part of their pipeline. TracksConfigMapReaders() is
// true. `inner` must outlive it; thread-safe as `inner` and `readers` are.
class ContextWithConfigMapReaders final : public policy::ContextProvider {
 public:
  ContextWithConfigMapReaders(const policy::ContextProvider& inner, policy::ConfigMapReaders readers)
      : inner_(inner), readers_(std::move(readers)) {}
  std::shared_ptr<const policy::ContextSnapshot> Current() const override { return inner_.Current(); }
  bool Ready() const override { return inner_.Ready(); }
  std::shared_ptr<const nlohmann::json> ConfigMap(const std::string& ns, const std::string& name) const override {
    return inner_.ConfigMap(ns, name);
  }
  std::vector<policy::ConfigMapReader> ConfigMapReaders(const std::string& ns, const std::string& name) const override {
    return readers_ ? readers_(ns, name) : std::vector<policy::ConfigMapReader>();
  }
  bool TracksConfigMapReaders() const override { return true; }

 private:
  const policy::ContextProvider& inner_;
  policy::ConfigMapReaders readers_;
};

// True when the request is evaluated by the policy engine: CREATE or UPDATE of a main resource (or of the
// pods/ephemeralcontainers subresource). DELETE, CONNECT and other subresources (status, binding, exec, ...)
// are allowed without evaluation so that pipeguard never blocks a kubelet status update or a deletion.
bool IsEvaluated(const AdmissionRequest& request);

// Builds the reply for an evaluated request from the engine's verdict, in the words of policy/verdict_text.h (the
// same as `pipeguard scan`'s): denial message (policy::DenialSummary, then each denial's policy::FindingLine and how
// to fix), warnings for audit-mode, waived and non-blocking findings ("pipeguard <disposition>: <finding line>"),
// audit annotations (decision, governed, mode, mode-source, violations, rules, profiles, break-glass-ticket). Pure
// and thread-safe.
AdmissionReply ReplyFromVerdict(const AdmissionRequest& request, const policy::Verdict& verdict);

// The /validate handler: evaluates CREATE and UPDATE with `engine` against `context.Current()`; replies
// Errored(503) while no context snapshot is loaded (fail closed). An UPDATE that policy::UnevaluatedUpdateReason
// lets through (an object being deleted, or only metadata no rule reads changed, e.g. a finalizer removed) is
// allowed without evaluation, recorded with evaluated=false and the reason (audit log, audit annotation), so a
// stored object that breaks today's rules can still be deleted. The same holds for both /validate handlers and
// /mutate (no pinning). `engine` and `context` must outlive the
// returned handler. `images` may be empty (image verification off or not available).
AdmissionHandler MakeValidatingHandler(const policy::Engine& engine, const policy::ContextProvider& context,
                                       UnixClock clock = SystemUnixClock(), policy::ImageVerdictLookup images = {});

// The /validate handler with image signature verification: when the snapshot's configuration has images.verify and
// the engine governs the object, every image of its governed pods (policy::Review::image_checks, computed once with
// the verdict's review) is verified by the snapshot's service from `verifiers` within images.deadline before the engine
// runs, so unsigned images are denied with rule unsigned-image (fail closed on registry errors). The outcomes go to the
// reply's `images` (audit log). Objects that are not governed never wait on a registry. `engine`, `context` and
// `verifiers` must outlive the handler.
AdmissionHandler MakeValidatingHandler(const policy::Engine& engine, const policy::ContextProvider& context,
                                       const ImageVerifiers& verifiers, UnixClock clock = SystemUnixClock());

// The /mutate handler without verification: allows every request with no patch.
AdmissionHandler MakeMutatingHandler();

// The /mutate handler with digest pinning: for CREATE and UPDATE of governed objects when images.verify and
// images.pinDigests are on, allows with a JSONPatch rewriting each verified tag reference to name@sha256:...
// (imageverify::DigestPinPatch); no patch when nothing is to pin. It NEVER denies: on verification failures,
// registry errors, a missing snapshot or an internal error it allows without a patch and the validating webhook
// decides. The images pinned are those /validate verifies (policy::Review::image_checks). `context` and `verifiers`
// must outlive the handler.
AdmissionHandler MakeMutatingHandler(const policy::ContextProvider& context, const ImageVerifiers& verifiers,
                                     UnixClock clock = SystemUnixClock());

}  // namespace pipeguard::webhook
