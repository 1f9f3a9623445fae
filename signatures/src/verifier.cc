#include "pipeguard/signatures/verifier.h"

#include <algorithm>
#include <map>
#include <optional>

#include "json_util.h"

namespace pipeguard::signatures {
namespace {

using registry::Deadline;
using registry::ImageReference;

constexpr std::string_view kSimpleSigningLayerType = "application/vnd.dev.cosign.simplesigning.v1+json";
constexpr std::string_view kCosignArtifactSigType = "application/vnd.dev.cosign.artifact.sig.v1+json";
constexpr std::string_view kBundleMediaTypePrefix = "application/vnd.dev.sigstore.bundle";
constexpr std::string_view kEmptyMediaType = "application/vnd.oci.empty.v1+json";
constexpr std::string_view kSignatureAnnotation = "dev.cosignproject.cosign/signature";
constexpr std::string_view kCertificateAnnotation = "dev.sigstore.cosign/certificate";
constexpr std::string_view kRekorBundleAnnotation = "dev.sigstore.cosign/bundle";
// Unsigned: orders and skips referrers, never accepts one.
constexpr std::string_view kBundlePredicateTypeAnnotation = "dev.sigstore.bundle.predicateType";

bool StartsWith(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

bool IsIndexMediaType(std::string_view media_type) {
  return media_type == "application/vnd.oci.image.index.v1+json" ||
         media_type == "application/vnd.docker.distribution.manifest.list.v2+json";
}

// Environment failures stop a discovery path; their reasons outrank signature-level ones in the final verdict
// because the missing part might have held a valid signature.
bool IsEnvironmentReason(Reason reason) {
  return reason == Reason::kTimedOut || reason == Reason::kRegistryUnreachable || reason == Reason::kRegistryDenied;
}

Reason ReasonForRegistryError(const Status& status) {
  switch (status.code()) {
    case StatusCode::kDeadlineExceeded:
      return Reason::kTimedOut;
    case StatusCode::kPermissionDenied:
      return Reason::kRegistryDenied;
    case StatusCode::kInvalidArgument:  // a body that fails its digest or a limit
    case StatusCode::kNotFound:         // a referenced manifest or blob is missing; callers handle absent tags
      return Reason::kMalformed;
    default:
      return Reason::kRegistryUnreachable;
  }
}

struct Descriptor {
  std::string media_type;
  std::string artifact_type;
  std::string digest;
  int64_t size = -1;
  const nlohmann::json* annotations = nullptr;
};

std::optional<Descriptor> ParseDescriptor(const nlohmann::json& json) {
  if (!json.is_object()) return std::nullopt;
  Descriptor descriptor;
  descriptor.media_type = StringMember(json, "mediaType").value_or("");
  descriptor.artifact_type = StringMember(json, "artifactType").value_or("");
  const auto digest = StringMember(json, "digest");
  if (!digest) return std::nullopt;
  descriptor.digest = *digest;
  descriptor.size = Int64Member(json, "size").value_or(-1);
  descriptor.annotations = Member(json, "annotations");
  return descriptor;
}

std::optional<std::string> Annotation(const Descriptor& descriptor, std::string_view key) {
  if (descriptor.annotations == nullptr) return std::nullopt;
  return StringMember(*descriptor.annotations, key);
}

// One verification: the state shared by the discovery paths.
class Run {
 public:
  // `attestations`: collect verified attestations (every candidate is examined) instead of stopping at the first
  // verified image signature.
  Run(const VerifierOptions& options, const CheckOptions& checks, registry::Registry& registry,
      const TrustedKeySet& keys, Deadline deadline, const KeylessTrust* keyless, bool attestations = false)
      : options_(options),
        checks_(checks),
        registry_(registry),
        keys_(keys),
        keyless_(keyless),
        deadline_(deadline),
        attestations_(attestations) {}

  VerificationResult Execute(const ImageReference& image);
  AttestationResult ExecuteAttestations(const ImageReference& image, const AttestationRequirements& requirements,
                                        std::int64_t now_unix_seconds);

 private:
  // False (with the path's environment failure recorded) when the deadline has passed.
  bool TimeLeft(std::string_view what);
  void RecordPathFailure(std::string_view what, Reason reason, const std::string& message);
  bool Done() const { return !attestations_ && accepted_.has_value(); }
  // Resolves the image to digest_ (and at_digest_); false after recording a path failure.
  bool Resolve(const ImageReference& image);
  void DiscoverLegacyAttestations();
  // Records a verified attestation's statement (payload): kept when it parses, is not an image signature and names
  // the digest; otherwise a finding says why it is ignored.
  void AddAttestation(SignatureFormat format, std::string location, SignatureCheck check, const std::string& payload);
  size_t BlobLimit() const { return attestations_ ? options_.max_attestation_bytes : options_.max_bundle_bytes; }
  void AddFinding(SignatureFormat format, std::string location, SignatureCheck check);

  void DiscoverBundles();
  void DiscoverLegacy();
  // Examines the layers of a simple-signing manifest (legacy tag, or an OCI 1.1 cosign artifact referrer).
  // False when an environment failure aborted the path.
  bool CheckSimpleSigningManifest(const nlohmann::json& manifest, const std::string& location_prefix);
  // Fetches a blob of at most `max_bytes` and checks its digest and declared size; nullopt with a finding or a
  // path failure recorded otherwise. `aborted` is set on environment failures.
  std::optional<std::string> FetchBlob(const Descriptor& layer, size_t max_bytes, SignatureFormat format,
                                       const std::string& location, bool& aborted);
  // Fetches and digest-checks a manifest by digest; nullopt after recording a finding or a path failure.
  std::optional<nlohmann::json> FetchManifest(const std::string& digest, SignatureFormat format,
                                              const std::string& location, bool& aborted);

  VerificationResult Finish();

  const VerifierOptions& options_;
  const CheckOptions& checks_;
  registry::Registry& registry_;
  const TrustedKeySet& keys_;
  const KeylessTrust* keyless_;  // null: keyless signatures are refused
  const Deadline deadline_;
  const bool attestations_;
  std::vector<InTotoStatement> statements_;  // attestation mode: verified statements for digest_
  size_t attestation_bytes_ = 0;             // attestation mode: blob bytes fetched so far

  ImageReference at_digest_;
  std::string digest_;
  std::string display_;
  std::vector<SignatureFinding> findings_;
  std::optional<size_t> accepted_;  // index into findings_
  struct PathFailure {
    std::string what;
    Reason reason;
    std::string message;
  };
  std::vector<PathFailure> path_failures_;
  std::map<std::string, std::string> blob_cache_;  // digest -> payload, for layers sharing one payload
};

bool Run::TimeLeft(std::string_view what) {
  const Deadline now = options_.clock ? options_.clock() : std::chrono::steady_clock::now();
  if (now < deadline_) return true;
  RecordPathFailure(what, Reason::kTimedOut, "the verification deadline passed");
  return false;
}

void Run::RecordPathFailure(std::string_view what, Reason reason, const std::string& message) {
  path_failures_.push_back(PathFailure{std::string(what), reason, message});
}

void Run::AddFinding(SignatureFormat format, std::string location, SignatureCheck check) {
  const bool verified = check.verified();
  findings_.push_back(SignatureFinding{format, std::move(location), std::move(check)});
  if (verified && !accepted_) accepted_ = findings_.size() - 1;
}

std::optional<nlohmann::json> Run::FetchManifest(const std::string& digest, SignatureFormat format,
                                                 const std::string& location, bool& aborted) {
  if (!TimeLeft(location)) {
    aborted = true;
    return std::nullopt;
  }
  auto manifest = registry_.GetManifest(at_digest_, digest, deadline_);
  if (!manifest.ok()) {
    const Reason reason = ReasonForRegistryError(manifest.status());
    if (IsEnvironmentReason(reason)) {
      aborted = true;
      RecordPathFailure(location, reason, manifest.status().message());
    } else {
      AddFinding(format, location, SignatureCheck{Reason::kMalformed, "cannot fetch: " + manifest.status().message()});
    }
    return std::nullopt;
  }
  if ("sha256:" + Sha256Hex(manifest->body) != digest) {
    AddFinding(format, location, SignatureCheck{Reason::kMalformed, "the manifest does not match its digest"});
    return std::nullopt;
  }
  auto json = ParseJson(manifest->body, "the manifest");
  if (!json.ok() || !json->is_object()) {
    AddFinding(
        format, location,
        SignatureCheck{Reason::kMalformed, json.ok() ? "the manifest is not a JSON object" : json.status().message()});
    return std::nullopt;
  }
  return std::move(json).value();
}

std::optional<std::string> Run::FetchBlob(const Descriptor& layer, size_t max_bytes, SignatureFormat format,
                                          const std::string& location, bool& aborted) {
  if (!IsSha256Digest(layer.digest)) {
    AddFinding(format, location, SignatureCheck{Reason::kMalformed, "the layer digest is not a sha256 digest"});
    return std::nullopt;
  }
  if (layer.size < 0 || static_cast<uint64_t>(layer.size) > max_bytes) {
    AddFinding(format, location,
               SignatureCheck{Reason::kMalformed, "the layer declares " + std::to_string(layer.size) +
                                                      " bytes; signature blobs are limited to " +
                                                      std::to_string(max_bytes) + " bytes"});
    return std::nullopt;
  }
  if (auto cached = blob_cache_.find(layer.digest); cached != blob_cache_.end()) return cached->second;
  if (attestations_) {
    if (attestation_bytes_ + static_cast<uint64_t>(layer.size) > options_.max_attestation_total_bytes) {
      AddFinding(format, location,
                 SignatureCheck{Reason::kMalformed, "not fetched: the attestations of this image exceed " +
                                                        std::to_string(options_.max_attestation_total_bytes) +
                                                        " bytes in total"});
      return std::nullopt;
    }
    attestation_bytes_ += static_cast<uint64_t>(layer.size);
  }
  if (!TimeLeft(location)) {
    aborted = true;
    return std::nullopt;
  }
  auto blob = registry_.GetBlob(at_digest_, layer.digest, max_bytes, deadline_);
  if (!blob.ok()) {
    const Reason reason = ReasonForRegistryError(blob.status());
    if (IsEnvironmentReason(reason)) {
      aborted = true;
      RecordPathFailure(location, reason, blob.status().message());
    } else {
      AddFinding(format, location,
                 SignatureCheck{Reason::kMalformed, "cannot fetch its blob: " + blob.status().message()});
    }
    return std::nullopt;
  }
  // Defence in depth: the registry contract already promises both checks.
  if (blob->size() > max_bytes || blob->size() != static_cast<uint64_t>(layer.size)) {
    AddFinding(format, location,
               SignatureCheck{Reason::kMalformed, "the blob is " + std::to_string(blob->size()) +
                                                      " bytes, not the declared " + std::to_string(layer.size) +
                                                      " (limit " + std::to_string(max_bytes) + ")"});
    return std::nullopt;
  }
  if ("sha256:" + Sha256Hex(*blob) != layer.digest) {
    AddFinding(format, location, SignatureCheck{Reason::kMalformed, "the blob does not match its digest"});
    return std::nullopt;
  }
  blob_cache_.emplace(layer.digest, *blob);
  return std::move(blob).value();
}

bool Run::CheckSimpleSigningManifest(const nlohmann::json& manifest, const std::string& location_prefix) {
  const nlohmann::json* layers = Member(manifest, "layers");
  if (layers == nullptr || !layers->is_array()) {
    AddFinding(SignatureFormat::kSimpleSigning, location_prefix,
               SignatureCheck{Reason::kMalformed, "the signature manifest has no layers array"});
    return true;
  }
  if (layers->size() > options_.max_signature_layers) {
    AddFinding(SignatureFormat::kSimpleSigning, location_prefix,
               SignatureCheck{Reason::kMalformed, "the signature manifest has " + std::to_string(layers->size()) +
                                                      " layers, more than the limit of " +
                                                      std::to_string(options_.max_signature_layers)});
    return true;
  }
  for (size_t i = 0; i < layers->size() && !Done(); ++i) {
    const std::string location = location_prefix + " layer " + std::to_string(i);
    const auto layer = ParseDescriptor((*layers)[i]);
    if (!layer) {
      AddFinding(SignatureFormat::kSimpleSigning, location,
                 SignatureCheck{Reason::kMalformed, "the layer has no digest"});
      continue;
    }
    if (layer->media_type != kSimpleSigningLayerType) continue;  // not a signature layer (cosign skips these too)
    bool aborted = false;
    const auto payload =
        FetchBlob(*layer, options_.max_payload_bytes, SignatureFormat::kSimpleSigning, location, aborted);
    if (aborted) return false;
    if (!payload) continue;
    SimpleSigningLayer input{*payload, Annotation(*layer, kSignatureAnnotation),
                             Annotation(*layer, kCertificateAnnotation), Annotation(*layer, kRekorBundleAnnotation)};
    SignatureCheck check = CheckSimpleSigning(input, digest_, keys_, checks_);
    if (check.reason == Reason::kKeylessUnsupported && keyless_ != nullptr) {
      check = CheckKeylessSimpleSigning(input, digest_, *keyless_, checks_);
    }
    AddFinding(SignatureFormat::kSimpleSigning, location, std::move(check));
  }
  return true;
}

void Run::DiscoverBundles() {
  const std::string what = "referrers of " + digest_;
  if (!TimeLeft(what)) return;
  std::optional<std::string> index_body;
  auto referrers = registry_.GetReferrers(at_digest_, digest_, deadline_);
  if (!referrers.ok() && referrers.status().code() == StatusCode::kNotFound) {
    referrers = std::optional<std::string>();  // treated like a registry without the referrers API
  }
  if (!referrers.ok()) {
    RecordPathFailure(what, ReasonForRegistryError(referrers.status()), referrers.status().message());
    return;
  }
  std::string index_location = "referrers API";
  if (referrers->has_value()) {
    index_body = std::move(**referrers);
  } else {
    // No referrers API: the OCI "Referrers Tag Schema" fallback tag.
    const std::string tag = "sha256-" + digest_.substr(7);
    index_location = "fallback tag " + tag;
    if (!TimeLeft(index_location)) return;
    auto index = registry_.GetManifest(at_digest_, tag, deadline_);
    if (!index.ok()) {
      if (index.status().code() == StatusCode::kNotFound) return;  // no referrers at all
      RecordPathFailure(index_location, ReasonForRegistryError(index.status()), index.status().message());
      return;
    }
    index_body = std::move(index->body);
  }
  auto index = ParseJson(*index_body, "the referrers index");
  const nlohmann::json* manifests = index.ok() ? Member(*index, "manifests") : nullptr;
  if (manifests == nullptr || !manifests->is_array()) {
    AddFinding(SignatureFormat::kSigstoreBundle, index_location,
               SignatureCheck{Reason::kMalformed,
                              index.ok() ? "the referrers index has no manifests array" : index.status().message()});
    return;
  }
  // Likely signatures first; descriptor types only order the work, every candidate manifest is opened.
  std::vector<Descriptor> candidates;
  std::vector<Descriptor> others;
  for (const auto& item : *manifests) {
    auto descriptor = ParseDescriptor(item);
    if (!descriptor || !IsSha256Digest(descriptor->digest) || IsIndexMediaType(descriptor->media_type)) continue;
    const std::string& type = descriptor->artifact_type;
    const bool likely = type.empty() || StartsWith(type, kBundleMediaTypePrefix) || type == kEmptyMediaType ||
                        type == kCosignArtifactSigType;
    (likely ? candidates : others).push_back(std::move(*descriptor));
  }
  candidates.insert(candidates.end(), others.begin(), others.end());
  if (candidates.size() > options_.max_referrers) candidates.resize(options_.max_referrers);

  for (const Descriptor& descriptor : candidates) {
    if (Done()) return;
    const std::string location = "referrer " + descriptor.digest;
    bool aborted = false;
    auto manifest = FetchManifest(descriptor.digest, SignatureFormat::kSigstoreBundle, location, aborted);
    if (aborted) return;
    if (!manifest) continue;
    if (attestations_) {
      const nlohmann::json* annotations = Member(*manifest, "annotations");
      const auto predicate_type =
          annotations ? StringMember(*annotations, kBundlePredicateTypeAnnotation) : std::nullopt;
      const auto& signature_types = options_.image_signature_predicate_types;
      if (predicate_type &&
          std::find(signature_types.begin(), signature_types.end(), *predicate_type) != signature_types.end()) {
        continue;  // labelled an image signature: not an attestation
      }
    }
    const nlohmann::json* layers = Member(*manifest, "layers");
    const std::string artifact_type = StringMember(*manifest, "artifactType").value_or("");
    const nlohmann::json* config = Member(*manifest, "config");
    const std::string config_type = config ? StringMember(*config, "mediaType").value_or("") : "";
    if (layers != nullptr && layers->is_array() && layers->size() == 1) {
      const auto layer = ParseDescriptor((*layers)[0]);
      if (layer && StartsWith(layer->media_type, kBundleMediaTypePrefix)) {
        const auto bundle = FetchBlob(*layer, BlobLimit(), SignatureFormat::kSigstoreBundle, location, aborted);
        if (aborted) return;
        if (bundle) {
          std::string payload;
          SignatureCheck check = CheckBundle(*bundle, digest_, keys_, checks_, &payload);
          if (check.reason == Reason::kKeylessUnsupported && keyless_ != nullptr) {
            check = CheckKeylessBundle(*bundle, digest_, *keyless_, checks_, &payload);
          }
          if (attestations_) {
            AddAttestation(SignatureFormat::kSigstoreBundle, location, std::move(check), payload);
          } else {
            AddFinding(SignatureFormat::kSigstoreBundle, location, std::move(check));
          }
        }
        continue;
      }
    }
    if (!attestations_ && (artifact_type == kCosignArtifactSigType || config_type == kCosignArtifactSigType)) {
      if (!CheckSimpleSigningManifest(*manifest, location)) return;
    }
    // Anything else (SBOMs, other tools' artifacts) is not a cosign signature and is ignored.
  }
}

void Run::DiscoverLegacy() {
  const std::string tag = "sha256-" + digest_.substr(7) + ".sig";
  if (!TimeLeft(tag)) return;
  auto manifest = registry_.GetManifest(at_digest_, tag, deadline_);
  if (!manifest.ok()) {
    if (manifest.status().code() == StatusCode::kNotFound) return;  // no legacy signatures
    const Reason reason = ReasonForRegistryError(manifest.status());
    if (IsEnvironmentReason(reason)) {
      RecordPathFailure(tag, reason, manifest.status().message());
    } else {
      AddFinding(SignatureFormat::kSimpleSigning, tag, SignatureCheck{reason, manifest.status().message()});
    }
    return;
  }
  auto json = ParseJson(manifest->body, "the signature manifest");
  if (!json.ok() || !json->is_object()) {
    AddFinding(SignatureFormat::kSimpleSigning, tag,
               SignatureCheck{Reason::kMalformed,
                              json.ok() ? "the signature manifest is not a JSON object" : json.status().message()});
    return;
  }
  CheckSimpleSigningManifest(*json, tag);
}

bool Run::Resolve(const ImageReference& image) {
  display_ = image.registry + "/" + image.repository;
  if (!image.digest.empty()) {
    display_ += "@" + image.digest;
  } else {
    display_ += ":" + image.tag;
  }
  at_digest_ = image;
  if (!image.digest.empty()) {
    digest_ = image.digest;
  } else if (TimeLeft("resolving the tag")) {
    auto resolved = registry_.ResolveDigest(image, deadline_);
    if (!resolved.ok()) {
      const Reason reason = resolved.status().code() == StatusCode::kNotFound
                                ? Reason::kImageNotFound
                                : ReasonForRegistryError(resolved.status());
      RecordPathFailure("resolving the tag", reason, resolved.status().message());
      return false;
    }
    digest_ = *resolved;
  } else {
    return false;
  }
  if (!IsSha256Digest(digest_)) {
    RecordPathFailure("the image digest", Reason::kMalformed,
                      "'" + digest_.substr(0, 80) + "' is not a sha256 digest; cosign signs sha256 digests only");
    digest_.clear();
    return false;
  }
  at_digest_.digest = digest_;
  return true;
}

VerificationResult Run::Execute(const ImageReference& image) {
  if (!Resolve(image)) return Finish();
  DiscoverBundles();
  if (!Done()) DiscoverLegacy();
  return Finish();
}

void Run::AddAttestation(SignatureFormat format, std::string location, SignatureCheck check,
                         const std::string& payload) {
  if (!check.verified()) {
    AddFinding(format, std::move(location), std::move(check));
    return;
  }
  if (payload.empty()) return;  // a message signature (an image signature), not an attestation
  auto statement = ParseInTotoStatement(payload);
  if (!statement.ok()) {
    AddFinding(format, std::move(location),
               SignatureCheck{Reason::kMalformed, statement.status().message(), check.key_name});
    return;
  }
  const auto& signature_types = options_.image_signature_predicate_types;
  if (std::find(signature_types.begin(), signature_types.end(), statement->predicate_type) != signature_types.end()) {
    return;  // an image signature
  }
  if (!StatementNamesDigest(*statement, digest_)) {
    AddFinding(format, std::move(location),
               SignatureCheck{Reason::kDigestMismatch, "its statement does not name " + digest_, check.key_name});
    return;
  }
  check.detail = statement->predicate_type;  // for the message: which attestation this is
  AddFinding(format, std::move(location), std::move(check));
  statements_.push_back(std::move(statement).value());
}

void Run::DiscoverLegacyAttestations() {
  const std::string tag = "sha256-" + digest_.substr(7) + ".att";
  if (!TimeLeft(tag)) return;
  auto manifest = registry_.GetManifest(at_digest_, tag, deadline_);
  if (!manifest.ok()) {
    if (manifest.status().code() == StatusCode::kNotFound) return;  // no legacy attestations
    const Reason reason = ReasonForRegistryError(manifest.status());
    if (IsEnvironmentReason(reason)) {
      RecordPathFailure(tag, reason, manifest.status().message());
    } else {
      AddFinding(SignatureFormat::kDsseEnvelope, tag, SignatureCheck{reason, manifest.status().message()});
    }
    return;
  }
  auto json = ParseJson(manifest->body, "the attestation manifest");
  const nlohmann::json* layers = json.ok() ? Member(*json, "layers") : nullptr;
  if (layers == nullptr || !layers->is_array()) {
    AddFinding(SignatureFormat::kDsseEnvelope, tag,
               SignatureCheck{Reason::kMalformed,
                              json.ok() ? "the attestation manifest has no layers array" : json.status().message()});
    return;
  }
  if (layers->size() > options_.max_signature_layers) {
    AddFinding(SignatureFormat::kDsseEnvelope, tag,
               SignatureCheck{Reason::kMalformed, "the attestation manifest has " + std::to_string(layers->size()) +
                                                      " layers, more than the limit of " +
                                                      std::to_string(options_.max_signature_layers)});
    return;
  }
  for (size_t i = 0; i < layers->size(); ++i) {
    const std::string location = tag + " layer " + std::to_string(i);
    const auto layer = ParseDescriptor((*layers)[i]);
    if (!layer) {
      AddFinding(SignatureFormat::kDsseEnvelope, location,
                 SignatureCheck{Reason::kMalformed, "the layer has no digest"});
      continue;
    }
    if (layer->media_type != kDsseEnvelopeMediaType) continue;  // not an attestation layer (cosign skips these too)
    bool aborted = false;
    const auto envelope = FetchBlob(*layer, BlobLimit(), SignatureFormat::kDsseEnvelope, location, aborted);
    if (aborted) return;
    if (!envelope) continue;
    const DsseEnvelopeLayer input{*envelope, Annotation(*layer, kCertificateAnnotation),
                                  Annotation(*layer, kRekorBundleAnnotation)};
    std::string payload;
    SignatureCheck check = CheckDsseEnvelope(input, digest_, keys_, checks_, &payload);
    if (check.reason == Reason::kKeylessUnsupported && keyless_ != nullptr) {
      check = CheckKeylessDsseEnvelope(input, digest_, *keyless_, checks_, &payload);
    }
    AddAttestation(SignatureFormat::kDsseEnvelope, location, std::move(check), payload);
  }
}

AttestationResult Run::ExecuteAttestations(const ImageReference& image, const AttestationRequirements& requirements,
                                           std::int64_t now_unix_seconds) {
  AttestationResult result;
  if (Resolve(image)) {
    DiscoverBundles();
    DiscoverLegacyAttestations();
  }
  result.digest = digest_;
  result.statements = std::move(statements_);
  result.findings = std::move(findings_);
  result.check = CheckAttestations(result.statements, requirements, now_unix_seconds);
  const std::string subject =
      "image " + display_ + (digest_.empty() || display_.find('@') != std::string::npos ? "" : " (" + digest_ + ")");

  const PathFailure* failure = nullptr;
  for (const auto& path : path_failures_) {
    if (failure == nullptr || path.reason > failure->reason) failure = &path;
  }
  if (failure != nullptr) {
    result.reason = failure->reason;
    result.why =
        std::string(ReasonText(failure->reason)) + " (attestations: " + failure->what + ": " + failure->message + ")";
    result.message = subject + ": attestations not checked: " + result.why;
    return result;
  }
  std::vector<std::string> verified;
  std::vector<std::string> ignored;
  for (const auto& finding : result.findings) {
    if (finding.check.verified()) {
      verified.push_back(finding.check.detail);
    } else {
      ignored.push_back(finding.location + ": " + std::string(ReasonText(finding.check.reason)) +
                        (finding.check.detail.empty() ? "" : " (" + finding.check.detail + ")"));
    }
  }
  std::string found = std::to_string(verified.size()) + " verified attestation(s)";
  if (!verified.empty()) {
    std::sort(verified.begin(), verified.end());
    verified.erase(std::unique(verified.begin(), verified.end()), verified.end());
    found += ": ";
    for (size_t i = 0; i < verified.size(); ++i) found += (i ? ", " : "") + verified[i];
  }
  std::string ignored_text;
  if (!ignored.empty()) {
    constexpr size_t kListed = 3;
    ignored_text = "; " + std::to_string(ignored.size()) + " ignored: ";
    for (size_t i = 0; i < ignored.size() && i < kListed; ++i) ignored_text += (i ? "; " : "") + ignored[i];
    if (ignored.size() > kListed) ignored_text += "; ...";
  }
  result.evidence = found + ignored_text;
  if (result.check.satisfied) {
    result.satisfied = true;
    result.reason = Reason::kVerified;
    result.why = "attestations satisfy the requirements (" + DescribeRequirements(requirements) + "; " + found + ")";
    result.message = subject + ": " + result.why;
    return result;
  }
  result.reason = Reason::kAttestationsNotSatisfied;
  std::string failures;
  for (size_t i = 0; i < result.check.failures.size(); ++i) failures += (i ? "; " : "") + result.check.failures[i];
  result.why = std::string(ReasonText(result.reason)) + ": " + failures + " (" + found + ignored_text + ")";
  result.message = subject + ": " + result.why;
  return result;
}

VerificationResult Run::Finish() {
  VerificationResult result;
  result.image = display_;
  result.digest = digest_;
  result.findings = std::move(findings_);
  const std::string subject =
      "image " + display_ + (digest_.empty() || display_.find('@') != std::string::npos ? "" : " (" + digest_ + ")");

  if (accepted_) {
    const SignatureFinding& accepted = result.findings[*accepted_];
    result.verified = true;
    result.reason = Reason::kVerified;
    result.key_name = accepted.check.key_name;
    result.format = accepted.format;
    result.signature_location = accepted.location;
    result.tlog_verified = accepted.check.tlog_verified;
    result.message = subject + " is verified: signed by trusted key '" + result.key_name + "' (" +
                     std::string(SignatureFormatName(result.format)) + ", " + result.signature_location +
                     (result.tlog_verified ? ", transparency log entry verified" : "") + ")";
    return result;
  }

  // The primary reason: an environment failure if any (the unexamined part may hold a valid signature), else the
  // most specific signature-level failure, else "no signature".
  const PathFailure* environment = nullptr;
  for (const auto& failure : path_failures_) {
    if (environment == nullptr || failure.reason > environment->reason) environment = &failure;
  }
  const SignatureFinding* best = nullptr;
  for (const auto& finding : result.findings) {
    if (best == nullptr || finding.check.reason < best->check.reason) best = &finding;
  }

  std::string why;
  if (environment != nullptr && (IsEnvironmentReason(environment->reason) || best == nullptr)) {
    result.reason = environment->reason;
    why = std::string(ReasonText(environment->reason)) + " (" + environment->what + ": " + environment->message + ")";
  } else if (best != nullptr) {
    result.reason = best->check.reason;
    // The detail first and the location last: admission messages are bounded, and a cut should take the digest
    // of the signature's manifest rather than the certificate subject that tells the user what to fix.
    why = std::string(ReasonText(best->check.reason)) + ": " + best->check.detail + " (the signature at " +
          best->location + ")";
  } else {
    result.reason = Reason::kNoSignature;
    why = "no signature found: no Sigstore bundle among the referrers and no legacy .sig signature manifest";
  }
  if (best != nullptr && (result.findings.size() > 1 || result.reason != best->check.reason)) {
    why += " (" + std::to_string(result.findings.size()) + " signature(s) examined, none verified)";
  }
  if (environment != nullptr && result.reason != environment->reason) {
    why += "; also " + environment->what + ": " + std::string(ReasonText(environment->reason));
  }
  result.message = subject + " is not verified: " + why;
  return result;
}

}  // namespace

StatusOr<Verifier> Verifier::Create(VerifierOptions options) {
  if (options.require_tlog && options.rekor.empty()) {
    return Status::InvalidArgument(
        "transparency-log verification is required but no Rekor public key is configured; add the Rekor key or turn "
        "the requirement off");
  }
  if (options.max_signature_layers == 0 || options.max_referrers == 0 || options.max_payload_bytes == 0 ||
      options.max_bundle_bytes == 0 || options.max_attestation_bytes == 0 || options.max_attestation_total_bytes == 0) {
    return Status::InvalidArgument("signature verification limits must be greater than zero");
  }
  if (options.image_signature_predicate_types.empty()) {
    return Status::InvalidArgument("at least one image-signature predicate type is required");
  }
  return Verifier(std::move(options));
}

Verifier::Verifier(VerifierOptions options) : options_(std::move(options)) {
  std::string canonical = "pipeguard-verifier-v1\n";
  std::vector<std::string> predicate_types = options_.image_signature_predicate_types;
  std::sort(predicate_types.begin(), predicate_types.end());
  for (const auto& type : predicate_types) canonical += "predicate " + std::to_string(type.size()) + ":" + type + "\n";
  std::vector<std::string> logs;
  for (const auto& log : options_.rekor.keys()) logs.push_back(log.log_id_hex);
  std::sort(logs.begin(), logs.end());
  for (const auto& log : logs) canonical += "rekor " + log + "\n";
  canonical += "require_tlog " + std::to_string(options_.require_tlog) + "\n";
  if (options_.keyless) canonical += "keyless " + options_.keyless->Fingerprint() + "\n";
  canonical += "attestation-limits " + std::to_string(options_.max_attestation_bytes) + " " +
               std::to_string(options_.max_attestation_total_bytes) + "\n";
  canonical += "limits " + std::to_string(options_.max_signature_layers) + " " +
               std::to_string(options_.max_referrers) + " " + std::to_string(options_.max_payload_bytes) + " " +
               std::to_string(options_.max_bundle_bytes) + "\n";
  fingerprint_ = Sha256Hex(canonical);
}

VerificationResult Verifier::Verify(registry::Registry& registry, const registry::ImageReference& image,
                                    const TrustedKeySet& keys, registry::Deadline deadline, bool allow_keyless) const {
  return Verify(registry, image, keys, deadline, allow_keyless ? options_.keyless.get() : nullptr);
}

VerificationResult Verifier::Verify(registry::Registry& registry, const registry::ImageReference& image,
                                    const TrustedKeySet& keys, registry::Deadline deadline,
                                    const KeylessVerification* keyless_signers) const {
  CheckOptions checks;
  checks.rekor = &options_.rekor;
  checks.require_tlog = options_.require_tlog;
  checks.image_signature_predicate_types = options_.image_signature_predicate_types;
  std::optional<KeylessTrust> keyless;
  if (keyless_signers != nullptr) keyless = keyless_signers->Trust();
  Run run(options_, checks, registry, keys, deadline, keyless ? &*keyless : nullptr);
  return run.Execute(image);
}

AttestationResult Verifier::VerifyAttestations(registry::Registry& registry, const registry::ImageReference& image,
                                               const TrustedKeySet& keys, const AttestationRequirements& requirements,
                                               std::int64_t now_unix_seconds, registry::Deadline deadline,
                                               bool allow_keyless) const {
  return VerifyAttestations(registry, image, keys, requirements, now_unix_seconds, deadline,
                            allow_keyless ? options_.keyless.get() : nullptr);
}

AttestationResult Verifier::VerifyAttestations(registry::Registry& registry, const registry::ImageReference& image,
                                               const TrustedKeySet& keys, const AttestationRequirements& requirements,
                                               std::int64_t now_unix_seconds, registry::Deadline deadline,
                                               const KeylessVerification* keyless_signers) const {
  CheckOptions checks;
  checks.rekor = &options_.rekor;
  checks.require_tlog = options_.require_tlog;
  checks.image_signature_predicate_types.clear();  // any predicate type: attestations are sorted out afterwards
  std::optional<KeylessTrust> keyless;
  if (keyless_signers != nullptr) keyless = keyless_signers->Trust();
  Run run(options_, checks, registry, keys, deadline, keyless ? &*keyless : nullptr, /*attestations=*/true);
  return run.ExecuteAttestations(image, requirements, now_unix_seconds);
}

}  // namespace pipeguard::signatures
