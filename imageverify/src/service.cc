#include "pipeguard/imageverify/service.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>

#include "instrumented_registry.h"
#include "pipeguard/imageverify/aws_ecr_token_source.h"
#include "pipeguard/imageverify/blocking.h"
#include "pipeguard/registry/http_registry.h"
#include "pipeguard/signatures/crypto.h"
#include "singleflight.h"

namespace pipeguard::imageverify {
namespace {

using signatures::Reason;

bool IsTransient(Reason reason) {
  return reason == Reason::kRegistryUnreachable || reason == Reason::kTimedOut || reason == Reason::kRegistryDenied;
}

// "4s", "1.5s", "250ms".
std::string FormatBudget(std::chrono::milliseconds budget) {
  const long long ms = std::max<long long>(budget.count(), 0);
  if (ms < 1000) return std::to_string(ms) + "ms";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1fs", static_cast<double>(ms) / 1000.0);
  return buffer;
}

// The part of a Verifier message after "... is not verified: ", i.e. the reason with its details.
std::string WhyFromMessage(const signatures::VerificationResult& result) {
  constexpr std::string_view kMarker = " is not verified: ";
  const size_t at = result.message.find(kMarker);
  if (at == std::string::npos) return std::string(signatures::ReasonText(result.reason));
  return result.message.substr(at + kMarker.size());
}

// Replaces a leading "timed out" with "timed out after <budget>".
std::string WithBudget(std::string why, const std::string& budget) {
  constexpr std::string_view kTimedOut = "timed out";
  if (why.rfind(kTimedOut, 0) == 0) {
    std::string out(kTimedOut);
    out.append(" after ").append(budget).append(why.substr(kTimedOut.size()));
    return out;
  }
  return why;
}

Reason ReasonForResolveError(StatusCode code) {
  switch (code) {
    case StatusCode::kNotFound:
      return Reason::kImageNotFound;
    case StatusCode::kDeadlineExceeded:
      return Reason::kTimedOut;
    case StatusCode::kPermissionDenied:
      return Reason::kRegistryDenied;
    default:
      return Reason::kRegistryUnreachable;
  }
}

// A trusted key set (all of images.keys, or a profile's subset) and the cache fingerprint of verifying with it.
// A profile's subset excludes keyless signers (images.keyless): a profile narrows trust, it never widens it.
// One attestation requirement set and whose it is ("" for the configuration's images.attestations, "profile ns/name"
// for a profile's spec.images.attestations).
using LabelledRequirements = std::vector<std::pair<std::string, signatures::AttestationRequirements>>;

struct KeyContext {
  signatures::TrustedKeySet keys;
  std::string fingerprint;  // over the key set, the keyless signers, the verifier options and the requirements
  // The keyless signers that count: the configuration's (all identities), a profile's subset, or null (none).
  std::shared_ptr<const signatures::KeylessVerification> keyless;
  // The attestations an image must also carry, every set in full; empty when none are required.
  LabelledRequirements requirements;
};

// `keyless_fingerprint`: "" when the verifier's own keyless signers count, "off" when none, or the fingerprint of a
// profile's subset.
std::string ServiceFingerprint(const signatures::TrustedKeySet& keys, const signatures::Verifier& verifier,
                               const std::string& keyless_fingerprint, const LabelledRequirements& requirements) {
  std::string canonical = "imageverify-v1\nkeys " + keys.fingerprint() + "\nverifier " + verifier.fingerprint() +
                          (keyless_fingerprint.empty()    ? "\n"
                           : keyless_fingerprint == "off" ? "\nkeyless off\n"
                                                          : "\nkeyless " + keyless_fingerprint + "\n");
  // Without requirements the fingerprint stays what it was (cache entries survive an upgrade).
  for (const auto& [label, set] : requirements) {
    canonical += "attestations " + std::to_string(label.size()) + ":" + label + " " +
                 signatures::AttestationRequirementsFingerprint(set) + "\n";
  }
  return signatures::Sha256Hex(canonical);
}

// One image of one request while it is being decided.
struct Work {
  std::string image;
  registry::ImageReference ref;
  std::shared_ptr<const KeyContext> keys;
  ImageOutcome outcome;
};

}  // namespace

std::string_view VerdictSourceName(VerdictSource source) {
  switch (source) {
    case VerdictSource::kVerification:
      return "verification";
    case VerdictSource::kShared:
      return "shared";
    case VerdictSource::kCache:
      return "cache";
    case VerdictSource::kStaleCache:
      return "stale-cache";
    case VerdictSource::kNotChecked:
      return "not-checked";
  }
  return "unknown";
}

class ImageVerificationService::Impl {
 public:
  Impl(const policy::ImagesConfig& config, ServiceOptions options, signatures::TrustedKeySet keys,
       signatures::Verifier verifier, std::shared_ptr<registry::Registry> registry, LabelledRequirements requirements)
      : config_(config),
        options_(std::move(options)),
        verifier_(std::move(verifier)),
        registry_(std::move(registry)),
        requirements_(std::move(requirements)),
        all_keys_(
            std::make_shared<const KeyContext>(KeyContext{keys, ServiceFingerprint(keys, verifier_, "", requirements_),
                                                          verifier_.options().keyless, requirements_})) {}

  const std::string& fingerprint() const { return all_keys_->fingerprint; }
  const signatures::TrustedKeySet& keys() const { return all_keys_->keys; }
  VerificationCache& cache() { return *options_.cache; }

  ImageOutcomes VerifyAll(const std::vector<std::string>& images, registry::Deadline caller_deadline,
                          const policy::KeyScope& scope);

 private:
  TimePoint Now() const { return options_.clock(); }
  // The key context of `scope` (built once per distinct scope and kept), or an error naming an unknown key.
  StatusOr<std::shared_ptr<const KeyContext>> KeysFor(const policy::KeyScope& scope);
  // The per-request deadline and its length for messages.
  struct Budget {
    registry::Deadline deadline;
    std::string text;  // "4s"
  };
  Budget MakeBudget(registry::Deadline caller_deadline) const;

  // Cache-only answer for one image (fast path); nullopt when the registry must be asked.
  std::optional<ImageOutcome> FromCache(Work& work);
  // The full decision for one image: tag resolution, cache, singleflight verification, stale fallback.
  ImageOutcome Decide(Work& work, const Budget& budget);
  // Resolves work.ref to a digest (tag cache, singleflight). On failure fills `failure` and returns nullopt.
  std::optional<std::string> ResolveDigest(Work& work, const Budget& budget, ImageOutcome& failure);
  // Verifies one digest (singleflight), caching definitive results.
  DigestVerdict VerifyDigest(const registry::ImageReference& at_digest, const KeyContext& keys, const std::string& key,
                             const Budget& budget, VerdictSource& source);

  // Repository, digest and the fingerprint of the key set and verifier options: every input to the verdict.
  static std::string VerdictKey(const Work& work, const std::string& digest) {
    std::string key = work.ref.registry;
    key.append("/").append(work.ref.repository).append("@").append(digest).append("|").append(work.keys->fingerprint);
    return key;
  }
  static std::string TagKey(const registry::ImageReference& ref) {
    std::string key = ref.registry;
    key.append("/").append(ref.repository).append(":").append(ref.tag);
    return key;
  }

  ImageOutcome Outcome(const Work& work, const DigestVerdict& verdict, VerdictSource source) const;
  ImageOutcome Failure(const Work& work, Reason reason, std::string why, std::string digest = "") const;

  const policy::ImagesConfig config_;
  const ServiceOptions options_;
  const signatures::Verifier verifier_;
  const std::shared_ptr<registry::Registry> registry_;
  const LabelledRequirements requirements_;  // the configuration's (images.attestations); empty: none
  const std::shared_ptr<const KeyContext> all_keys_;
  std::mutex scopes_mutex_;
  std::map<std::string, std::shared_ptr<const KeyContext>> scopes_;  // by KeyScope::Id(); bounded by profile count
  internal::SingleFlight<DigestVerdict> verify_flights_;
  internal::SingleFlight<StatusOr<std::string>> resolve_flights_;
};

ImageVerificationService::Impl::Budget ImageVerificationService::Impl::MakeBudget(
    registry::Deadline caller_deadline) const {
  const TimePoint now = Now();
  const TimePoint configured = now + config_.deadline;
  if (caller_deadline < configured) {
    return Budget{caller_deadline,
                  FormatBudget(std::chrono::duration_cast<std::chrono::milliseconds>(caller_deadline - now))};
  }
  return Budget{configured, FormatBudget(config_.deadline)};
}

ImageOutcome ImageVerificationService::Impl::Outcome(const Work& work, const DigestVerdict& verdict,
                                                     VerdictSource source) const {
  ImageOutcome out;
  out.image = work.image;
  out.source = source;
  out.reason = verdict.reason;
  out.key_name = verdict.key_name;
  out.format = verdict.format;
  out.signature_location = verdict.signature_location;
  out.tlog_verified = verdict.tlog_verified;
  out.attestations = verdict.attestations;
  out.verdict.verified = verdict.verified();
  out.verdict.digest = verdict.digest;
  out.verdict.reason = verdict.why;
  out.verdict.signature_verified = verdict.reason == Reason::kAttestationsNotSatisfied;
  out.message = "image " + work.image;
  if (work.ref.digest.empty()) out.message.append(" (").append(verdict.digest).append(")");
  if (verdict.verified()) {
    out.message.append(" is verified: signed by trusted key '")
        .append(verdict.key_name)
        .append("' (")
        .append(signatures::SignatureFormatName(verdict.format))
        .append(", ")
        .append(verdict.signature_location)
        .append(")");
    if (!verdict.attestations.empty()) out.message.append("; ").append(verdict.attestations);
    if (source == VerdictSource::kStaleCache) {
      out.message.append("; served from an expired cache entry because the registry could not be reached");
    } else if (source == VerdictSource::kCache) {
      out.message.append("; cached");
    }
  } else {
    out.message.append(" is not verified: ").append(verdict.why);
  }
  return out;
}

ImageOutcome ImageVerificationService::Impl::Failure(const Work& work, Reason reason, std::string why,
                                                     std::string digest) const {
  DigestVerdict verdict;
  verdict.reason = reason;
  verdict.why = std::move(why);
  verdict.digest = std::move(digest);
  return Outcome(work, verdict,
                 reason == Reason::kMalformed && verdict.digest.empty() ? VerdictSource::kNotChecked
                                                                        : VerdictSource::kVerification);
}

std::optional<ImageOutcome> ImageVerificationService::Impl::FromCache(Work& work) {
  const TimePoint now = Now();
  std::string digest = work.ref.digest;
  if (digest.empty()) {
    const auto tag = cache().FindTag(TagKey(work.ref), now);
    if (!tag || !tag->fresh) return std::nullopt;
    digest = tag->value;
  }
  const auto hit = cache().FindVerdict(VerdictKey(work, digest), now);
  if (!hit || !hit->fresh) return std::nullopt;
  // Counted only when the caches answer completely; otherwise Decide looks again and counts.
  if (work.ref.digest.empty()) options_.metrics->OnCacheLookup(CacheKind::kTag, CacheResult::kHit);
  options_.metrics->OnCacheLookup(CacheKind::kVerdict, CacheResult::kHit);
  return Outcome(work, hit->value, VerdictSource::kCache);
}

std::optional<std::string> ImageVerificationService::Impl::ResolveDigest(Work& work, const Budget& budget,
                                                                         ImageOutcome& failure) {
  if (!work.ref.digest.empty()) return work.ref.digest;
  const std::string key = TagKey(work.ref);
  const bool pinning = config_.pin_digests;
  const auto ttl = pinning ? options_.cache_policy.tag_ttl : options_.cache_policy.tag_ttl_unpinned;
  std::optional<std::string> stale;
  if (auto hit = cache().FindTag(key, Now())) {
    if (hit->fresh) {
      options_.metrics->OnCacheLookup(CacheKind::kTag, CacheResult::kHit);
      return hit->value;
    }
    stale = hit->value;
  }
  options_.metrics->OnCacheLookup(CacheKind::kTag, CacheResult::kMiss);

  const auto expired = [&] { return Now() >= budget.deadline; };
  const auto probe = [&]() -> std::optional<StatusOr<std::string>> {
    if (auto hit = cache().FindTag(key, Now()); hit && hit->fresh) return StatusOr<std::string>(hit->value);
    return std::nullopt;
  };
  const auto compute = [&]() -> StatusOr<std::string> {
    if (Now() >= budget.deadline) return Status::DeadlineExceeded("resolving the tag: the deadline passed");
    auto digest = registry_->ResolveDigest(work.ref, budget.deadline);
    if (digest.ok() && !signatures::IsSha256Digest(*digest)) {
      return Status::InvalidArgument("the registry reported a digest that is not sha256: " + digest->substr(0, 80));
    }
    if (digest.ok() && ttl.count() > 0) {
      const TimePoint now = Now();
      const auto grace = pinning ? options_.cache_policy.stale_grace : std::chrono::milliseconds(0);
      cache().PutTag(key, *digest, now + ttl, now + ttl + grace);
    }
    return digest;
  };
  const auto joined = [&] { options_.metrics->OnSharedFlight(CacheKind::kTag); };
  auto outcome = resolve_flights_.Do(key, expired, probe, compute, joined);
  if (outcome.value && outcome.value->ok()) return outcome.value->value();

  const Status status = outcome.value ? outcome.value->status()
                                      : Status::DeadlineExceeded("waiting for another admission's tag resolution");
  Reason reason = ReasonForResolveError(status.code());
  if (status.code() == StatusCode::kInvalidArgument) reason = Reason::kRegistryUnreachable;
  if (IsTransient(reason) && stale) {
    options_.metrics->OnCacheLookup(CacheKind::kTag, CacheResult::kStaleHit);
    return stale;  // pinning is on (otherwise no grace): the pod gets pinned to the digest verified below
  }
  std::string why(signatures::ReasonText(reason));
  if (reason == Reason::kTimedOut) why.append(" after ").append(budget.text);
  why.append(" (resolving the tag: ").append(status.message()).append(")");
  failure = Failure(work, reason, std::move(why));
  return std::nullopt;
}

DigestVerdict ImageVerificationService::Impl::VerifyDigest(const registry::ImageReference& at_digest,
                                                           const KeyContext& keys, const std::string& key,
                                                           const Budget& budget, VerdictSource& source) {
  const auto expired = [&] { return Now() >= budget.deadline; };
  const auto probe = [&]() -> std::optional<DigestVerdict> {
    if (auto hit = cache().FindVerdict(key, Now()); hit && hit->fresh) return hit->value;
    return std::nullopt;
  };
  const auto compute = [&]() -> DigestVerdict {
    const auto start = std::chrono::steady_clock::now();
    const signatures::VerificationResult result =
        verifier_.Verify(*registry_, at_digest, keys.keys, budget.deadline, keys.keyless.get());
    DigestVerdict verdict;
    verdict.reason = result.reason;
    verdict.digest = at_digest.digest;
    verdict.key_name = result.key_name;
    verdict.format = result.format;
    verdict.signature_location = result.signature_location;
    verdict.tlog_verified = result.tlog_verified;
    if (!result.verified) verdict.why = WithBudget(WhyFromMessage(result), budget.text);
    // The clock-dependent part of a positive verdict: it must not be cached past this (steady-clock) time.
    std::optional<TimePoint> changes_at;
    if (result.verified && !keys.requirements.empty()) {
      const std::int64_t unix_now = options_.unix_clock();
      // The first set drives discovery; the others are checked against the same verified statements.
      const signatures::AttestationResult found =
          verifier_.VerifyAttestations(*registry_, at_digest, keys.keys, keys.requirements.front().second, unix_now,
                                       budget.deadline, keys.keyless.get());
      if (found.reason != Reason::kVerified && found.reason != Reason::kAttestationsNotSatisfied) {
        verdict.reason = found.reason;  // an environment failure (transient) or an unusable digest
        verdict.why = WithBudget(found.why, budget.text);
      } else {
        std::vector<std::string> failures;
        std::optional<std::int64_t> changes_unix;
        std::string described;
        for (const auto& [label, set] : keys.requirements) {
          const signatures::AttestationCheck check = signatures::CheckAttestations(found.statements, set, unix_now);
          for (const auto& failure : check.failures)
            failures.push_back(label.empty() ? failure : label + ": " + failure);
          if (check.changes_at_unix_seconds && (!changes_unix || *check.changes_at_unix_seconds < *changes_unix)) {
            changes_unix = check.changes_at_unix_seconds;
          }
          described += (described.empty() ? "" : "; ") + (label.empty() ? "" : label + ": ") +
                       signatures::DescribeRequirements(set);
        }
        if (failures.empty()) {
          verdict.attestations = "attestations satisfy the requirements (" + described + "; " + found.evidence + ")";
          if (changes_unix) changes_at = Now() + std::chrono::seconds(*changes_unix - unix_now);
        } else {
          std::string joined;
          for (const auto& failure : failures) joined += (joined.empty() ? "" : "; ") + failure;
          verdict.reason = Reason::kAttestationsNotSatisfied;
          verdict.why =
              std::string(signatures::ReasonText(verdict.reason)) + ": " + joined + " (" + found.evidence + ")";
        }
      }
    }
    options_.metrics->OnVerification(signatures::ReasonId(verdict.reason), std::chrono::steady_clock::now() - start);
    if (!IsTransient(verdict.reason)) {  // transient failures are never cached
      const TimePoint now = Now();
      const auto& policy = options_.cache_policy;
      if (verdict.verified()) {
        TimePoint fresh_until = now + policy.positive_ttl;
        TimePoint servable_until = fresh_until + policy.stale_grace;
        if (changes_at) {
          fresh_until = std::min(fresh_until, *changes_at);
          servable_until = std::min(servable_until, *changes_at);
        }
        if (fresh_until > now) cache().PutVerdict(key, verdict, fresh_until, servable_until);
      } else {
        cache().PutVerdict(key, verdict, now + policy.negative_ttl, now + policy.negative_ttl);
      }
    }
    return verdict;
  };

  // A follower whose leader ran out of ITS time retries once while its own deadline allows.
  for (int attempt = 0;; ++attempt) {
    auto outcome = verify_flights_.Do(key, expired, probe, compute,
                                      [&] { options_.metrics->OnSharedFlight(CacheKind::kVerdict); });
    using Role = internal::FlightRole;
    if (outcome.role == Role::kLeader) {
      source = VerdictSource::kVerification;
    } else {
      source = outcome.role == Role::kProbe ? VerdictSource::kCache : VerdictSource::kShared;
    }
    if (!outcome.value) {
      DigestVerdict timed_out;
      timed_out.reason = Reason::kTimedOut;
      timed_out.digest = at_digest.digest;
      timed_out.why = "timed out after " + budget.text + " (waiting for another admission's verification of " +
                      at_digest.digest + ")";
      return timed_out;
    }
    if (outcome.role == Role::kFollower && outcome.value->reason == Reason::kTimedOut && attempt == 0 && !expired()) {
      continue;
    }
    return std::move(*outcome.value);
  }
}

ImageOutcome ImageVerificationService::Impl::Decide(Work& work, const Budget& budget) {
  ImageOutcome failure;
  const auto digest = ResolveDigest(work, budget, failure);
  if (!digest) return failure;
  registry::ImageReference at_digest = work.ref;
  at_digest.digest = *digest;
  const std::string key = VerdictKey(work, *digest);

  std::optional<DigestVerdict> stale;
  if (auto hit = cache().FindVerdict(key, Now())) {
    if (hit->fresh) {
      options_.metrics->OnCacheLookup(CacheKind::kVerdict, CacheResult::kHit);
      return Outcome(work, hit->value, VerdictSource::kCache);
    }
    if (hit->value.verified()) stale = std::move(hit->value);
  }
  options_.metrics->OnCacheLookup(CacheKind::kVerdict, CacheResult::kMiss);

  VerdictSource source = VerdictSource::kVerification;
  DigestVerdict verdict = VerifyDigest(at_digest, *work.keys, key, budget, source);
  if (IsTransient(verdict.reason) && stale) {
    options_.metrics->OnCacheLookup(CacheKind::kVerdict, CacheResult::kStaleHit);
    return Outcome(work, *stale, VerdictSource::kStaleCache);
  }
  return Outcome(work, verdict, source);
}

StatusOr<std::shared_ptr<const KeyContext>> ImageVerificationService::Impl::KeysFor(const policy::KeyScope& scope) {
  if (!scope.keys && scope.attestations.empty()) return all_keys_;
  const std::string id = scope.Id();
  std::lock_guard lock(scopes_mutex_);
  if (auto it = scopes_.find(id); it != scopes_.end()) return it->second;
  KeyContext context{all_keys_->keys, "", all_keys_->keyless, requirements_};
  std::string keyless_fingerprint;
  if (scope.keys) {
    context.keyless = nullptr;
    keyless_fingerprint = "off";
    if (scope.keyless_identities && !scope.keyless_identities->empty() && verifier_.options().keyless) {
      if (auto identities = verifier_.options().keyless->Subset(*scope.keyless_identities)) {
        keyless_fingerprint = identities->Fingerprint();
        context.keyless = std::make_shared<const signatures::KeylessVerification>(std::move(*identities));
      }
    }
    // No key named: only the profile's keyless identities can vouch (none at all verifies nothing: fail closed).
    auto subset = scope.keys->empty() && context.keyless ? signatures::TrustedKeySet::None()
                                                         : all_keys_->keys.Subset(*scope.keys);
    if (!subset.ok()) return subset.status();
    context.keys = std::move(subset).value();
  }
  for (const auto& [profile, config] : scope.attestations) {
    const std::string label = "profile " + profile;
    auto requirements = signatures::RequirementsFromConfig(config, label + " spec.images.attestations");
    if (!requirements.ok()) return requirements.status();
    context.requirements.emplace_back(label, std::move(requirements).value());
  }
  context.fingerprint = ServiceFingerprint(context.keys, verifier_, keyless_fingerprint, context.requirements);
  auto shared = std::make_shared<const KeyContext>(std::move(context));
  scopes_.emplace(id, shared);
  return shared;
}

ImageOutcomes ImageVerificationService::Impl::VerifyAll(const std::vector<std::string>& images,
                                                        registry::Deadline caller_deadline,
                                                        const policy::KeyScope& scope) {
  ImageOutcomes outcomes;
  auto keys = KeysFor(scope);
  std::vector<Work> pending;
  for (const auto& image : images) {
    if (outcomes.count(image) ||
        std::any_of(pending.begin(), pending.end(), [&](const Work& w) { return w.image == image; })) {
      continue;
    }
    Work work;
    work.image = image;
    if (!keys.ok()) {  // a restriction this configuration cannot satisfy: nothing can verify (fail closed)
      outcomes.emplace(image, Failure(work, Reason::kUntrustedKey,
                                      std::string(signatures::ReasonText(Reason::kUntrustedKey)) + " (" +
                                          keys.status().message() + ")"));
      continue;
    }
    work.keys = *keys;
    auto ref = registry::ImageReference::Parse(image);
    if (!ref.ok()) {
      outcomes.emplace(image,
                       Failure(work, Reason::kMalformed, "malformed image reference: " + ref.status().message()));
      continue;
    }
    work.ref = std::move(ref).value();
    if (auto cached = FromCache(work)) {
      outcomes.emplace(image, std::move(*cached));
      continue;
    }
    pending.push_back(std::move(work));
  }
  if (pending.empty()) return outcomes;
  if (NonBlockingScope::Active()) throw WouldBlock();  // before any registry call, thread or cache write

  const Budget budget = MakeBudget(caller_deadline);
  const size_t workers = std::min<size_t>(pending.size(), static_cast<size_t>(std::max(options_.max_parallel, 1)));
  std::atomic<size_t> next{0};
  const auto drain = [&] {
    for (size_t i = next++; i < pending.size(); i = next++) pending[i].outcome = Decide(pending[i], budget);
  };
  std::vector<std::thread> threads;
  threads.reserve(workers - 1);
  for (size_t t = 1; t < workers; ++t) threads.emplace_back(drain);
  drain();
  for (auto& thread : threads) thread.join();
  for (auto& work : pending) outcomes.emplace(work.image, std::move(work.outcome));
  return outcomes;
}

// --- ImageVerificationService ----------------------------------------------------------------------------------

StatusOr<std::shared_ptr<registry::Registry>> MakeHttpRegistry(const policy::ImagesConfig& config) {
  registry::HttpRegistryOptions options;
  options.registries = config.registries;
  // ECR hosts authenticate with GetAuthorizationToken, signed with the environment's or the pod's IRSA credentials.
  // Nothing is fetched until an ECR image is verified.
  auto ecr = MakeAwsEcrTokenSource();
  if (!ecr.ok()) return ecr.status();
  options.ecr_token_source = std::move(ecr).value();
  auto client = registry::HttpRegistry::Create(std::move(options));
  if (!client.ok()) return client.status();
  return std::shared_ptr<registry::Registry>(std::move(client).value());
}

StatusOr<std::unique_ptr<ImageVerificationService>> ImageVerificationService::Create(const policy::ImagesConfig& config,
                                                                                     ServiceOptions options) {
  if (config.deadline.count() <= 0) {
    return Status::InvalidArgument("images.deadline must be positive (e.g. 4s, well inside the webhook timeout)");
  }
  const CachePolicy& policy = options.cache_policy;
  if (policy.positive_ttl.count() < 0 || policy.negative_ttl.count() < 0 || policy.tag_ttl.count() < 0 ||
      policy.tag_ttl_unpinned.count() < 0 || policy.stale_grace.count() < 0) {
    return Status::InvalidArgument("image verification cache TTLs must not be negative");
  }
  if (policy.negative_ttl > policy.positive_ttl) {
    return Status::InvalidArgument("the negative-result cache TTL must not exceed the positive-result TTL");
  }
  auto keys = config.keys.empty() && config.keyless.configured() ? signatures::TrustedKeySet::None()
                                                                 : signatures::TrustedKeySet::Load(config.keys);
  if (!keys.ok()) return keys.status();
  if (config.keyless.configured()) {
    auto keyless = signatures::KeylessVerification::Load(config.keyless);
    if (!keyless.ok()) return keyless.status();
    options.verifier.keyless = std::make_shared<const signatures::KeylessVerification>(std::move(keyless).value());
  }
  if (!options.clock) options.clock = [] { return std::chrono::steady_clock::now(); };
  if (!options.unix_clock) {
    options.unix_clock = [] {
      return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  LabelledRequirements requirements;
  if (!config.attestations.empty()) {
    auto converted = signatures::RequirementsFromConfig(config.attestations);
    if (!converted.ok()) return converted.status();
    requirements.emplace_back("", std::move(converted).value());
  }
  if (!options.metrics) options.metrics = std::make_shared<NoopMetricsSink>();
  if (!options.cache) options.cache = std::make_shared<VerificationCache>();
  options.verifier.clock = options.clock;
  if (config.rekor.configured()) {
    auto rekor = signatures::RekorKeySet::Load(config.rekor);
    if (!rekor.ok()) return rekor.status();
    options.verifier.rekor = std::move(rekor).value();
  }
  options.verifier.require_tlog = options.verifier.require_tlog || config.rekor.required;
  auto verifier = signatures::Verifier::Create(options.verifier);
  if (!verifier.ok()) return verifier.status();
  std::shared_ptr<registry::Registry> registry = options.registry;
  if (!registry) {
    auto made = MakeHttpRegistry(config);
    if (!made.ok()) return made.status();
    registry = std::move(made).value();
  }
  registry = std::make_shared<internal::InstrumentedRegistry>(std::move(registry), options.metrics);
  auto impl = std::make_unique<Impl>(config, std::move(options), std::move(keys).value(), std::move(verifier).value(),
                                     std::move(registry), std::move(requirements));
  std::string fingerprint = impl->fingerprint();
  return std::unique_ptr<ImageVerificationService>(
      new ImageVerificationService(std::move(impl), config, std::move(fingerprint)));
}

ImageVerificationService::ImageVerificationService(std::unique_ptr<Impl> impl, policy::ImagesConfig config,
                                                   std::string fingerprint)
    : impl_(std::move(impl)), config_(std::move(config)), fingerprint_(std::move(fingerprint)) {}

ImageVerificationService::~ImageVerificationService() = default;

ImageOutcomes ImageVerificationService::VerifyAllDetailed(const std::vector<std::string>& images,
                                                          registry::Deadline deadline, const policy::KeyScope& scope) {
  return impl_->VerifyAll(images, deadline, scope);
}

ImageVerdicts ImageVerificationService::VerifyAll(const std::vector<std::string>& images, registry::Deadline deadline,
                                                  const policy::KeyScope& scope) {
  ImageVerdicts verdicts;
  for (auto& [image, outcome] : impl_->VerifyAll(images, deadline, scope)) {
    verdicts.emplace(image, std::move(outcome.verdict));
  }
  return verdicts;
}

std::map<std::string, ImageOutcomes> ImageVerificationService::VerifyChecksDetailed(
    const std::vector<policy::ImageCheck>& checks, registry::Deadline deadline) {
  std::map<std::string, std::pair<policy::KeyScope, std::vector<std::string>>> by_scope;
  for (const auto& check : checks) {
    auto& entry = by_scope[check.scope.Id()];
    entry.first = check.scope;
    entry.second.push_back(check.image);
  }
  std::map<std::string, ImageOutcomes> out;
  for (auto& [id, entry] : by_scope) out.emplace(id, impl_->VerifyAll(entry.second, deadline, entry.first));
  return out;
}

ScopedImageVerdicts ImageVerificationService::VerifyChecks(const std::vector<policy::ImageCheck>& checks,
                                                           registry::Deadline deadline) {
  ScopedImageVerdicts verdicts;
  for (auto& [id, outcomes] : VerifyChecksDetailed(checks, deadline)) {
    auto& scoped = verdicts[id];
    for (auto& [image, outcome] : outcomes) scoped.emplace(image, std::move(outcome.verdict));
  }
  return verdicts;
}

ImageVerdicts ImageVerificationService::VerifyAll(const std::vector<policy::ImageRef>& refs) {
  std::vector<std::string> images;
  images.reserve(refs.size());
  for (const auto& ref : refs) images.push_back(ref.image);
  return VerifyAll(images, registry::Deadline::max(), policy::KeyScope{});
}

ImageOutcome ImageVerificationService::Verify(const std::string& image, registry::Deadline deadline,
                                              const policy::KeyScope& scope) {
  auto outcomes = impl_->VerifyAll({image}, deadline, scope);
  return std::move(outcomes.begin()->second);
}

const signatures::TrustedKeySet& ImageVerificationService::keys() const { return impl_->keys(); }

void ImageVerificationService::ClearCache() { impl_->cache().Clear(); }

policy::ImageVerdictLookup MakeLookup(ScopedImageVerdicts verdicts) {
  auto shared = std::make_shared<const ScopedImageVerdicts>(std::move(verdicts));
  return [shared](const std::string& image, const policy::KeyScope& scope) -> std::optional<policy::ImageVerdict> {
    auto scoped = shared->find(scope.Id());
    if (scoped == shared->end()) return std::nullopt;
    auto it = scoped->second.find(image);
    if (it == scoped->second.end()) return std::nullopt;
    return it->second;
  };
}

policy::ImageVerdictLookup MakeLookup(ImageVerdicts verdicts) {
  ScopedImageVerdicts scoped;
  scoped.emplace(policy::KeyScope{}.Id(), std::move(verdicts));
  return MakeLookup(std::move(scoped));
}

}  // namespace pipeguard::imageverify
