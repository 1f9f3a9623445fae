#include "pipeguard/signatures/fulcio_certificate.h"

#include <openssl/asn1.h>
#include <openssl/ct.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <optional>

#include "openssl_util.h"

namespace pipeguard::signatures {
namespace {

constexpr std::string_view kFulcioArcPrefix = "1.3.6.1.4.1.57264.1.";

struct X509Deleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct StoreDeleter {
  void operator()(X509_STORE* store) const { X509_STORE_free(store); }
};
struct StoreCtxDeleter {
  void operator()(X509_STORE_CTX* ctx) const { X509_STORE_CTX_free(ctx); }
};
struct ObjectDeleter {
  void operator()(ASN1_OBJECT* object) const { ASN1_OBJECT_free(object); }
};
struct GeneralNamesDeleter {
  void operator()(GENERAL_NAMES* names) const { GENERAL_NAMES_free(names); }
};
struct SctListDeleter {
  void operator()(STACK_OF(SCT) * list) const { SCT_LIST_free(list); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

X509Ptr ParseDer(std::string_view der) {
  const unsigned char* cursor = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr cert(d2i_X509(nullptr, &cursor, static_cast<long>(der.size())));
  if (cert != nullptr && cursor != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) return nullptr;
  return cert;
}

std::optional<int64_t> ToUnix(const ASN1_TIME* time) {
  struct tm parts {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &parts) != 1) return std::nullopt;
  return static_cast<int64_t>(timegm(&parts));
}

std::string Asn1String(const ASN1_STRING* value) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                     static_cast<size_t>(ASN1_STRING_length(value)));
}

// The contents of extension 1.3.6.1.4.1.57264.1.<arc>, decoded; nullopt when absent. InvalidArgument when a
// DER-encoded one is not a UTF8String.
StatusOr<std::optional<std::string>> FulcioExtensionValue(X509* cert, int arc, bool der_utf8) {
  const std::string oid = std::string(kFulcioArcPrefix) + std::to_string(arc);
  std::unique_ptr<ASN1_OBJECT, ObjectDeleter> object(OBJ_txt2obj(oid.c_str(), 1));
  if (object == nullptr) return Status::Internal("cannot build OID " + oid);
  const int index = X509_get_ext_by_OBJ(cert, object.get(), -1);
  if (index < 0) return std::optional<std::string>();
  const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(X509_get_ext(cert, index));
  if (!der_utf8) return std::optional<std::string>(Asn1String(data));
  const unsigned char* cursor = ASN1_STRING_get0_data(data);
  const long length = ASN1_STRING_length(data);
  ASN1_UTF8STRING* text = d2i_ASN1_UTF8STRING(nullptr, &cursor, length);
  if (text == nullptr || cursor != ASN1_STRING_get0_data(data) + length) {
    ASN1_UTF8STRING_free(text);
    return Status::InvalidArgument("the certificate's extension " + oid + " is not a DER UTF8String");
  }
  std::string value = Asn1String(text);
  ASN1_UTF8STRING_free(text);
  return std::optional<std::string>(std::move(value));
}

Status ReadIdentity(X509* cert, CertificateIdentity& identity) {
  std::unique_ptr<GENERAL_NAMES, GeneralNamesDeleter> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (names != nullptr) {
    std::unique_ptr<ASN1_OBJECT, ObjectDeleter> username_oid(OBJ_txt2obj("1.3.6.1.4.1.57264.1.7", 1));
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
      if (name->type == GEN_URI) {
        identity.san_uris.push_back(Asn1String(name->d.uniformResourceIdentifier));
      } else if (name->type == GEN_EMAIL) {
        identity.san_emails.push_back(Asn1String(name->d.rfc822Name));
      } else if (name->type == GEN_OTHERNAME && username_oid != nullptr &&
                 OBJ_cmp(name->d.otherName->type_id, username_oid.get()) == 0 &&
                 name->d.otherName->value->type == V_ASN1_UTF8STRING) {
        identity.san_others.push_back(Asn1String(name->d.otherName->value->value.utf8string));
      }
    }
  }
  auto issuer = FulcioExtensionValue(cert, 8, true);
  if (!issuer.ok()) return issuer.status();
  if (issuer->has_value()) {
    identity.issuer = **issuer;
  } else {
    auto legacy = FulcioExtensionValue(cert, 1, false);
    if (!legacy.ok()) return legacy.status();
    identity.issuer = legacy->value_or("");
  }
  for (const FulcioExtension& extension : FulcioExtensions()) {
    auto value = FulcioExtensionValue(cert, extension.arc, extension.der_utf8);
    if (!value.ok()) return value.status();
    if (value->has_value()) identity.extensions.emplace(std::string(extension.name), std::move(**value));
  }
  return Status::Ok();
}

void PutUint(std::string& out, uint64_t value, int bytes) {
  for (int shift = (bytes - 1) * 8; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
}

// One DER element at `pos` of `der`: its tag, header length and content length. False when malformed (long-form
// lengths up to 4 bytes, no indefinite length).
bool ReadElement(std::string_view der, size_t pos, unsigned char& tag, size_t& header, size_t& length) {
  if (pos + 2 > der.size()) return false;
  tag = static_cast<unsigned char>(der[pos]);
  const unsigned char first = static_cast<unsigned char>(der[pos + 1]);
  header = 2;
  length = first;
  if (first & 0x80) {
    const size_t octets = first & 0x7f;
    if (octets == 0 || octets > 4 || pos + 2 + octets > der.size()) return false;
    length = 0;
    for (size_t i = 0; i < octets; ++i) length = (length << 8) | static_cast<unsigned char>(der[pos + 2 + i]);
    header += octets;
  }
  return pos + header + length <= der.size();
}

std::string Element(unsigned char tag, std::string_view content) {
  std::string out(1, static_cast<char>(tag));
  if (content.size() < 0x80) {
    out.push_back(static_cast<char>(content.size()));
  } else {
    std::string octets;
    for (size_t rest = content.size(); rest > 0; rest >>= 8)
      octets.insert(octets.begin(), static_cast<char>(rest & 0xff));
    out.push_back(static_cast<char>(0x80 | octets.size()));
    out += octets;
  }
  out.append(content);
  return out;
}

// The precertificate TBS of RFC 6962 §3.2: the certificate's TBSCertificate bytes with the SCT list extension
// (1.3.6.1.4.1.11129.2.4.2) removed, cut from the original DER (no re-encoding). nullopt when malformed.
std::optional<std::string> PrecertificateTbs(std::string_view certificate_der) {
  static constexpr std::string_view kSctOid("\x06\x0a\x2b\x06\x01\x04\x01\xd6\x79\x02\x04\x02", 12);
  unsigned char tag = 0;
  size_t header = 0, length = 0;
  if (!ReadElement(certificate_der, 0, tag, header, length) || tag != 0x30) return std::nullopt;
  const size_t tbs_pos = header;
  if (!ReadElement(certificate_der, tbs_pos, tag, header, length) || tag != 0x30) return std::nullopt;
  const std::string_view tbs = certificate_der.substr(tbs_pos + header, length);
  std::string rebuilt;
  for (size_t pos = 0; pos < tbs.size();) {
    if (!ReadElement(tbs, pos, tag, header, length)) return std::nullopt;
    const std::string_view element = tbs.substr(pos, header + length);
    if (tag != 0xa3) {
      rebuilt.append(element);
    } else {
      const std::string_view wrapper = tbs.substr(pos + header, length);
      unsigned char list_tag = 0;
      size_t list_header = 0, list_length = 0;
      if (!ReadElement(wrapper, 0, list_tag, list_header, list_length) || list_tag != 0x30) return std::nullopt;
      const std::string_view list = wrapper.substr(list_header, list_length);
      std::string kept;
      for (size_t at = 0; at < list.size();) {
        unsigned char ext_tag = 0;
        size_t ext_header = 0, ext_length = 0;
        if (!ReadElement(list, at, ext_tag, ext_header, ext_length) || ext_tag != 0x30) return std::nullopt;
        const std::string_view extension = list.substr(at, ext_header + ext_length);
        if (extension.substr(ext_header, kSctOid.size()) != kSctOid) kept.append(extension);
        at += ext_header + ext_length;
      }
      if (!kept.empty()) rebuilt += Element(0xa3, Element(0x30, kept));
    }
    pos += header + length;
  }
  return Element(0x30, rebuilt);
}

}  // namespace

const std::vector<FulcioExtension>& FulcioExtensions() {
  static const std::vector<FulcioExtension> kExtensions = {
      {2, "githubWorkflowTrigger", false},
      {3, "githubWorkflowSha", false},
      {4, "githubWorkflowName", false},
      {5, "githubWorkflowRepository", false},
      {6, "githubWorkflowRef", false},
      {9, "buildSignerUri", true},
      {10, "buildSignerDigest", true},
      {11, "runnerEnvironment", true},
      {12, "sourceRepositoryUri", true},
      {13, "sourceRepositoryDigest", true},
      {14, "sourceRepositoryRef", true},
      {15, "sourceRepositoryIdentifier", true},
      {16, "sourceRepositoryOwnerUri", true},
      {17, "sourceRepositoryOwnerIdentifier", true},
      {18, "buildConfigUri", true},
      {19, "buildConfigDigest", true},
      {20, "buildTrigger", true},
      {21, "runInvocationUri", true},
      {22, "sourceRepositoryVisibilityAtSigning", true},
      {23, "deploymentEnvironment", true},
  };
  return kExtensions;
}

std::vector<std::string> CertificateIdentity::Subjects() const {
  std::vector<std::string> all = san_uris;
  all.insert(all.end(), san_emails.begin(), san_emails.end());
  all.insert(all.end(), san_others.begin(), san_others.end());
  return all;
}

FulcioCertificate::FulcioCertificate(std::shared_ptr<x509_st> x509, std::string der, PublicKey key)
    : x509_(std::move(x509)), der_(std::move(der)), public_key_(std::move(key)) {}

StatusOr<FulcioCertificate> FulcioCertificate::FromDer(std::string_view der) {
  X509Ptr parsed = ParseDer(der);
  if (parsed == nullptr) return Status::InvalidArgument("the signing certificate is not a DER X.509 certificate");
  X509* cert = parsed.get();
  // The SPKI as encoded in the certificate, and the key OpenSSL decoded while parsing it (decoding is slow).
  unsigned char* spki = nullptr;
  const int spki_length = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &spki);
  EVP_PKEY* decoded = X509_get_pubkey(cert);  // a new reference
  if (spki_length <= 0 || decoded == nullptr) {
    OPENSSL_free(spki);
    EVP_PKEY_free(decoded);
    return Status::InvalidArgument("the signing certificate has no usable public key");
  }
  std::string spki_der(reinterpret_cast<char*>(spki), static_cast<size_t>(spki_length));
  OPENSSL_free(spki);
  auto key = PublicKey::FromDecoded(std::shared_ptr<evp_pkey_st>(decoded, EVP_PKEY_free), std::move(spki_der));
  if (!key.ok()) return Status::InvalidArgument("the signing certificate's public key: " + key.status().message());
  const auto not_before = ToUnix(X509_get0_notBefore(cert));
  const auto not_after = ToUnix(X509_get0_notAfter(cert));
  if (!not_before || !not_after) return Status::InvalidArgument("the signing certificate has an invalid validity");

  FulcioCertificate result(std::shared_ptr<x509_st>(parsed.release(), X509Deleter()), std::string(der),
                           std::move(key).value());
  result.not_before_ = *not_before;
  result.not_after_ = *not_after;
  const uint32_t flags = X509_get_extension_flags(cert);  // also caches the extensions OpenSSL understands
  if (flags & EXFLAG_INVALID) return Status::InvalidArgument("the signing certificate has malformed extensions");
  result.code_signing_ = (flags & EXFLAG_XKUSAGE) != 0 && (X509_get_extended_key_usage(cert) & XKU_CODE_SIGN) != 0;
  result.is_ca_ = (flags & EXFLAG_CA) != 0;
  result.self_signed_ = (flags & EXFLAG_SS) != 0;
  if (Status status = ReadIdentity(cert, result.identity_); !status.ok()) return status;
  return result;
}

StatusOr<FulcioCertificate> FulcioCertificate::FromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return Status::Internal("cannot allocate a memory BIO");
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) return Status::InvalidArgument("no PEM CERTIFICATE block found");
  unsigned char* der = nullptr;
  const int length = i2d_X509(cert.get(), &der);
  if (length <= 0) return Status::InvalidArgument("the PEM certificate cannot be re-encoded");
  std::string bytes(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return FromDer(bytes);
}

StatusOr<ChainVerification> VerifyCertificateChain(const FulcioCertificate& leaf, const TrustedRoot& root,
                                                   int64_t at_time) {
  std::string last_error = "no certificate authority of the trusted root valid at the signing time issued it";
  for (const CertificateAuthority& authority : root.certificate_authorities()) {
    if (!authority.valid_for.Contains(at_time)) continue;
    const auto& chain = authority.certificates;
    for (size_t i = 0; i < chain.size(); ++i) {
      // The configured certificate that issued the leaf (names and key identifiers; the signature is checked
      // below) becomes the only trust anchor.
      if (chain[i] == nullptr || X509_check_issued(chain[i].get(), leaf.x509()) != X509_V_OK) continue;
      std::unique_ptr<X509_STORE, StoreDeleter> store(X509_STORE_new());
      std::unique_ptr<X509_STORE_CTX, StoreCtxDeleter> ctx(X509_STORE_CTX_new());
      if (store == nullptr || ctx == nullptr || X509_STORE_add_cert(store.get(), chain[i].get()) != 1 ||
          X509_STORE_CTX_init(ctx.get(), store.get(), leaf.x509(), nullptr) != 1) {
        return Status::Internal("cannot initialise certificate verification");
      }
      X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
      X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(at_time));
      X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
      if (X509_verify_cert(ctx.get()) != 1) {
        last_error = "it does not verify against certificate authority " + authority.uri + " at the signing time (" +
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())) + ")";
        continue;
      }
      // The configured certificates from the anchor up to the root must be valid at the signing time too.
      bool chain_valid = true;
      for (size_t j = i; j < chain.size(); ++j) {
        const auto not_before = chain[j] ? ToUnix(X509_get0_notBefore(chain[j].get())) : std::nullopt;
        const auto not_after = chain[j] ? ToUnix(X509_get0_notAfter(chain[j].get())) : std::nullopt;
        if (!not_before || !not_after || at_time < *not_before || at_time > *not_after) chain_valid = false;
      }
      if (!chain_valid) {
        last_error = "a certificate of authority " + authority.uri + " was not valid at the signing time";
        continue;
      }
      ChainVerification verified;
      verified.authority = &authority;
      verified.issuer_key_hash = authority.spki_sha256[i];
      return verified;
    }
  }
  return Status::InvalidArgument(last_error);
}

Status VerifyEmbeddedScts(const FulcioCertificate& leaf, std::string_view issuer_key_hash, const TrustedRoot& root) {
  std::unique_ptr<STACK_OF(SCT), SctListDeleter> scts(
      static_cast<STACK_OF(SCT)*>(X509_get_ext_d2i(leaf.x509(), NID_ct_precert_scts, nullptr, nullptr)));
  if (scts == nullptr || sk_SCT_num(scts.get()) == 0) {
    return Status::InvalidArgument("the certificate carries no embedded SCT (certificate transparency proof)");
  }
  const auto tbs_der = PrecertificateTbs(leaf.der());
  if (!tbs_der) return Status::InvalidArgument("the certificate's DER cannot be split into its TBSCertificate");
  bool verified = false;
  for (int i = 0; i < sk_SCT_num(scts.get()); ++i) {
    SCT* sct = sk_SCT_value(scts.get(), i);
    if (SCT_get_version(sct) != SCT_VERSION_V1) continue;
    unsigned char* log_id = nullptr;
    const size_t log_id_length = SCT_get0_log_id(sct, &log_id);
    const std::string log_id_hex = HexEncode(std::string_view(reinterpret_cast<char*>(log_id), log_id_length));
    const TransparencyLog* log = nullptr;
    for (const TransparencyLog& candidate : root.ctlogs()) {
      if (candidate.log_id_hex == log_id_hex) log = &candidate;
    }
    if (log == nullptr) continue;
    const uint64_t timestamp_ms = SCT_get_timestamp(sct);
    if (!log->valid_for.Contains(static_cast<int64_t>(timestamp_ms / 1000))) {
      return Status::InvalidArgument("the SCT from CT log " + log->base_url +
                                     " is dated outside the log's trusted validity window");
    }
    unsigned char* extensions = nullptr;
    const size_t extensions_length = SCT_get0_extensions(sct, &extensions);
    unsigned char* signature = nullptr;
    const size_t signature_length = SCT_get0_signature(sct, &signature);
    // digitally-signed struct of RFC 6962 §3.2 for a precert_entry.
    std::string signed_data;
    PutUint(signed_data, 0, 1);  // version v1
    PutUint(signed_data, 0, 1);  // signature_type certificate_timestamp
    PutUint(signed_data, timestamp_ms, 8);
    PutUint(signed_data, 1, 2);  // entry_type precert_entry
    signed_data.append(issuer_key_hash);
    PutUint(signed_data, tbs_der->size(), 3);
    signed_data += *tbs_der;
    PutUint(signed_data, extensions_length, 2);
    signed_data.append(reinterpret_cast<char*>(extensions), extensions_length);
    if (!log->key.Verify(signed_data, std::string_view(reinterpret_cast<char*>(signature), signature_length))) {
      return Status::InvalidArgument("the SCT from CT log " + log->base_url + " does not verify");
    }
    verified = true;
  }
  if (!verified) return Status::InvalidArgument("no embedded SCT comes from a trusted CT log");
  return Status::Ok();
}

}  // namespace pipeguard::signatures
