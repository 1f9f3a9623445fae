#include "pipeguard/webhook/image_verification.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace pipeguard::webhook {

namespace {

// 1 ms .. 10 s: a verification is a handful of registry round trips; the webhook deadline is a few seconds.
const prometheus::Histogram::BucketBoundaries& DurationBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                                   0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
  return kBuckets;
}

// Label value of a registry call's outcome.
std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kInvalidArgument:
      return "invalid_argument";
    case StatusCode::kNotFound:
      return "not_found";
    case StatusCode::kUnavailable:
      return "unavailable";
    case StatusCode::kDeadlineExceeded:
      return "deadline_exceeded";
    case StatusCode::kPermissionDenied:
      return "permission_denied";
    case StatusCode::kFailedPrecondition:
      return "failed_precondition";
    case StatusCode::kInternal:
      return "internal";
  }
  return "unknown";
}

double Seconds(std::chrono::nanoseconds duration) { return std::chrono::duration<double>(duration).count(); }

bool SameKeys(const std::vector<policy::TrustedKey>& a, const std::vector<policy::TrustedKey>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].path != b[i].path || a[i].public_key_pem != b[i].public_key_pem) return false;
  }
  return true;
}

bool SameRegistries(const std::vector<policy::RegistryConfig>& a, const std::vector<policy::RegistryConfig>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].host != b[i].host || a[i].ca_file != b[i].ca_file || a[i].insecure != b[i].insecure ||
        a[i].credentials_file != b[i].credentials_file) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool SameKeylessIdentities(const std::vector<policy::KeylessIdentityConfig>& a,
                           const std::vector<policy::KeylessIdentityConfig>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.name == y.name && x.subject == y.subject && x.subject_regexp == y.subject_regexp && x.issuer == y.issuer &&
           x.issuer_regexp == y.issuer_regexp && x.extensions == y.extensions;
  });
}

bool SameImagesConfig(const policy::ImagesConfig& a, const policy::ImagesConfig& b) {
  return a.verify == b.verify && a.allowed_registries == b.allowed_registries && SameKeys(a.keys, b.keys) &&
         SameKeys(a.rekor.public_keys, b.rekor.public_keys) && a.rekor.trusted_root_file == b.rekor.trusted_root_file &&
         a.rekor.required == b.rekor.required && SameRegistries(a.registries, b.registries) &&
         a.pin_digests == b.pin_digests && a.deadline == b.deadline &&
         a.keyless.trusted_root_file == b.keyless.trusted_root_file && a.keyless.require_sct == b.keyless.require_sct &&
         SameKeylessIdentities(a.keyless.identities, b.keyless.identities);
}

PrometheusImageMetrics::PrometheusImageMetrics(prometheus::Registry& registry) {
  verifications_ = &prometheus::BuildCounter()
                        .Name("pipeguard_imageverify_verifications_total")
                        .Help("Image signature verifications that ran against a registry, by result.")
                        .Register(registry);
  verification_duration_ = &prometheus::BuildHistogram()
                                .Name("pipeguard_imageverify_verification_duration_seconds")
                                .Help("Duration of image signature verifications that ran against a registry.")
                                .Register(registry)
                                .Add({}, DurationBuckets());
  cache_lookups_ = &prometheus::BuildCounter()
                        .Name("pipeguard_imageverify_cache_lookups_total")
                        .Help("Lookups in the verdict and tag caches, by cache and result (hit, miss, stale_hit).")
                        .Register(registry);
  shared_flights_ = &prometheus::BuildCounter()
                         .Name("pipeguard_imageverify_shared_flights_total")
                         .Help("Admissions that joined a verification or tag resolution already in flight.")
                         .Register(registry);
  registry_duration_ = &prometheus::BuildHistogram()
                            .Name("pipeguard_imageverify_registry_request_duration_seconds")
                            .Help("Latency of registry calls by registry host, operation and status code.")
                            .Register(registry);
  for (auto cache : {imageverify::CacheKind::kVerdict, imageverify::CacheKind::kTag}) {
    for (auto result :
         {imageverify::CacheResult::kHit, imageverify::CacheResult::kMiss, imageverify::CacheResult::kStaleHit}) {
      cache_lookups_->Add({{"cache", std::string(imageverify::CacheKindName(cache))},
                           {"result", std::string(imageverify::CacheResultName(result))}});
    }
  }
}

void PrometheusImageMetrics::OnVerification(std::string_view result, std::chrono::nanoseconds duration) {
  try {
    verifications_->Add({{"result", std::string(result)}}).Increment();
    verification_duration_->Observe(Seconds(duration));
  } catch (...) {  // the sink must not throw (allocation failure); a lost sample is acceptable
  }
}

void PrometheusImageMetrics::OnCacheLookup(imageverify::CacheKind cache, imageverify::CacheResult result) {
  try {
    cache_lookups_
        ->Add({{"cache", std::string(imageverify::CacheKindName(cache))},
               {"result", std::string(imageverify::CacheResultName(result))}})
        .Increment();
  } catch (...) {
  }
}

void PrometheusImageMetrics::OnSharedFlight(imageverify::CacheKind what) {
  try {
    shared_flights_->Add({{"what", std::string(imageverify::CacheKindName(what))}}).Increment();
  } catch (...) {
  }
}

void PrometheusImageMetrics::OnRegistryCall(std::string_view registry, std::string_view operation, StatusCode code,
                                            std::chrono::nanoseconds latency) {
  try {
    std::string host(registry);
    {
      std::lock_guard lock(hosts_mutex_);
      if (!hosts_.contains(host)) {
        if (hosts_.size() >= kMaxRegistryLabels) {
          host = "other";
        } else {
          hosts_.insert(host);
        }
      }
    }
    registry_duration_
        ->Add({{"registry", host}, {"operation", std::string(operation)}, {"code", std::string(StatusCodeName(code))}},
              DurationBuckets())
        .Observe(Seconds(latency));
  } catch (...) {
  }
}

ImageVerifiers::ImageVerifiers(imageverify::ServiceOptions base) : base_(std::move(base)) {
  if (base_.cache == nullptr) base_.cache = std::make_shared<imageverify::VerificationCache>();
}

ImageVerifiers::~ImageVerifiers() = default;

Status ImageVerifiers::Prepare(const std::shared_ptr<const policy::ContextSnapshot>& snapshot) {
  if (snapshot == nullptr) return Status::InvalidArgument("no policy context snapshot to prepare");
  const policy::ImagesConfig& images = snapshot->config().images;
  std::shared_ptr<imageverify::ImageVerificationService> service;
  {
    std::lock_guard lock(mutex_);
    if (images.verify && newest_ != nullptr && SameImagesConfig(newest_->config(), images)) service = newest_;
  }
  if (images.verify && service == nullptr) {
    auto created = imageverify::ImageVerificationService::Create(images, base_);
    if (!created.ok()) {
      return Status(created.status().code(), "image verification (images.*): " + created.status().message());
    }
    service = std::move(created).value();
    spdlog::info(
        "image signature verification on: {} trusted keys, {} keyless identities, deadline {} ms, digest pinning {}, "
        "Rekor {}",
        images.keys.size(), images.keyless.identities.size(), images.deadline.count(),
        images.pin_digests ? "on" : "off",
        !images.rekor.configured() ? "not checked"
        : images.rekor.required    ? "required"
                                   : "checked if present");
  }
  std::lock_guard lock(mutex_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = it->second.snapshot.expired() ? entries_.erase(it) : std::next(it);
  }
  entries_[snapshot.get()] = Entry{snapshot, service};
  newest_ = service;
  return Status::Ok();
}

std::shared_ptr<imageverify::ImageVerificationService> ImageVerifiers::For(
    const policy::ContextSnapshot& snapshot) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(&snapshot);
  if (it == entries_.end()) return nullptr;
  // The caller holds `snapshot`, so a live entry at its address is this snapshot's (not a reused address).
  if (it->second.snapshot.expired()) return nullptr;
  return it->second.service;
}

}  // namespace pipeguard::webhook
