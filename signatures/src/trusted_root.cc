#include "pipeguard/signatures/trusted_root.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fstream>

#include "json_util.h"
#include "pipeguard/base/time.h"

namespace pipeguard::signatures {
namespace {

constexpr std::streamsize kMaxTrustedRootBytes = 4 << 20;

// DER length octets.
std::string DerLength(size_t length) {
  if (length < 0x80) return std::string(1, static_cast<char>(length));
  std::string octets;
  for (size_t rest = length; rest > 0; rest >>= 8) octets.insert(octets.begin(), static_cast<char>(rest & 0xff));
  return std::string(1, static_cast<char>(0x80 | octets.size())) + octets;
}

// Wraps a PKCS#1 RSAPublicKey in a SubjectPublicKeyInfo: SEQUENCE { AlgorithmIdentifier { rsaEncryption, NULL },
// BIT STRING { 0 unused bits, key } }.
std::string RsaPkcs1ToSpki(const std::string& pkcs1) {
  static const std::string kAlgorithm("\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01\x05\x00", 15);
  const std::string bit_string = "\x03" + DerLength(pkcs1.size() + 1) + std::string(1, '\0') + pkcs1;
  return "\x30" + DerLength(kAlgorithm.size() + bit_string.size()) + kAlgorithm + bit_string;
}

StatusOr<ValidityWindow> ParseWindow(const nlohmann::json* valid_for, const std::string& where) {
  if (valid_for == nullptr || !valid_for->is_object()) {
    return Status::InvalidArgument(where + ".validFor is missing (every trusted entry needs a validity start)");
  }
  const auto start = StringMember(*valid_for, "start");
  if (!start) return Status::InvalidArgument(where + ".validFor.start is missing");
  ValidityWindow window;
  const auto start_time = base::ParseTimestamp(*start);
  if (!start_time) return Status::InvalidArgument(where + ".validFor.start '" + *start + "' is not an RFC 3339 time");
  window.start = *start_time;
  if (const auto end = StringMember(*valid_for, "end")) {
    const auto end_time = base::ParseTimestamp(*end);
    if (!end_time) return Status::InvalidArgument(where + ".validFor.end '" + *end + "' is not an RFC 3339 time");
    if (*end_time < window.start) return Status::InvalidArgument(where + ".validFor ends before it starts");
    window.end = *end_time;
  }
  return window;
}

StatusOr<std::vector<TransparencyLog>> ParseLogs(const nlohmann::json& root, std::string_view field) {
  std::vector<TransparencyLog> logs;
  const nlohmann::json* list = Member(root, field);
  if (list == nullptr) return logs;
  if (!list->is_array()) return Status::InvalidArgument(std::string(field) + " is not an array");
  for (size_t i = 0; i < list->size(); ++i) {
    const nlohmann::json& item = (*list)[i];
    const std::string where = std::string(field) + "[" + std::to_string(i) + "]";
    const nlohmann::json* public_key = Member(item, "publicKey", "public_key");
    const auto raw = public_key ? StringMember(*public_key, "rawBytes", "raw_bytes") : std::nullopt;
    const auto der = raw ? Base64Decode(*raw) : std::nullopt;
    if (!der) return Status::InvalidArgument(where + ".publicKey.rawBytes is missing or not base64");
    const auto key_details = StringMember(*public_key, "keyDetails", "key_details").value_or("");
    // PKCS1_RSA_* keys are a bare PKCS#1 RSAPublicKey; everything else is a SubjectPublicKeyInfo.
    auto key = PublicKey::FromDer(key_details.rfind("PKCS1_RSA", 0) == 0 ? RsaPkcs1ToSpki(*der) : *der);
    if (!key.ok()) return Status::InvalidArgument(where + ".publicKey: " + key.status().message());
    auto window = ParseWindow(Member(*public_key, "validFor", "valid_for"), where + ".publicKey");
    if (!window.ok()) return window.status();
    const nlohmann::json* log_id = Member(item, "logId", "log_id");
    const auto key_id = log_id ? StringMember(*log_id, "keyId", "key_id") : std::nullopt;
    const auto key_id_bytes = key_id ? Base64Decode(*key_id) : std::nullopt;
    // The log ID is what entries and SCTs name; without one it is the SPKI hash (Rekor v1 and RFC 6962 logs).
    std::string log_id_hex = key_id_bytes ? HexEncode(*key_id_bytes) : key->Sha256HexId();
    logs.push_back(TransparencyLog{StringMember(item, "baseUrl", "base_url").value_or(""), std::move(log_id_hex),
                                   std::move(key).value(), *window});
  }
  return logs;
}

StatusOr<std::vector<CertificateAuthority>> ParseAuthorities(const nlohmann::json& root, std::string_view field) {
  std::vector<CertificateAuthority> authorities;
  const nlohmann::json* list = Member(root, field);
  if (list == nullptr) return authorities;
  if (!list->is_array()) return Status::InvalidArgument(std::string(field) + " is not an array");
  for (size_t i = 0; i < list->size(); ++i) {
    const nlohmann::json& item = (*list)[i];
    const std::string where = std::string(field) + "[" + std::to_string(i) + "]";
    CertificateAuthority authority;
    authority.uri = StringMember(item, "uri").value_or("");
    const nlohmann::json* chain = Member(item, "certChain", "cert_chain");
    const nlohmann::json* certificates = chain ? Member(*chain, "certificates") : nullptr;
    if (certificates == nullptr || !certificates->is_array() || certificates->empty()) {
      return Status::InvalidArgument(where + ".certChain.certificates is missing or empty");
    }
    for (size_t j = 0; j < certificates->size(); ++j) {
      const auto raw = StringMember((*certificates)[j], "rawBytes", "raw_bytes");
      const auto der = raw ? Base64Decode(*raw) : std::nullopt;
      if (!der || der->empty()) {
        return Status::InvalidArgument(where + ".certChain.certificates[" + std::to_string(j) +
                                       "].rawBytes is missing or not base64");
      }
      const unsigned char* cursor = reinterpret_cast<const unsigned char*>(der->data());
      X509* parsed = d2i_X509(nullptr, &cursor, static_cast<long>(der->size()));
      unsigned char* spki = nullptr;
      const int spki_length = parsed ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(parsed), &spki) : 0;
      if (parsed == nullptr || spki_length <= 0 || X509_get0_pubkey(parsed) == nullptr) {
        X509_free(parsed);
        return Status::InvalidArgument(where + ".certChain.certificates[" + std::to_string(j) +
                                       "] is not a usable DER X.509 certificate");
      }
      X509_check_purpose(parsed, -1, 0);  // caches the extensions now, so shared use later only reads
      authority.spki_sha256.push_back(
          Sha256(std::string_view(reinterpret_cast<char*>(spki), static_cast<size_t>(spki_length))));
      OPENSSL_free(spki);
      authority.certificates.emplace_back(parsed, X509_free);
      authority.chain_der.push_back(*der);
    }
    auto window = ParseWindow(Member(item, "validFor", "valid_for"), where);
    if (!window.ok()) return window.status();
    authority.valid_for = *window;
    authorities.push_back(std::move(authority));
  }
  return authorities;
}

}  // namespace

StatusOr<TrustedRoot> TrustedRoot::Parse(std::string_view json) {
  auto root = ParseJson(json, "the trusted root");
  if (!root.ok()) return root.status();
  if (!root->is_object()) return Status::InvalidArgument("the trusted root is not a JSON object");
  const auto media_type = StringMember(*root, "mediaType", "media_type");
  if (media_type && media_type->rfind("application/vnd.dev.sigstore.trustedroot", 0) != 0) {
    return Status::InvalidArgument("the trusted root's mediaType '" + *media_type +
                                   "' is not application/vnd.dev.sigstore.trustedroot+json");
  }
  TrustedRoot parsed;
  auto authorities = ParseAuthorities(*root, "certificateAuthorities");
  if (!authorities.ok()) return authorities.status();
  parsed.certificate_authorities_ = std::move(authorities).value();
  auto tlogs = ParseLogs(*root, "tlogs");
  if (!tlogs.ok()) return tlogs.status();
  parsed.tlogs_ = std::move(tlogs).value();
  auto ctlogs = ParseLogs(*root, "ctlogs");
  if (!ctlogs.ok()) return ctlogs.status();
  parsed.ctlogs_ = std::move(ctlogs).value();
  auto timestamp_authorities = ParseAuthorities(*root, "timestampAuthorities");
  if (!timestamp_authorities.ok()) return timestamp_authorities.status();
  parsed.timestamp_authorities_ = std::move(timestamp_authorities).value();
  if (parsed.certificate_authorities_.empty() && parsed.tlogs_.empty()) {
    return Status::InvalidArgument("the trusted root lists no certificateAuthorities and no tlogs");
  }

  std::string material;
  const auto add = [&material](std::string_view tag, std::string_view bytes, const ValidityWindow& window) {
    material += std::string(tag) + ":" + Sha256Hex(bytes) + ":" + std::to_string(window.start) + ":" +
                (window.end ? std::to_string(*window.end) : "-") + ";";
  };
  for (const auto& ca : parsed.certificate_authorities_)
    for (const auto& cert : ca.chain_der) add("ca", cert, ca.valid_for);
  for (const auto& log : parsed.tlogs_) add("tlog", log.log_id_hex + log.key.spki_der(), log.valid_for);
  for (const auto& log : parsed.ctlogs_) add("ctlog", log.log_id_hex + log.key.spki_der(), log.valid_for);
  for (const auto& tsa : parsed.timestamp_authorities_)
    for (const auto& cert : tsa.chain_der) add("tsa", cert, tsa.valid_for);
  parsed.fingerprint_ = Sha256Hex(material);
  return parsed;
}

StatusOr<TrustedRoot> TrustedRoot::Load(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Status::NotFound("cannot open trusted root file '" + path + "'; check that it is mounted");
  std::string contents(static_cast<size_t>(kMaxTrustedRootBytes) + 1, '\0');
  file.read(contents.data(), kMaxTrustedRootBytes + 1);
  if (file.bad()) return Status::InvalidArgument("error reading trusted root file '" + path + "'");
  if (file.gcount() > kMaxTrustedRootBytes) {
    return Status::InvalidArgument("trusted root file '" + path + "' is larger than 4 MiB");
  }
  contents.resize(static_cast<size_t>(file.gcount()));
  auto root = Parse(contents);
  if (!root.ok()) return Status::InvalidArgument("trusted root file '" + path + "': " + root.status().message());
  return root;
}

}  // namespace pipeguard::signatures
