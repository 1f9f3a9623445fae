// Legacy cosign signatures: simple-signing payload layers (cosign-signatures.md §2).
#include "check_util.h"
#include "json_util.h"

namespace pipeguard::signatures {
namespace {

constexpr std::string_view kSimpleSigningType = "cosign container image signature";

// The public key a Rekor entry body records (unauthenticated: used only to explain a failure), as SPKI DER.
std::optional<std::string> RecordedSpki(const RekorEntry& entry) {
  const auto decoded = Base64Decode(entry.body_base64);
  if (!decoded) return std::nullopt;
  auto body = ParseJson(*decoded, "log entry body");
  if (!body.ok()) return std::nullopt;
  const nlohmann::json* spec = Member(*body, "spec");
  const nlohmann::json* signature = spec ? Member(*spec, "signature") : nullptr;
  const nlohmann::json* public_key = signature ? Member(*signature, "publicKey") : nullptr;
  const auto content = public_key ? StringMember(*public_key, "content") : std::nullopt;
  const auto pem = content ? Base64Decode(*content) : std::nullopt;
  if (!pem) return std::nullopt;
  auto key = PublicKey::FromPem(*pem);
  if (!key.ok()) return std::nullopt;
  return key->spki_der();
}

}  // namespace

// Parses the `dev.sigstore.cosign/bundle` annotation: {"SignedEntryTimestamp": b64, "Payload": {"body": b64,
// "integratedTime": n, "logIndex": n, "logID": hex}}.
StatusOr<RekorEntry> ParseRekorAnnotation(const std::string& annotation) {
  auto json = ParseJson(annotation, "the dev.sigstore.cosign/bundle annotation");
  if (!json.ok()) return json.status();
  const auto set = StringMember(*json, "SignedEntryTimestamp");
  const nlohmann::json* payload = Member(*json, "Payload");
  if (!set || payload == nullptr) {
    return Status::InvalidArgument("the dev.sigstore.cosign/bundle annotation lacks SignedEntryTimestamp or Payload");
  }
  RekorEntry entry;
  const auto set_bytes = Base64Decode(*set);
  const auto body = StringMember(*payload, "body");
  const auto integrated_time = Int64Member(*payload, "integratedTime");
  const auto log_index = Int64Member(*payload, "logIndex");
  const auto log_id = StringMember(*payload, "logID");
  if (!set_bytes || !body || !integrated_time || !log_index || !log_id) {
    return Status::InvalidArgument(
        "the dev.sigstore.cosign/bundle annotation has a missing or malformed SignedEntryTimestamp, body, "
        "integratedTime, logIndex or logID");
  }
  entry.signed_entry_timestamp = *set_bytes;
  entry.body_base64 = *body;
  entry.integrated_time = *integrated_time;
  entry.log_index = *log_index;
  entry.log_id_hex = *log_id;
  return entry;
}

SignatureCheck CheckSimpleSigningClaims(std::string_view payload_bytes, std::string_view image_digest,
                                        const std::string& signer_name) {
  auto payload = ParseJson(payload_bytes, "the simple-signing payload");
  if (!payload.ok()) return Fail(Reason::kMalformed, payload.status().message(), signer_name);
  const nlohmann::json* critical = Member(*payload, "critical");
  if (critical == nullptr || !critical->is_object()) {
    return Fail(Reason::kMalformed, "the simple-signing payload has no 'critical' object", signer_name);
  }
  const auto type = StringMember(*critical, "type");
  if (!type || *type != kSimpleSigningType) {
    return Fail(
        Reason::kNotAnImageSignature,
        "its payload's critical.type is '" + type.value_or("") + "', not '" + std::string(kSimpleSigningType) + "'",
        signer_name);
  }
  const nlohmann::json* image = Member(*critical, "image");
  const auto signed_digest = image ? StringMember(*image, "docker-manifest-digest") : std::nullopt;
  if (!signed_digest) {
    return Fail(Reason::kMalformed, "the payload has no critical.image.docker-manifest-digest", signer_name);
  }
  if (*signed_digest != image_digest) {
    return Fail(Reason::kDigestMismatch,
                "it signs digest " + signed_digest->substr(0, 80) + ", not " + std::string(image_digest), signer_name);
  }

  SignatureCheck ok;
  ok.reason = Reason::kVerified;
  ok.key_name = signer_name;
  return ok;
}

SignatureCheck CheckSimpleSigning(const SimpleSigningLayer& layer, std::string_view image_digest,
                                  const TrustedKeySet& keys, const CheckOptions& options) {
  if (!layer.signature)
    return Fail(Reason::kMalformed, "the layer has no dev.cosignproject.cosign/signature annotation");
  const auto signature = Base64Decode(*layer.signature);
  if (!signature || signature->empty()) {
    return Fail(Reason::kMalformed, "the dev.cosignproject.cosign/signature annotation is not valid base64");
  }
  std::optional<RekorEntry> rekor_entry;
  if (layer.rekor_bundle) {
    auto parsed = ParseRekorAnnotation(*layer.rekor_bundle);
    // Malformed tlog data only matters when the configuration checks the log.
    if (!parsed.ok() && options.rekor != nullptr && !options.rekor->empty()) {
      return Fail(Reason::kMalformed, parsed.status().message());
    }
    if (parsed.ok()) rekor_entry = std::move(parsed).value();
  }

  const TrustedPublicKey* signer = FindSigner(AllKeys(keys), layer.payload, *signature);
  if (signer == nullptr) {
    if (layer.certificate) {
      return Fail(Reason::kKeylessUnsupported,
                  "it was signed keylessly (Fulcio certificate): keyless signatures are not supported; configure "
                  "images.keys with the signer's public key");
    }
    if (rekor_entry) {
      if (const auto spki = RecordedSpki(*rekor_entry)) {
        if (const TrustedPublicKey* named = keys.FindBySpki(*spki)) {
          return Fail(Reason::kInvalidSignature, "its transparency log entry names trusted key '" + named->name +
                                                     "' but the signature does not verify over the payload "
                                                     "(altered after signing)");
        }
        return Fail(Reason::kUntrustedKey,
                    "it was made by key sha256:" + Sha256Hex(*spki) +
                        " (per its transparency log entry), which is not trusted (trusted: " + keys.Names() + ")");
      }
    }
    return Fail(Reason::kUntrustedKey, "it does not verify with any trusted key (" + keys.Names() +
                                           "): it was made by another key, or the payload was altered after signing");
  }

  SignatureCheck claims = CheckSimpleSigningClaims(layer.payload, image_digest, signer->name);
  if (!claims.verified()) return claims;

  std::vector<RekorEntry> entries;
  if (rekor_entry) entries.push_back(*rekor_entry);
  return CheckTlogEntries(entries, SignatureBinding{Sha256Hex(layer.payload), *signature, &signer->key}, signer->name,
                          options);
}

}  // namespace pipeguard::signatures
