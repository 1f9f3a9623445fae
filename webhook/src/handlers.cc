#include "pipeguard/webhook/handlers.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>
#include <utility>

#include "pipeguard/base/text.h"
#include "pipeguard/base/thread_cpu.h"
#include "pipeguard/imageverify/pinning.h"
#include "pipeguard/policy/verdict_text.h"

namespace pipeguard::webhook {

namespace {

using base::TruncateUtf8;

std::string Join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::string ObjectName(const AdmissionRequest& request) {
  std::string name = request.kind.empty() ? std::string("object") : request.kind;
  name += " ";
  if (!request.namespace_.empty()) name += request.namespace_ + "/";
  name += request.name.empty() ? std::string("(unnamed)") : request.name;
  return name;
}

// The denial message: the verdict's DenialSummary, then each listed denial's FindingLine (policy/verdict_text.h).
std::string FormatDenial(const AdmissionRequest& request, const policy::Verdict& verdict) {
  const size_t total = verdict.DenialCount();  // listed or not
  std::string message = "pipeguard denied " + ObjectName(request) + ": " + policy::DenialSummary(verdict);
  size_t listed = 0;
  for (const policy::Violation* v : verdict.Denials()) {
    if (listed == kMaxListedViolations) break;
    message += "\n- " + policy::FindingLine(*v);
    ++listed;
  }
  if (total > listed) {
    // The audit log lists what the verdict lists; beyond that only the count is known.
    message += "\n- ... and " + std::to_string(total - listed) +
               (verdict.unlisted.count > 0
                    ? " more (the audit log lists the first " + std::to_string(policy::kMaxReportedViolations) +
                          "; fix those and apply again to see the rest)"
                    : " more (see the audit log)");
  }
  message +=
      "\nFix the fields above and apply again. Literal secrets belong in a Secret referenced with "
      "valueFrom.secretKeyRef; an urgent exception needs the break-glass annotations (docs/break-glass.md).";
  return message;
}

// One warning per listed finding that does not deny: "pipeguard <Describe(disposition)>: <FindingLine>", so a
// refused break-glass request says why, as `pipeguard scan` does.
std::vector<std::string> FormatWarnings(const policy::Verdict& verdict) {
  std::vector<std::string> all;
  for (const auto& v : verdict.violations) {
    const policy::Disposition disposition = policy::DispositionOf(verdict, v);
    if (disposition == policy::Disposition::kDenies) continue;  // in the denial message
    all.push_back(TruncateUtf8(
        "pipeguard " + std::string(policy::Describe(disposition)) + ": " + policy::FindingLine(v), kMaxWarningChars));
  }
  // Unlisted violations that would be warnings too (all of them in audit mode).
  const size_t unlisted =
      verdict.unlisted.count - (verdict.mode == policy::Mode::kEnforce ? verdict.unlisted.denials : 0);
  if (all.size() + unlisted <= kMaxWarnings) return all;
  const size_t rest = all.size() + unlisted - std::min(all.size(), kMaxWarnings - 1);
  all.resize(std::min(all.size(), kMaxWarnings - 1));
  all.push_back("pipeguard: " + std::to_string(rest) + " more findings; see the webhook audit log");
  return all;
}

policy::RequestInfo RequestInfoOf(const AdmissionRequest& request, const UnixClock& clock) {
  policy::RequestInfo info;
  info.operation = request.operation;
  info.username = request.username;
  info.groups = request.groups;
  info.namespace_ = request.namespace_;
  info.kind = request.kind;
  info.now_unix_seconds = clock();
  return info;
}

std::string_view SourceLabel(imageverify::VerdictSource source) {
  switch (source) {
    case imageverify::VerdictSource::kVerification:
    case imageverify::VerdictSource::kShared:
      return "fresh";
    case imageverify::VerdictSource::kCache:
      return "cached";
    case imageverify::VerdictSource::kStaleCache:
      return "stale";
    case imageverify::VerdictSource::kNotChecked:
      return "not_checked";
  }
  return "unknown";
}

// The verification of the images of a governed object: verdicts for the engine (by key scope) and for pinning
// (by image: verified only if verified in every scope it was checked in), audit records.
struct ImageVerification {
  imageverify::ScopedImageVerdicts scoped;
  imageverify::ImageVerdicts verdicts;
  std::vector<ReplyImage> audit;
};

// Verifies every (image, key scope) of a review's image_checks(): a pod selected by a profile with
// spec.images.trustedKeys is verified with only those keys.
// The deadline is the request's (the API server's ?timeout=) when it is sooner than now + images.deadline.
ImageVerification VerifyImages(imageverify::ImageVerificationService& service,
                               const std::vector<policy::ImageCheck>& checks,
                               std::chrono::steady_clock::time_point request_deadline) {
  // The service caps the deadline at now + images.deadline; the same bound is passed explicitly here.
  registry::Deadline deadline = std::chrono::steady_clock::now() + service.config().deadline;
  if (request_deadline != std::chrono::steady_clock::time_point{}) deadline = std::min(deadline, request_deadline);
  ImageVerification result;
  for (auto& [scope_id, outcomes] : service.VerifyChecksDetailed(checks, deadline)) {
    for (auto& [image, outcome] : outcomes) {
      result.audit.push_back({image, outcome.verdict.digest, outcome.verdict.verified,
                              std::string(SourceLabel(outcome.source)), outcome.key_name, outcome.verdict.reason});
      auto [it, inserted] = result.verdicts.emplace(image, outcome.verdict);
      if (!inserted && !outcome.verdict.verified) it->second = outcome.verdict;
      result.scoped[scope_id].emplace(image, std::move(outcome.verdict));
    }
  }
  return result;
}

// An UPDATE that needs no evaluation (policy::UnevaluatedUpdateReason): allowed, recorded as not evaluated.
std::optional<AdmissionReply> UnevaluatedUpdate(const AdmissionRequest& request) {
  if (request.operation != "UPDATE" || request.old_object.is_null()) return std::nullopt;
  std::optional<std::string> reason = policy::UnevaluatedUpdateReason(request.old_object, request.object.json());
  if (!reason) return std::nullopt;
  AdmissionReply reply = Allowed(request.uid);
  reply.not_evaluated_reason = std::move(*reason);
  reply.audit_annotations["decision"] = "allowed";
  reply.audit_annotations["evaluated"] = "false";
  reply.audit_annotations["not-evaluated"] = reply.not_evaluated_reason;
  return reply;
}

}  // namespace

UnixClock SystemUnixClock() {
  return [] {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
}

namespace {

// The provider's ConfigMaps, for the ConfigMaps that governed pods mount (informer cache or context files).
policy::ConfigMapLookup ConfigMapsOf(const policy::ContextProvider& context) {
  return [&context](const std::string& ns, const std::string& name) { return context.ConfigMap(ns, name); };
}

// The engine's work budget for one request: reviewBudget of this thread's CPU time, and the API server's deadline
// (a verdict after it would not be read).
policy::WorkBudget BudgetFor(const policy::ContextSnapshot& snapshot, const AdmissionRequest& request) {
  const std::chrono::milliseconds cpu = snapshot.config().review_budget;
  std::string description = std::to_string(cpu.count()) + " ms of CPU";
  if (request.deadline != std::chrono::steady_clock::time_point{}) description += " or the API server's timeout";
  return {base::CpuBudgetExhausted(cpu, request.deadline), std::move(description)};
}

// The objects the provider knows to read a ConfigMap (the background audit's index), for a ConfigMap's own review.
policy::ConfigMapReaders ConfigMapReadersOf(const policy::ContextProvider& context) {
  return [&context](const std::string& ns, const std::string& name) { return context.ConfigMapReaders(ns, name); };
}

// A warning per ConfigMap a governed pod reads that does not exist yet: its files could not be judged with the pod.
// With an index of ConfigMap readers (the background audit) the ConfigMap's own admission judges them as read by
// this pod; without one, only a pipeline label (or a selector) makes it governed.
AdmissionReply WithUnresolvedConfigMaps(AdmissionReply reply, const policy::Review& review,
                                        const policy::ContextProvider& context) {
  for (const auto& name : review.unresolved_config_maps()) {
    reply.warnings.push_back(
        "pipeguard: ConfigMap " + name + ", which the pod reads, does not exist yet, so its files were not checked " +
        (context.TracksConfigMapReaders()
             ? std::string("with the pod (the pod cannot start until it exists; its own admission checks them as "
                           "read by this pod)")
             : std::string("with the pod (the pod cannot start until it exists; label it pipeguard.io/pipeline so "
                           "that its own admission checks them)")));
  }
  return reply;
}

}  // namespace

bool IsEvaluated(const AdmissionRequest& request) {
  if (request.operation != "CREATE" && request.operation != "UPDATE") return false;
  return request.sub_resource.empty() || request.sub_resource == "ephemeralcontainers";
}

AdmissionReply ReplyFromVerdict(const AdmissionRequest& request, const policy::Verdict& verdict) {
  AdmissionReply reply = verdict.allowed ? Allowed(request.uid) : Denied(request.uid, FormatDenial(request, verdict));
  reply.evaluated = true;
  reply.governed = verdict.governed;
  reply.mode = std::string(policy::ToString(verdict.mode));
  reply.mode_source = verdict.mode_source;
  reply.profiles = verdict.profiles;
  reply.break_glass_ticket = verdict.break_glass_ticket;
  std::set<std::string> rules;
  for (const auto& v : verdict.violations) {
    reply.findings.push_back({v.rule, v.path, std::string(policy::ToString(v.severity)), v.blocking, v.waived});
    rules.insert(v.rule);
  }
  for (const auto& [rule, count] : verdict.unlisted.by_rule) {
    rules.insert(rule);
    reply.unlisted_rules.push_back(rule);
  }
  reply.unlisted_findings = verdict.unlisted.count;
  reply = WithWarnings(std::move(reply), FormatWarnings(verdict));

  reply.audit_annotations["decision"] = std::string(ToString(reply.decision));
  reply.audit_annotations["governed"] = verdict.governed ? "true" : "false";
  if (verdict.governed) {
    reply.audit_annotations["mode"] = reply.mode;
    if (!verdict.mode_source.empty()) reply.audit_annotations["mode-source"] = TruncateUtf8(verdict.mode_source, 256);
    reply.audit_annotations["violations"] = std::to_string(verdict.ViolationCount());
    if (!rules.empty()) {
      reply.audit_annotations["rules"] = TruncateUtf8(Join({rules.begin(), rules.end()}, ","), 256);
    }
    if (!verdict.profiles.empty()) reply.audit_annotations["profiles"] = TruncateUtf8(Join(verdict.profiles, ","), 256);
    if (verdict.break_glass_ticket) reply.audit_annotations["break-glass-ticket"] = *verdict.break_glass_ticket;
  }
  return reply;
}

AdmissionHandler MakeValidatingHandler(const policy::Engine& engine, const policy::ContextProvider& context,
                                       UnixClock clock, policy::ImageVerdictLookup images) {
  return [&engine, &context, clock = std::move(clock),
          images = std::move(images)](const AdmissionRequest& request) -> AdmissionReply {
    if (!IsEvaluated(request)) {
      AdmissionReply reply = Allowed(request.uid);
      reply.audit_annotations["decision"] = "allowed";
      reply.audit_annotations["evaluated"] = "false";
      return reply;
    }
    if (auto unevaluated = UnevaluatedUpdate(request)) return std::move(*unevaluated);
    const std::shared_ptr<const policy::ContextSnapshot> snapshot = context.Current();
    if (snapshot == nullptr) {
      return Errored(request.uid, 503,
                     "pipeguard has not loaded its policy context yet; the request was not admitted, retry shortly");
    }
    const policy::Review review = policy::PrepareReview(request.object, RequestInfoOf(request, clock), *snapshot,
                                                        ConfigMapsOf(context), ConfigMapReadersOf(context));
    const policy::Verdict verdict = engine.Evaluate(review, images, BudgetFor(*snapshot, request));
    return WithUnresolvedConfigMaps(ReplyFromVerdict(request, verdict), review, context);
  };
}

AdmissionHandler MakeValidatingHandler(const policy::Engine& engine, const policy::ContextProvider& context,
                                       const ImageVerifiers& verifiers, UnixClock clock) {
  return [&engine, &context, &verifiers, clock = std::move(clock)](const AdmissionRequest& request) -> AdmissionReply {
    if (!IsEvaluated(request)) {
      AdmissionReply reply = Allowed(request.uid);
      reply.audit_annotations["decision"] = "allowed";
      reply.audit_annotations["evaluated"] = "false";
      return reply;
    }
    if (auto unevaluated = UnevaluatedUpdate(request)) return std::move(*unevaluated);
    const std::shared_ptr<const policy::ContextSnapshot> snapshot = context.Current();
    if (snapshot == nullptr) {
      return Errored(request.uid, 503,
                     "pipeguard has not loaded its policy context yet; the request was not admitted, retry shortly");
    }
    const policy::Review review = policy::PrepareReview(request.object, RequestInfoOf(request, clock), *snapshot,
                                                        ConfigMapsOf(context), ConfigMapReadersOf(context));
    const std::shared_ptr<imageverify::ImageVerificationService> service = verifiers.For(*snapshot);
    std::optional<ImageVerification> images;
    if (service != nullptr && snapshot->config().images.verify && review.governed()) {
      images = VerifyImages(*service, review.image_checks(), request.deadline);
    }
    // Without a verification (images.verify off, or not governed) the engine gets no lookup: with verify on it
    // fails closed for any image it would check.
    const policy::ImageVerdictLookup lookup = images ? imageverify::MakeLookup(images->scoped) : nullptr;
    const policy::Verdict verdict = engine.Evaluate(review, lookup, BudgetFor(*snapshot, request));
    AdmissionReply reply = WithUnresolvedConfigMaps(ReplyFromVerdict(request, verdict), review, context);
    if (images) reply.images = std::move(images->audit);
    return reply;
  };
}

AdmissionHandler MakeMutatingHandler() {
  return [](const AdmissionRequest& request) { return Allowed(request.uid); };
}

AdmissionHandler MakeMutatingHandler(const policy::ContextProvider& context, const ImageVerifiers& verifiers,
                                     UnixClock clock) {
  return [&context, &verifiers, clock = std::move(clock)](const AdmissionRequest& request) -> AdmissionReply {
    AdmissionReply reply = Allowed(request.uid);
    if (!IsEvaluated(request)) return reply;
    if (auto unevaluated = UnevaluatedUpdate(request)) return std::move(*unevaluated);  // nothing to pin either
    try {
      const std::shared_ptr<const policy::ContextSnapshot> snapshot = context.Current();
      if (snapshot == nullptr) return reply;  // /validate replies 503 for this request
      const policy::ImagesConfig& config = snapshot->config().images;
      if (!config.verify || !config.pin_digests) return reply;
      const std::shared_ptr<imageverify::ImageVerificationService> service = verifiers.For(*snapshot);
      if (service == nullptr) return reply;
      const policy::Review review = policy::PrepareReview(request.object, RequestInfoOf(request, clock), *snapshot);
      if (!review.governed()) return reply;
      reply.evaluated = true;
      reply.governed = true;
      std::vector<policy::ImageRef> refs;
      for (const auto& check : review.image_checks()) refs.push_back(policy::ImageRef{check.image, check.path});
      ImageVerification images = VerifyImages(*service, review.image_checks(), request.deadline);
      const nlohmann::json patch = imageverify::DigestPinPatch(request.object.json(), refs, images.verdicts);
      reply.images = std::move(images.audit);
      if (patch.is_array() && !patch.empty()) {
        reply.json_patch = patch.dump();
        reply.audit_annotations["pinned-images"] = std::to_string(patch.size());
      }
    } catch (const std::exception&) {
      // Never deny from /mutate: the validating webhook decides. Nothing request-specific is logged here.
      spdlog::error("digest pinning failed with an internal error; the request is admitted unpinned");
      AdmissionReply unpinned = Allowed(request.uid);
      return unpinned;
    }
    return reply;
  };
}

}  // namespace pipeguard::webhook
