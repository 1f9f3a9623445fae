#include "pipeguard/signatures/checks.h"

#include "check_util.h"
#include "json_util.h"

namespace pipeguard::signatures {

std::string_view ReasonText(Reason reason) {
  switch (reason) {
    case Reason::kVerified:
      return "verified";
    case Reason::kDigestMismatch:
      return "signature for a different digest";
    case Reason::kNotAnImageSignature:
      return "not an image signature";
    case Reason::kInvalidSignature:
      return "signature invalid";
    case Reason::kUntrustedKey:
      return "not signed by a trusted key";
    case Reason::kIdentityNotAllowed:
      return "signer identity not allowed";
    case Reason::kUntrustedCertificate:
      return "signing certificate not trusted";
    case Reason::kKeylessUnsupported:
      return "keyless signature not supported";
    case Reason::kAttestationsNotSatisfied:
      return "attestations not satisfied";
    case Reason::kMalformed:
      return "malformed signature";
    case Reason::kNoSignature:
      return "no signature found";
    case Reason::kImageNotFound:
      return "image not found";
    case Reason::kRegistryDenied:
      return "registry denied access";
    case Reason::kRegistryUnreachable:
      return "registry unreachable";
    case Reason::kTimedOut:
      return "timed out";
  }
  return "unknown";
}

std::string_view ReasonId(Reason reason) {
  switch (reason) {
    case Reason::kVerified:
      return "verified";
    case Reason::kDigestMismatch:
      return "digest_mismatch";
    case Reason::kNotAnImageSignature:
      return "not_an_image_signature";
    case Reason::kInvalidSignature:
      return "invalid_signature";
    case Reason::kUntrustedKey:
      return "untrusted_key";
    case Reason::kIdentityNotAllowed:
      return "identity_not_allowed";
    case Reason::kUntrustedCertificate:
      return "untrusted_certificate";
    case Reason::kKeylessUnsupported:
      return "keyless_unsupported";
    case Reason::kAttestationsNotSatisfied:
      return "attestations_not_satisfied";
    case Reason::kMalformed:
      return "malformed";
    case Reason::kNoSignature:
      return "no_signature";
    case Reason::kImageNotFound:
      return "image_not_found";
    case Reason::kRegistryDenied:
      return "registry_denied";
    case Reason::kRegistryUnreachable:
      return "registry_unreachable";
    case Reason::kTimedOut:
      return "timed_out";
  }
  return "unknown";
}

std::string_view SignatureFormatName(SignatureFormat format) {
  switch (format) {
    case SignatureFormat::kNone:
      return "none";
    case SignatureFormat::kSimpleSigning:
      return "cosign simple signing (.sig)";
    case SignatureFormat::kSigstoreBundle:
      return "sigstore bundle";
    case SignatureFormat::kDsseEnvelope:
      return "cosign DSSE envelope (.att)";
  }
  return "unknown";
}

std::string DssePae(std::string_view payload_type, std::string_view payload) {
  std::string pae = "DSSEv1 ";
  pae += std::to_string(payload_type.size());
  pae += ' ';
  pae += payload_type;
  pae += ' ';
  pae += std::to_string(payload.size());
  pae += ' ';
  pae += payload;
  return pae;
}

StatusOr<DsseEnvelope> ParseDsseEnvelope(const nlohmann::json& envelope) {
  const auto payload_type = StringMember(envelope, "payloadType", "payload_type");
  const auto payload_b64 = StringMember(envelope, "payload");
  const nlohmann::json* signatures = Member(envelope, "signatures");
  if (!payload_type || !payload_b64 || signatures == nullptr || !signatures->is_array()) {
    return Status::InvalidArgument("the DSSE envelope lacks payloadType, payload or signatures");
  }
  if (signatures->size() != 1) {
    return Status::InvalidArgument("the DSSE envelope has " + std::to_string(signatures->size()) +
                                   " signatures; exactly one is allowed");
  }
  auto payload = Base64Decode(*payload_b64);
  if (!payload) return Status::InvalidArgument("the DSSE payload is not valid base64");
  const auto sig_b64 = StringMember((*signatures)[0], "sig");
  auto signature = sig_b64 ? Base64Decode(*sig_b64) : std::nullopt;
  if (!signature || signature->empty()) {
    return Status::InvalidArgument("the DSSE signature is missing or not valid base64");
  }
  return DsseEnvelope{*payload_type, std::move(*payload), std::move(*signature)};
}

SignatureCheck CheckTlogEntries(const std::vector<RekorEntry>& entries, const SignatureBinding& binding,
                                const std::string& key_name, const CheckOptions& options) {
  SignatureCheck result;
  result.reason = Reason::kVerified;
  result.key_name = key_name;
  if (options.rekor == nullptr || options.rekor->empty()) return result;  // tlog data ignored by configuration
  if (entries.size() > options.max_tlog_entries) {
    return Fail(Reason::kMalformed,
                "carries " + std::to_string(entries.size()) + " transparency log entries, more than the limit of " +
                    std::to_string(options.max_tlog_entries),
                key_name);
  }
  for (const RekorEntry& entry : entries) {
    const Status set = VerifySignedEntryTimestamp(*options.rekor, entry);
    if (set.code() == StatusCode::kNotFound) continue;  // another log: neither trusted nor held against it
    if (!set.ok()) return Fail(Reason::kInvalidSignature, set.message(), key_name);
    const Status body = CheckEntryBody(entry, binding);
    if (!body.ok()) return Fail(Reason::kInvalidSignature, body.message(), key_name);
    result.tlog_verified = true;
  }
  if (options.require_tlog && !result.tlog_verified) {
    return Fail(Reason::kInvalidSignature,
                "has no verified entry from a trusted transparency log, which the configuration requires", key_name);
  }
  return result;
}

}  // namespace pipeguard::signatures
