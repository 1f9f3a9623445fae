// Sigstore bundles (cosign v3 default; cosign-signatures.md §3.3-§5), key-based only.
#include <algorithm>
#include <set>

#include "check_util.h"
#include "json_util.h"

namespace pipeguard::signatures {
namespace {

constexpr std::string_view kInTotoPayloadType = "application/vnd.in-toto+json";

bool IsAcceptedBundleMediaType(std::string_view media_type) {
  static const std::set<std::string_view> kAccepted = {
      "application/vnd.dev.sigstore.bundle.v0.3+json",
      "application/vnd.dev.sigstore.bundle+json;version=0.3",
      "application/vnd.dev.sigstore.bundle+json;version=0.2",
      "application/vnd.dev.sigstore.bundle+json;version=0.1",
  };
  return kAccepted.count(media_type) > 0;
}

std::string Truncated(std::string_view text, size_t max = 120) {
  return text.size() <= max ? std::string(text) : std::string(text.substr(0, max)) + "...";
}

std::string ToLower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

SignatureCheck UnverifiedBundleFailure(const std::optional<std::string>& hint,
                                       const std::vector<const TrustedPublicKey*>& hinted, const TrustedKeySet& keys) {
  if (!hinted.empty()) {
    return Fail(Reason::kInvalidSignature, "its key hint names trusted key '" + hinted.front()->name +
                                               "' but the signature does not verify (altered after signing)");
  }
  if (hint) {
    return Fail(Reason::kUntrustedKey, "it was made by a key that is not trusted (key hint " + Truncated(*hint, 64) +
                                           "; trusted: " + keys.Names() + ")");
  }
  return Fail(Reason::kUntrustedKey, "it does not verify with any trusted key (" + keys.Names() +
                                         "): it was made by another key, or altered after signing");
}

// The candidate keys for a signature: the hinted ones first (the hint is unauthenticated: it only orders the keys
// tried and explains failures), then the rest.
std::vector<const TrustedPublicKey*> Candidates(const std::optional<std::string>& hint, const TrustedKeySet& keys,
                                                std::vector<const TrustedPublicKey*>& hinted) {
  hinted = hint ? keys.FindByHint(*hint) : std::vector<const TrustedPublicKey*>{};
  std::vector<const TrustedPublicKey*> candidates = hinted;
  for (const TrustedPublicKey* key : AllKeys(keys)) {
    if (std::find(candidates.begin(), candidates.end(), key) == candidates.end()) candidates.push_back(key);
  }
  return candidates;
}

// A DSSE envelope (of a bundle or a legacy `.att` layer) checked with the trusted keys: signature over PAE, in-toto
// payload type, statement claims, transparency-log entries.
SignatureCheck CheckDsseWithKeys(const DsseEnvelope& envelope, const std::optional<std::string>& hint,
                                 const std::vector<RekorEntry>& entries, std::string_view image_digest,
                                 const TrustedKeySet& keys, const CheckOptions& options,
                                 std::string* verified_payload) {
  std::vector<const TrustedPublicKey*> hinted;
  const std::vector<const TrustedPublicKey*> candidates = Candidates(hint, keys, hinted);
  const TrustedPublicKey* signer =
      FindSigner(candidates, DssePae(envelope.payload_type, envelope.payload), envelope.signature);
  if (signer == nullptr) return UnverifiedBundleFailure(hint, hinted, keys);
  if (envelope.payload_type != kInTotoPayloadType) {
    return Fail(Reason::kNotAnImageSignature,
                "its DSSE payloadType is '" + Truncated(envelope.payload_type) + "', not '" +
                    std::string(kInTotoPayloadType) + "'",
                signer->name);
  }
  SignatureCheck claims = CheckStatement(envelope.payload, image_digest, signer->name, options);
  if (!claims.verified()) return claims;
  SignatureCheck result = CheckTlogEntries(
      entries, SignatureBinding{Sha256Hex(envelope.payload), envelope.signature, &signer->key}, signer->name, options);
  if (result.verified() && verified_payload != nullptr) *verified_payload = envelope.payload;
  return result;
}

}  // namespace

// verificationMaterial.tlogEntries[] as RekorEntry values.
StatusOr<std::vector<RekorEntry>> ParseTlogEntries(const nlohmann::json& material) {
  std::vector<RekorEntry> entries;
  const nlohmann::json* list = Member(material, "tlogEntries", "tlog_entries");
  if (list == nullptr) return entries;
  if (!list->is_array()) return Status::InvalidArgument("verificationMaterial.tlogEntries is not an array");
  for (size_t i = 0; i < list->size(); ++i) {
    const nlohmann::json& item = (*list)[i];
    const std::string where = "tlogEntries[" + std::to_string(i) + "]";
    const nlohmann::json* log_id = Member(item, "logId", "log_id");
    const auto key_id = log_id ? StringMember(*log_id, "keyId", "key_id") : std::nullopt;
    const auto key_id_bytes = key_id ? Base64Decode(*key_id) : std::nullopt;
    const auto log_index = ProtoInt64Member(item, "logIndex", "log_index");
    const auto integrated_time = Int64Member(item, "integratedTime", "integrated_time");
    const auto body = StringMember(item, "canonicalizedBody", "canonicalized_body");
    if (!key_id_bytes || !log_index || !body) {
      return Status::InvalidArgument(where + " lacks a valid logId.keyId, logIndex or canonicalizedBody");
    }
    RekorEntry entry;
    entry.log_id_hex = HexEncode(*key_id_bytes);
    entry.log_index = *log_index;
    entry.integrated_time = integrated_time.value_or(0);
    // The SET signs the body in standard base64; protojson may have written the URL-safe form.
    const auto body_bytes = Base64Decode(*body);
    if (!body_bytes) return Status::InvalidArgument(where + ".canonicalizedBody is not valid base64");
    entry.body_base64 = Base64Encode(*body_bytes);
    if (const nlohmann::json* promise = Member(item, "inclusionPromise", "inclusion_promise")) {
      const auto set = StringMember(*promise, "signedEntryTimestamp", "signed_entry_timestamp");
      const auto set_bytes = set ? Base64Decode(*set) : std::nullopt;
      if (!set_bytes)
        return Status::InvalidArgument(where + ".inclusionPromise.signedEntryTimestamp is not valid base64");
      entry.signed_entry_timestamp = *set_bytes;
    }
    if (const nlohmann::json* proof = Member(item, "inclusionProof", "inclusion_proof")) {
      InclusionProof parsed;
      const auto proof_index = ProtoInt64Member(*proof, "logIndex", "log_index");
      const auto tree_size = Int64Member(*proof, "treeSize", "tree_size");
      const auto root_hash = StringMember(*proof, "rootHash", "root_hash");
      const auto root_bytes = root_hash ? Base64Decode(*root_hash) : std::nullopt;
      const nlohmann::json* hashes = Member(*proof, "hashes");
      if (!proof_index || !tree_size || !root_bytes || (hashes != nullptr && !hashes->is_array())) {
        return Status::InvalidArgument(where + ".inclusionProof lacks a valid logIndex, treeSize or rootHash");
      }
      parsed.log_index = *proof_index;
      parsed.tree_size = *tree_size;
      parsed.root_hash = *root_bytes;
      if (hashes != nullptr) {
        if (hashes->size() > 64) return Status::InvalidArgument(where + ".inclusionProof has too many hashes");
        for (const auto& hash : *hashes) {
          const auto bytes = hash.is_string() ? Base64Decode(hash.get<std::string>()) : std::nullopt;
          if (!bytes) return Status::InvalidArgument(where + ".inclusionProof.hashes has an invalid element");
          parsed.hashes.push_back(*bytes);
        }
      }
      if (const nlohmann::json* checkpoint = Member(*proof, "checkpoint")) {
        parsed.checkpoint = StringMember(*checkpoint, "envelope").value_or("");
      }
      entry.inclusion_proof = std::move(parsed);
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

// The in-toto statement claims: an image-signature predicate type and a subject with the image's digest.
SignatureCheck CheckStatement(std::string_view statement_bytes, std::string_view image_digest,
                              const std::string& key_name, const CheckOptions& options) {
  auto statement = ParseJson(statement_bytes, "the in-toto statement");
  if (!statement.ok()) return Fail(Reason::kMalformed, statement.status().message(), key_name);
  const auto type = StringMember(*statement, "_type");
  if (!type || (*type != "https://in-toto.io/Statement/v1" && *type != "https://in-toto.io/Statement/v0.1")) {
    return Fail(Reason::kMalformed,
                "the DSSE payload is not an in-toto Statement (_type '" + Truncated(type.value_or("")) + "')",
                key_name);
  }
  const auto predicate_type = StringMember(*statement, "predicateType", "predicate_type");
  const auto& accepted = options.image_signature_predicate_types;
  if (!predicate_type ||
      (!accepted.empty() && std::find(accepted.begin(), accepted.end(), *predicate_type) == accepted.end())) {
    return Fail(Reason::kNotAnImageSignature,
                "it is an attestation (predicateType '" + Truncated(predicate_type.value_or("")) +
                    "'), not an image signature (predicateType '" + std::string(kCosignSignPredicateType) + "')",
                key_name);
  }
  const nlohmann::json* subjects = Member(*statement, "subject");
  if (subjects == nullptr || !subjects->is_array() || subjects->empty()) {
    return Fail(Reason::kMalformed, "the in-toto statement has no subjects", key_name);
  }
  if (subjects->size() > options.max_statement_subjects) {
    return Fail(Reason::kMalformed,
                "the in-toto statement has " + std::to_string(subjects->size()) + " subjects, more than the limit of " +
                    std::to_string(options.max_statement_subjects),
                key_name);
  }
  const std::string wanted_hex(image_digest.substr(image_digest.find(':') + 1));
  std::string first_seen;
  for (const auto& subject : *subjects) {
    const nlohmann::json* digest = Member(subject, "digest");
    const auto sha256 = digest ? StringMember(*digest, "sha256") : std::nullopt;
    if (!sha256) continue;
    if (ToLower(*sha256) == wanted_hex) {
      SignatureCheck ok;
      ok.reason = Reason::kVerified;
      ok.key_name = key_name;
      return ok;
    }
    if (first_seen.empty()) first_seen = "sha256:" + Truncated(*sha256, 64);
  }
  return Fail(Reason::kDigestMismatch,
              first_seen.empty() ? "its statement names no sha256 subject digest"
                                 : "it signs digest " + first_seen + ", not " + std::string(image_digest),
              key_name);
}

SignatureCheck CheckBundle(std::string_view bundle_json, std::string_view image_digest, const TrustedKeySet& keys,
                           const CheckOptions& options, std::string* verified_payload) {
  auto bundle = ParseJson(bundle_json, "the Sigstore bundle");
  if (!bundle.ok()) return Fail(Reason::kMalformed, bundle.status().message());
  const auto media_type = StringMember(*bundle, "mediaType", "media_type");
  if (!media_type || !IsAcceptedBundleMediaType(*media_type)) {
    return Fail(Reason::kMalformed, "unsupported Sigstore bundle mediaType '" + Truncated(media_type.value_or("")) +
                                        "' (supported: v0.1 to v0.3)");
  }
  const nlohmann::json* material = Member(*bundle, "verificationMaterial", "verification_material");
  if (material == nullptr || !material->is_object()) {
    return Fail(Reason::kMalformed, "the bundle has no verificationMaterial");
  }
  if (Member(*material, "certificate") != nullptr ||
      Member(*material, "x509CertificateChain", "x509_certificate_chain") != nullptr) {
    return Fail(Reason::kKeylessUnsupported,
                "it was signed keylessly (Fulcio certificate): keyless signatures are not supported; configure "
                "images.keys with the signer's public key");
  }
  std::optional<std::string> hint;
  if (const nlohmann::json* public_key = Member(*material, "publicKey", "public_key")) {
    hint = StringMember(*public_key, "hint");
  }
  auto tlog_entries = ParseTlogEntries(*material);
  if (!tlog_entries.ok() && options.rekor != nullptr && !options.rekor->empty()) {
    return Fail(Reason::kMalformed, tlog_entries.status().message());
  }
  const std::vector<RekorEntry> entries = tlog_entries.ok() ? *tlog_entries : std::vector<RekorEntry>{};

  const nlohmann::json* envelope = Member(*bundle, "dsseEnvelope", "dsse_envelope");
  const nlohmann::json* message_signature = Member(*bundle, "messageSignature", "message_signature");
  if ((envelope == nullptr) == (message_signature == nullptr)) {
    return Fail(Reason::kMalformed, "the bundle must hold exactly one of dsseEnvelope and messageSignature");
  }

  if (envelope != nullptr) {
    auto parsed = ParseDsseEnvelope(*envelope);
    if (!parsed.ok()) return Fail(Reason::kMalformed, parsed.status().message());
    return CheckDsseWithKeys(*parsed, hint, entries, image_digest, keys, options, verified_payload);
  }

  // messageSignature: a signature over the image manifest bytes, carried with their SHA-256.
  const nlohmann::json* message_digest = Member(*message_signature, "messageDigest", "message_digest");
  const auto algorithm = message_digest ? StringMember(*message_digest, "algorithm") : std::nullopt;
  const auto digest_b64 = message_digest ? StringMember(*message_digest, "digest") : std::nullopt;
  const auto digest = digest_b64 ? Base64Decode(*digest_b64) : std::nullopt;
  const auto sig_b64 = StringMember(*message_signature, "signature");
  const auto signature = sig_b64 ? Base64Decode(*sig_b64) : std::nullopt;
  if (!algorithm || !digest || !signature || signature->empty()) {
    return Fail(Reason::kMalformed, "the messageSignature lacks a valid messageDigest or signature");
  }
  if (*algorithm != "SHA2_256" || digest->size() != 32) {
    return Fail(Reason::kMalformed, "the messageSignature digest algorithm '" + Truncated(*algorithm) +
                                        "' is not supported (SHA2_256 only)");
  }
  std::vector<const TrustedPublicKey*> hinted;
  const std::vector<const TrustedPublicKey*> candidates = Candidates(hint, keys, hinted);
  const TrustedPublicKey* signer = nullptr;
  for (const TrustedPublicKey* key : candidates) {
    if (key->key.VerifySha256Digest(*digest, *signature)) {
      signer = key;
      break;
    }
  }
  if (signer == nullptr) return UnverifiedBundleFailure(hint, hinted, keys);
  const std::string signed_digest = "sha256:" + HexEncode(*digest);
  if (signed_digest != image_digest) {
    return Fail(Reason::kDigestMismatch,
                "its message signature covers digest " + signed_digest + ", not " + std::string(image_digest),
                signer->name);
  }
  return CheckTlogEntries(entries, SignatureBinding{HexEncode(*digest), *signature, &signer->key}, signer->name,
                          options);
}

SignatureCheck CheckDsseEnvelope(const DsseEnvelopeLayer& layer, std::string_view image_digest,
                                 const TrustedKeySet& keys, const CheckOptions& options,
                                 std::string* verified_payload) {
  auto json = ParseJson(layer.envelope, "the DSSE envelope");
  if (!json.ok()) return Fail(Reason::kMalformed, json.status().message());
  auto envelope = ParseDsseEnvelope(*json);
  if (!envelope.ok()) return Fail(Reason::kMalformed, envelope.status().message());
  std::vector<RekorEntry> entries;
  if (layer.rekor_bundle) {
    auto parsed = ParseRekorAnnotation(*layer.rekor_bundle);
    // Malformed tlog data only matters when the configuration checks the log (as for legacy signatures).
    if (!parsed.ok() && options.rekor != nullptr && !options.rekor->empty()) {
      return Fail(Reason::kMalformed, parsed.status().message());
    }
    if (parsed.ok()) entries.push_back(std::move(parsed).value());
  }
  if (layer.certificate) {
    // A certificate-bearing envelope verified by a configured key is unusual but key-based; otherwise keyless.
    std::vector<const TrustedPublicKey*> all = AllKeys(keys);
    if (FindSigner(all, DssePae(envelope->payload_type, envelope->payload), envelope->signature) == nullptr) {
      return Fail(Reason::kKeylessUnsupported,
                  "it was signed keylessly (Fulcio certificate): keyless signatures are not supported; configure "
                  "images.keys with the signer's public key");
    }
  }
  return CheckDsseWithKeys(*envelope, std::nullopt, entries, image_digest, keys, options, verified_payload);
}

}  // namespace pipeguard::signatures
