// Keyless verification of Sigstore bundles and legacy `.sig` layers (see keyless.h for the checks and their order).
#include "pipeguard/signatures/keyless.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>

#include "check_util.h"
#include "json_util.h"
#include "pipeguard/signatures/fulcio_certificate.h"
#include "pipeguard/signatures/timestamp.h"

namespace pipeguard::signatures {
namespace {

constexpr std::string_view kInTotoPayloadType = "application/vnd.in-toto+json";

// A keyless failure: the detail starts with the check that failed ("keyless identity check: ...").
SignatureCheck Failed(Reason reason, std::string_view check, std::string detail, std::string name = {}) {
  SignatureCheck result = Fail(reason, "keyless " + std::string(check) + " check: " + detail, std::move(name));
  result.failed_check = std::string(check);
  return result;
}

SignatureCheck WithCheck(SignatureCheck result, std::string_view check) {
  if (!result.verified()) {
    result.failed_check = std::string(check);
    result.detail = "keyless " + std::string(check) + " check: " + result.detail;
  }
  return result;
}

// 1 for v0.1, 2 for v0.2, 3 for v0.3; 0 when unknown.
int BundleVersion(std::string_view media_type) {
  static const std::set<std::string_view> kV3 = {"application/vnd.dev.sigstore.bundle.v0.3+json",
                                                 "application/vnd.dev.sigstore.bundle+json;version=0.3"};
  if (kV3.count(media_type)) return 3;
  if (media_type == "application/vnd.dev.sigstore.bundle+json;version=0.2") return 2;
  if (media_type == "application/vnd.dev.sigstore.bundle+json;version=0.1") return 1;
  return 0;
}

int64_t Now(const KeylessTrust& trust) {
  if (trust.now) return *trust.now;
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The name a log signs its checkpoints with: the host of its base URL, port included ("" when it has none: names
// not checked). VerifyInclusionProof also accepts the host name without the port.
std::string_view LogName(const TransparencyLog& log) {
  std::string_view url = log.base_url;
  if (const size_t scheme = url.find("://"); scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  std::string_view host = url.substr(0, url.find_first_of("/?#"));
  if (const size_t at = host.rfind('@'); at != std::string_view::npos) host.remove_prefix(at + 1);
  return host;
}

const TransparencyLog* FindLog(const TrustedRoot& root, std::string_view log_id_hex) {
  for (const TransparencyLog& log : root.tlogs()) {
    if (log.log_id_hex == log_id_hex) return &log;
  }
  return nullptr;
}

// The checks after the signature over the content has verified: tlog, signing time, chain, SCT, identity.
SignatureCheck CheckCertificateAndLog(const FulcioCertificate& leaf, const std::vector<RekorEntry>& entries,
                                      const std::vector<std::string>& timestamps, const SignatureBinding& binding,
                                      int bundle_version, const KeylessTrust& trust, const CheckOptions& options) {
  if (entries.empty()) {
    return Failed(Reason::kInvalidSignature, "tlog",
                  "it has no transparency log entry, so its signing time cannot be proven");
  }
  if (entries.size() > options.max_tlog_entries) {
    return Failed(Reason::kMalformed, "bundle",
                  "it carries " + std::to_string(entries.size()) +
                      " transparency log entries, more than the limit of " + std::to_string(options.max_tlog_entries));
  }
  std::optional<int64_t> set_time;                   // the earliest integrated time proven by a SET
  bool logged = false;                               // an entry of a trusted log verified (with or without a SET)
  std::vector<const TransparencyLog*> untimed_logs;  // logs of verified entries without a SET (Rekor v2)
  for (const RekorEntry& entry : entries) {
    const TransparencyLog* log = FindLog(*trust.root, entry.log_id_hex);
    if (log == nullptr) continue;  // another log instance: not trusted, not held against the signature
    // Rekor v2 logs (Ed25519 checkpoints) issue no SET and no integrated time: the entry proves inclusion only.
    const bool rekor_v2 = log->key.type() == KeyType::kEd25519;
    if (!rekor_v2 && entry.signed_entry_timestamp.empty() && bundle_version < 2) {
      return Failed(Reason::kInvalidSignature, "tlog",
                    "its transparency log entry has no signed entry timestamp (required for bundle v0.1)");
    }
    if (!entry.signed_entry_timestamp.empty()) {
      if (!log->key.Verify(SignedEntryTimestampPayload(entry), entry.signed_entry_timestamp)) {
        return Failed(Reason::kInvalidSignature, "tlog",
                      "the signed entry timestamp of its " + log->base_url + " entry does not verify");
      }
      if (!log->valid_for.Contains(entry.integrated_time)) {
        return Failed(Reason::kInvalidSignature, "tlog",
                      "its entry's integrated time is outside the trusted validity of log " + log->base_url);
      }
    }
    if (entry.log_index < 0) return Failed(Reason::kMalformed, "bundle", "its log entry has a negative logIndex");
    if (entry.inclusion_proof || bundle_version >= 2 || entry.signed_entry_timestamp.empty()) {
      const Status proof = VerifyInclusionProof(entry, log->key, log->log_id_hex, LogName(*log),
                                                bundle_version >= 2 || entry.signed_entry_timestamp.empty());
      if (!proof.ok()) {
        return Failed(Reason::kInvalidSignature, "tlog",
                      proof.code() == StatusCode::kFailedPrecondition
                          ? "its log entry has no inclusion proof (required for bundle v0.2 and later)"
                          : proof.message());
      }
    }
    if (const Status body = CheckEntryBody(entry, binding); !body.ok()) {
      return Failed(Reason::kInvalidSignature, "tlog", body.message());
    }
    logged = true;
    if (entry.signed_entry_timestamp.empty()) untimed_logs.push_back(log);
    if (!entry.signed_entry_timestamp.empty() && (!set_time || entry.integrated_time < *set_time)) {
      set_time = entry.integrated_time;
    }
  }
  if (!logged) {
    return Failed(Reason::kInvalidSignature, "tlog", "it has no entry from a transparency log of the trusted root");
  }

  // RFC 3161 timestamps: every one must verify and fall inside the certificate's validity. They are the signing
  // time when no SET provides one (Rekor v2).
  std::optional<int64_t> timestamp_time;
  for (size_t i = 0; i < timestamps.size(); ++i) {
    auto time = VerifyRfc3161Timestamp(timestamps[i], binding.signature, *trust.root);
    if (!time.ok()) {
      return Failed(Reason::kInvalidSignature, "timestamp",
                    "RFC 3161 timestamp " + std::to_string(i) + ": " + time.status().message());
    }
    if (*time < leaf.not_before() || *time > leaf.not_after()) {
      return Failed(Reason::kUntrustedCertificate, "signing-time",
                    "its RFC 3161 timestamp " + std::to_string(i) + " (" + std::to_string(*time) +
                        ", Unix time) is outside its certificate's validity [" + std::to_string(leaf.not_before()) +
                        ", " + std::to_string(leaf.not_after()) + "]");
    }
    if (!timestamp_time || *time < *timestamp_time) timestamp_time = *time;
  }
  if (!set_time && !timestamp_time) {
    return Failed(Reason::kUntrustedCertificate, "signing-time",
                  "nothing proves when it was signed: its log entry has no signed entry timestamp (Rekor v2) and it "
                  "carries no RFC 3161 timestamp");
  }
  const int64_t signing_time_value = set_time ? *set_time : *timestamp_time;
  const std::optional<int64_t> signing_time = signing_time_value;
  if (*signing_time < leaf.not_before() || *signing_time > leaf.not_after()) {
    return Failed(Reason::kUntrustedCertificate, "signing-time",
                  "it was logged at " + std::to_string(*signing_time) +
                      " (Unix time), outside its certificate's validity [" + std::to_string(leaf.not_before()) + ", " +
                      std::to_string(leaf.not_after()) + "]");
  }
  if (*signing_time > Now(trust) + trust.max_future_skew_seconds) {
    return Failed(Reason::kUntrustedCertificate, "signing-time", "its signing time is in the future");
  }
  for (const TransparencyLog* log : untimed_logs) {
    if (!log->valid_for.Contains(*signing_time)) {
      return Failed(Reason::kInvalidSignature, "tlog",
                    "its entry's signing time is outside the trusted validity of log " + log->base_url);
    }
  }
  auto chain = VerifyCertificateChain(leaf, *trust.root, *signing_time);
  if (!chain.ok()) return Failed(Reason::kUntrustedCertificate, "certificate-chain", chain.status().message());
  if (trust.require_sct) {
    if (const Status sct = VerifyEmbeddedScts(leaf, chain->issuer_key_hash, *trust.root); !sct.ok()) {
      return Failed(Reason::kUntrustedCertificate, "sct", sct.message());
    }
  }
  const IdentityMatch match = trust.identities->Match(leaf.identity());
  if (!match.matched) return Failed(Reason::kIdentityNotAllowed, "identity", match.detail);
  SignatureCheck ok;
  ok.reason = Reason::kVerified;
  ok.key_name = "keyless identity '" + match.identity_name + "'";
  ok.tlog_verified = true;
  return ok;
}

// verificationMaterial.timestampVerificationData.rfc3161Timestamps[].signedTimestamp, decoded.
StatusOr<std::vector<std::string>> Rfc3161Timestamps(const nlohmann::json& material) {
  std::vector<std::string> timestamps;
  const nlohmann::json* data = Member(material, "timestampVerificationData", "timestamp_verification_data");
  const nlohmann::json* list = data ? Member(*data, "rfc3161Timestamps", "rfc3161_timestamps") : nullptr;
  if (list == nullptr) return timestamps;
  if (!list->is_array() || list->size() > 8) {
    return Status::InvalidArgument("timestampVerificationData.rfc3161Timestamps is not an array of at most 8");
  }
  for (const auto& item : *list) {
    auto encoded = StringMember(item, "signedTimestamp", "signed_timestamp");
    // Line breaks are ignored, as Go's decoder (and so sigstore's tools) ignores them (`base64` wraps at 76).
    if (encoded) std::erase_if(*encoded, [](char c) { return c == '\n' || c == '\r'; });
    const auto der = encoded ? Base64Decode(*encoded) : std::nullopt;
    if (!der || der->empty()) {
      return Status::InvalidArgument("an rfc3161Timestamps[].signedTimestamp is missing or not base64");
    }
    timestamps.push_back(*der);
  }
  return timestamps;
}

StatusOr<FulcioCertificate> SigningCertificate(const nlohmann::json& material) {
  if (const nlohmann::json* certificate = Member(material, "certificate")) {
    const auto raw = StringMember(*certificate, "rawBytes", "raw_bytes");
    const auto der = raw ? Base64Decode(*raw) : std::nullopt;
    if (!der || der->empty()) {
      return Status::InvalidArgument("verificationMaterial.certificate.rawBytes is missing or not base64");
    }
    return FulcioCertificate::FromDer(*der);
  }
  const nlohmann::json* chain = Member(material, "x509CertificateChain", "x509_certificate_chain");
  const nlohmann::json* certificates = chain ? Member(*chain, "certificates") : nullptr;
  if (certificates == nullptr || !certificates->is_array() || certificates->empty()) {
    return Status::InvalidArgument("verificationMaterial.x509CertificateChain has no certificates");
  }
  if (certificates->size() > 8) return Status::InvalidArgument("the certificate chain has more than 8 certificates");
  std::optional<FulcioCertificate> leaf;
  for (size_t i = 0; i < certificates->size(); ++i) {
    const auto raw = StringMember((*certificates)[i], "rawBytes", "raw_bytes");
    const auto der = raw ? Base64Decode(*raw) : std::nullopt;
    if (!der || der->empty()) {
      return Status::InvalidArgument("x509CertificateChain.certificates[" + std::to_string(i) +
                                     "].rawBytes is missing or not base64");
    }
    auto cert = FulcioCertificate::FromDer(*der);
    if (!cert.ok()) {
      return Status::InvalidArgument("x509CertificateChain.certificates[" + std::to_string(i) +
                                     "]: " + cert.status().message());
    }
    // Signers must not ship a root; verifiers must not trust one that comes with the signature.
    if (cert->self_signed()) {
      return Status::InvalidArgument(
          "the certificate chain contains a self-signed root certificate; trust anchors "
          "come only from the trusted root");
    }
    if (i == 0) leaf = std::move(cert).value();
  }
  return std::move(leaf).value();
}

// Checks the signing certificate itself before anything is verified with its key.
SignatureCheck CheckLeaf(const FulcioCertificate& leaf) {
  if (leaf.is_ca()) {
    return Failed(Reason::kUntrustedCertificate, "certificate", "the signing certificate is a CA certificate");
  }
  if (!leaf.code_signing()) {
    return Failed(Reason::kUntrustedCertificate, "certificate",
                  "the signing certificate is not for code signing (extended key usage lacks codeSigning)");
  }
  SignatureCheck ok;
  ok.reason = Reason::kVerified;
  return ok;
}

// A DSSE envelope (of a bundle or a legacy `.att` layer) signed by `leaf`: the signature over PAE, the in-toto
// payload type and statement claims, then the certificate and log checks.
SignatureCheck CheckKeylessDsse(const FulcioCertificate& leaf, const DsseEnvelope& envelope,
                                const std::vector<RekorEntry>& entries, const std::vector<std::string>& timestamps,
                                int bundle_version, std::string_view artifact_digest, const KeylessTrust& trust,
                                const CheckOptions& options, std::string* verified_payload) {
  if (!leaf.public_key().Verify(DssePae(envelope.payload_type, envelope.payload), envelope.signature)) {
    return Failed(Reason::kInvalidSignature, "signature",
                  "the DSSE signature does not verify with the signing certificate's key (altered after signing)");
  }
  if (envelope.payload_type != kInTotoPayloadType) {
    return Failed(Reason::kNotAnImageSignature, "artifact",
                  "its DSSE payloadType is '" + envelope.payload_type.substr(0, 120) + "', not '" +
                      std::string(kInTotoPayloadType) + "'");
  }
  SignatureCheck claims = CheckStatement(envelope.payload, artifact_digest, "", options);
  if (!claims.verified()) return WithCheck(std::move(claims), "artifact");
  SignatureCheck result =
      CheckCertificateAndLog(leaf, entries, timestamps,
                             SignatureBinding{Sha256Hex(envelope.payload), envelope.signature, &leaf.public_key(),
                                              leaf.der(), Sha256Hex(DssePae(envelope.payload_type, envelope.payload))},
                             bundle_version, trust, options);
  if (result.verified() && verified_payload != nullptr) *verified_payload = envelope.payload;
  return result;
}

// The usable Fulcio leaf of a legacy layer (its dev.sigstore.cosign/certificate annotation) into `leaf`, or why there
// is none (keyless not configured, no annotation, not a certificate, not a Fulcio signing certificate).
SignatureCheck LayerLeaf(const std::optional<std::string>& certificate, const KeylessTrust& trust,
                         std::optional<FulcioCertificate>& leaf) {
  if (trust.root == nullptr || trust.identities == nullptr) {
    return Failed(Reason::kKeylessUnsupported, "unsupported", "keyless verification is not configured");
  }
  if (!certificate) {
    return Failed(Reason::kUntrustedKey, "certificate", "the layer has no dev.sigstore.cosign/certificate annotation");
  }
  auto parsed = FulcioCertificate::FromPem(*certificate);
  if (!parsed.ok()) {
    return Failed(Reason::kMalformed, "bundle",
                  "the dev.sigstore.cosign/certificate annotation: " + parsed.status().message());
  }
  if (SignatureCheck usable = CheckLeaf(*parsed); !usable.verified()) return usable;
  leaf.emplace(std::move(parsed).value());
  SignatureCheck ok;
  ok.reason = Reason::kVerified;
  return ok;
}

}  // namespace

SignatureCheck CheckKeylessBundle(std::string_view bundle_json, std::string_view artifact_digest,
                                  const KeylessTrust& trust, const CheckOptions& options,
                                  std::string* verified_payload) {
  if (trust.root == nullptr || trust.identities == nullptr) {
    return Failed(Reason::kKeylessUnsupported, "unsupported", "keyless verification is not configured");
  }
  auto bundle = ParseJson(bundle_json, "the Sigstore bundle");
  if (!bundle.ok()) return Failed(Reason::kMalformed, "bundle", bundle.status().message());
  const auto media_type = StringMember(*bundle, "mediaType", "media_type");
  const int version = media_type ? BundleVersion(*media_type) : 0;
  if (version == 0) {
    return Failed(Reason::kMalformed, "bundle",
                  "unsupported Sigstore bundle mediaType '" + media_type.value_or("").substr(0, 120) +
                      "' (supported: v0.1 to v0.3)");
  }
  const nlohmann::json* material = Member(*bundle, "verificationMaterial", "verification_material");
  if (material == nullptr || !material->is_object()) {
    return Failed(Reason::kMalformed, "bundle", "the bundle has no verificationMaterial");
  }
  if (Member(*material, "publicKey", "public_key") != nullptr) {
    return Failed(Reason::kUntrustedKey, "certificate",
                  "it was signed with a key, not keylessly: only configured keys can verify it");
  }
  auto leaf = SigningCertificate(*material);
  if (!leaf.ok()) return Failed(Reason::kMalformed, "bundle", leaf.status().message());
  if (SignatureCheck usable = CheckLeaf(*leaf); !usable.verified()) return usable;
  auto entries = ParseTlogEntries(*material);
  if (!entries.ok()) return Failed(Reason::kMalformed, "bundle", entries.status().message());
  auto timestamps = Rfc3161Timestamps(*material);
  if (!timestamps.ok()) return Failed(Reason::kMalformed, "bundle", timestamps.status().message());

  const nlohmann::json* envelope = Member(*bundle, "dsseEnvelope", "dsse_envelope");
  const nlohmann::json* message_signature = Member(*bundle, "messageSignature", "message_signature");
  if ((envelope == nullptr) == (message_signature == nullptr)) {
    return Failed(Reason::kMalformed, "bundle",
                  "the bundle must hold exactly one of dsseEnvelope and messageSignature");
  }
  if (envelope != nullptr) {
    auto parsed = ParseDsseEnvelope(*envelope);
    if (!parsed.ok()) return Failed(Reason::kMalformed, "bundle", parsed.status().message());
    return CheckKeylessDsse(*leaf, *parsed, *entries, *timestamps, version, artifact_digest, trust, options,
                            verified_payload);
  }

  const nlohmann::json* message_digest = Member(*message_signature, "messageDigest", "message_digest");
  const auto sig_b64 = StringMember(*message_signature, "signature");
  const auto signature = sig_b64 ? Base64Decode(*sig_b64) : std::nullopt;
  if (!signature || signature->empty()) {
    return Failed(Reason::kMalformed, "bundle", "the messageSignature.signature is missing or not valid base64");
  }
  if (!IsSha256Digest(artifact_digest)) {
    return Failed(Reason::kMalformed, "artifact", "the artifact digest is not a sha256 digest");
  }
  const std::string artifact_hex(artifact_digest.substr(7));
  if (message_digest != nullptr) {
    const auto algorithm = StringMember(*message_digest, "algorithm");
    const auto digest_b64 = StringMember(*message_digest, "digest");
    const auto digest = digest_b64 ? Base64Decode(*digest_b64) : std::nullopt;
    if (!algorithm || *algorithm != "SHA2_256" || !digest || digest->size() != 32) {
      return Failed(Reason::kMalformed, "bundle", "the messageSignature digest is missing or not a SHA2_256 digest");
    }
    if (HexEncode(*digest) != artifact_hex) {
      return Failed(Reason::kDigestMismatch, "artifact",
                    "its message digest is sha256:" + HexEncode(*digest) + ", not " + std::string(artifact_digest));
    }
  }
  std::string raw_digest;
  for (size_t i = 0; i < artifact_hex.size(); i += 2) {
    raw_digest.push_back(static_cast<char>(std::stoi(artifact_hex.substr(i, 2), nullptr, 16)));
  }
  if (!leaf->public_key().VerifySha256Digest(raw_digest, *signature)) {
    return Failed(Reason::kInvalidSignature, "signature",
                  "the message signature does not verify over the artifact with the signing certificate's key");
  }
  return CheckCertificateAndLog(*leaf, *entries, *timestamps,
                                SignatureBinding{artifact_hex, *signature, &leaf->public_key(), leaf->der()}, version,
                                trust, options);
}

SignatureCheck CheckKeylessSimpleSigning(const SimpleSigningLayer& layer, std::string_view image_digest,
                                         const KeylessTrust& trust, const CheckOptions& options) {
  std::optional<FulcioCertificate> leaf;
  if (SignatureCheck usable = LayerLeaf(layer.certificate, trust, leaf); !usable.verified()) return usable;
  const auto signature = layer.signature ? Base64Decode(*layer.signature) : std::nullopt;
  if (!signature || signature->empty()) {
    return Failed(Reason::kMalformed, "bundle",
                  "the dev.cosignproject.cosign/signature annotation is missing or invalid");
  }
  if (!leaf->public_key().Verify(layer.payload, *signature)) {
    return Failed(Reason::kInvalidSignature, "signature",
                  "the signature does not verify over the payload with the certificate's key (altered after signing)");
  }
  SignatureCheck claims = CheckSimpleSigningClaims(layer.payload, image_digest, "");
  if (!claims.verified()) return WithCheck(std::move(claims), "artifact");
  std::vector<RekorEntry> entries;
  if (layer.rekor_bundle) {
    auto entry = ParseRekorAnnotation(*layer.rekor_bundle);
    if (!entry.ok()) return Failed(Reason::kMalformed, "bundle", entry.status().message());
    entries.push_back(std::move(entry).value());
  }
  return CheckCertificateAndLog(
      *leaf, entries, {}, SignatureBinding{Sha256Hex(layer.payload), *signature, &leaf->public_key(), leaf->der()}, 1,
      trust, options);
}

SignatureCheck CheckKeylessDsseEnvelope(const DsseEnvelopeLayer& layer, std::string_view image_digest,
                                        const KeylessTrust& trust, const CheckOptions& options,
                                        std::string* verified_payload) {
  std::optional<FulcioCertificate> leaf;
  if (SignatureCheck usable = LayerLeaf(layer.certificate, trust, leaf); !usable.verified()) return usable;
  auto json = ParseJson(layer.envelope, "the DSSE envelope");
  if (!json.ok()) return Failed(Reason::kMalformed, "bundle", json.status().message());
  auto envelope = ParseDsseEnvelope(*json);
  if (!envelope.ok()) return Failed(Reason::kMalformed, "bundle", envelope.status().message());
  std::vector<RekorEntry> entries;
  if (layer.rekor_bundle) {
    auto entry = ParseRekorAnnotation(*layer.rekor_bundle);
    if (!entry.ok()) return Failed(Reason::kMalformed, "bundle", entry.status().message());
    entries.push_back(std::move(entry).value());
  }
  // Legacy annotations carry a Rekor v1 SET and no inclusion proof: checked like a v0.1 bundle.
  return CheckKeylessDsse(*leaf, *envelope, entries, {}, 1, image_digest, trust, options, verified_payload);
}

StatusOr<KeylessVerification> KeylessVerification::Load(const policy::KeylessConfig& config) {
  auto root = TrustedRoot::Load(config.trusted_root_file);
  if (!root.ok()) return Status(root.status().code(), "images.keyless.trustedRootFile: " + root.status().message());
  std::vector<KeylessIdentity> identities;
  for (const policy::KeylessIdentityConfig& entry : config.identities) {
    KeylessIdentity identity;
    identity.name = entry.name;
    identity.subject = ValueMatcher{entry.subject, entry.subject_regexp};
    identity.issuer = ValueMatcher{entry.issuer, entry.issuer_regexp};
    identity.extensions = entry.extensions;
    identities.push_back(std::move(identity));
  }
  auto policy = IdentityPolicy::Create(std::move(identities));
  if (!policy.ok()) return Status::InvalidArgument("images.keyless.identities: " + policy.status().message());
  return KeylessVerification{std::move(root).value(), std::move(policy).value(), config.require_sct};
}

std::optional<KeylessVerification> KeylessVerification::Subset(const std::vector<std::string>& names) const {
  std::vector<KeylessIdentity> kept;
  for (const KeylessIdentity& identity : identities.identities()) {
    if (std::find(names.begin(), names.end(), identity.name) != names.end()) kept.push_back(identity);
  }
  if (kept.empty()) return std::nullopt;
  // The identities compiled when the policy was created, so a subset of them does too.
  auto policy = IdentityPolicy::Create(std::move(kept));
  if (!policy.ok()) return std::nullopt;
  return KeylessVerification{root, std::move(policy).value(), require_sct};
}

KeylessTrust KeylessVerification::Trust() const {
  KeylessTrust trust;
  trust.root = &root;
  trust.identities = &identities;
  trust.require_sct = require_sct;
  return trust;
}

std::string KeylessVerification::Fingerprint() const {
  return Sha256Hex("keyless-v1\nroot " + root.fingerprint() + "\nidentities " + identities.fingerprint() +
                   "\nrequire_sct " + std::to_string(require_sct) + "\n");
}

}  // namespace pipeguard::signatures
