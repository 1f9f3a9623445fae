#include "pipeguard/signatures/crypto.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <array>
#include <vector>

#include "openssl_util.h"

namespace pipeguard::signatures {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr size_t kMinRsaBits = 2048;

// One verification with an optional RSA padding mode; any OpenSSL failure means "does not verify".
bool DigestVerifyWith(EVP_PKEY* key, const EVP_MD* md, int rsa_padding, std::string_view message,
                      std::string_view signature) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return false;
  EVP_PKEY_CTX* pkey_ctx = nullptr;  // owned by ctx
  bool ok = EVP_DigestVerifyInit(ctx.get(), &pkey_ctx, md, nullptr, key) == 1;
  if (ok && rsa_padding == RSA_PKCS1_PSS_PADDING) {
    ok = EVP_PKEY_CTX_set_rsa_padding(pkey_ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pkey_ctx, RSA_PSS_SALTLEN_AUTO) == 1;
  }
  ok = ok && EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                              reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  ERR_clear_error();
  return ok;
}

bool PrehashedVerifyWith(EVP_PKEY* key, int rsa_padding, std::string_view digest, std::string_view signature) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key, nullptr));
  bool ok = ctx && EVP_PKEY_verify_init(ctx.get()) == 1 && EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) == 1;
  if (ok && rsa_padding != 0) {
    ok = EVP_PKEY_CTX_set_rsa_padding(ctx.get(), rsa_padding) == 1;
    if (ok && rsa_padding == RSA_PKCS1_PSS_PADDING) {
      ok = EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), RSA_PSS_SALTLEN_AUTO) == 1;
    }
  }
  ok = ok && EVP_PKEY_verify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                             reinterpret_cast<const unsigned char*>(digest.data()), digest.size()) == 1;
  ERR_clear_error();
  return ok;
}

size_t CountOccurrences(std::string_view haystack, std::string_view needle) {
  size_t count = 0;
  for (size_t pos = haystack.find(needle); pos != std::string_view::npos; pos = haystack.find(needle, pos + 1)) {
    ++count;
  }
  return count;
}

}  // namespace

std::string Sha256(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    // SHA-256 cannot fail short of memory exhaustion; an empty digest never matches anything.
    ERR_clear_error();
    return {};
  }
  return std::string(reinterpret_cast<const char*>(digest.data()), length);
}

std::string HexEncode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHexDigits[c >> 4]);
    out.push_back(kHexDigits[c & 0xF]);
  }
  return out;
}

std::string Sha256Hex(std::string_view bytes) { return HexEncode(Sha256(bytes)); }

bool IsSha256Digest(std::string_view digest) {
  constexpr std::string_view kPrefix = "sha256:";
  if (digest.size() != kPrefix.size() + 64 || digest.substr(0, kPrefix.size()) != kPrefix) return false;
  for (char c : digest.substr(kPrefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string_view KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kEcdsaP256:
      return "ECDSA P-256";
    case KeyType::kEcdsaP384:
      return "ECDSA P-384";
    case KeyType::kEcdsaP521:
      return "ECDSA P-521";
    case KeyType::kRsa:
      return "RSA";
    case KeyType::kEd25519:
      return "Ed25519";
  }
  return "unknown";
}

PublicKey::PublicKey(std::shared_ptr<evp_pkey_st> key, KeyType type, std::string spki_der)
    : key_(std::move(key)), type_(type), spki_der_(std::move(spki_der)) {}

StatusOr<PublicKey> PublicKey::FromDecoded(std::shared_ptr<evp_pkey_st> key, std::string spki_der) {
  if (key == nullptr || spki_der.empty()) return Status::InvalidArgument("no public key");
  return FromPkey(std::move(key), std::move(spki_der));
}

StatusOr<PublicKey> PublicKey::FromPkey(std::shared_ptr<evp_pkey_st> key, std::string spki_der) {
  KeyType type;
  switch (EVP_PKEY_get_base_id(key.get())) {
    case EVP_PKEY_EC: {
      std::array<char, 64> group{};
      size_t group_length = 0;
      if (EVP_PKEY_get_utf8_string_param(key.get(), OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(),
                                         &group_length) != 1) {
        ERR_clear_error();
        return Status::InvalidArgument("the EC public key has no named curve; use P-256, P-384 or P-521");
      }
      const std::string_view curve(group.data(), group_length);
      if (curve == "prime256v1" || curve == "P-256") {
        type = KeyType::kEcdsaP256;
      } else if (curve == "secp384r1" || curve == "P-384") {
        type = KeyType::kEcdsaP384;
      } else if (curve == "secp521r1" || curve == "P-521") {
        type = KeyType::kEcdsaP521;
      } else {
        return Status::InvalidArgument("unsupported EC curve '" + std::string(curve) +
                                       "'; cosign keys use P-256 (also accepted: P-384, P-521)");
      }
      break;
    }
    case EVP_PKEY_RSA: {
      const int bits = EVP_PKEY_get_bits(key.get());
      if (bits < static_cast<int>(kMinRsaBits)) {
        return Status::InvalidArgument("RSA key of " + std::to_string(bits) + " bits is too weak; use at least " +
                                       std::to_string(kMinRsaBits) + " bits");
      }
      type = KeyType::kRsa;
      break;
    }
    case EVP_PKEY_ED25519:
      type = KeyType::kEd25519;
      break;
    default:
      return Status::InvalidArgument(
          "unsupported public key algorithm; use ECDSA (P-256, P-384, P-521), RSA (>= 2048 bits) or Ed25519");
  }
  unsigned char* der = nullptr;
  if (!spki_der.empty()) return PublicKey(std::move(key), type, std::move(spki_der));
  const int der_length = i2d_PUBKEY(key.get(), &der);
  if (der_length <= 0) {
    ERR_clear_error();
    return Status::InvalidArgument("the public key cannot be encoded as SubjectPublicKeyInfo");
  }
  std::string spki(reinterpret_cast<const char*>(der), static_cast<size_t>(der_length));
  OPENSSL_free(der);
  return PublicKey(std::move(key), type, std::move(spki));
}

StatusOr<PublicKey> PublicKey::FromPem(std::string_view pem) {
  // Classify the input first so the error says what was given, without quoting it.
  if (pem.find("PRIVATE KEY-----") != std::string_view::npos) {
    return Status::InvalidArgument(
        "it contains a PRIVATE KEY; configure the public key instead (e.g. cosign.pub, '-----BEGIN PUBLIC KEY-----')");
  }
  const size_t blocks = CountOccurrences(pem, "-----BEGIN ");
  if (blocks == 0) {
    return Status::InvalidArgument("no PEM block found; expected '-----BEGIN PUBLIC KEY-----' (e.g. cosign.pub)");
  }
  if (pem.find("-----BEGIN PUBLIC KEY-----") == std::string_view::npos) {
    return Status::InvalidArgument(
        "the PEM block is not a PUBLIC KEY (certificates and PKCS#1 'RSA PUBLIC KEY' blocks are not accepted); "
        "expected '-----BEGIN PUBLIC KEY-----'");
  }
  if (blocks > 1) {
    return Status::InvalidArgument("more than one PEM block; configure one public key per entry");
  }
  if (pem.size() > static_cast<size_t>(INT32_MAX)) return Status::InvalidArgument("PEM text too large");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Status::Internal("out of memory reading a PEM key");
  EVP_PKEY* raw = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  ERR_clear_error();
  if (raw == nullptr) {
    return Status::InvalidArgument("the PUBLIC KEY block is not a valid SubjectPublicKeyInfo (corrupt base64 or DER)");
  }
  return FromPkey(std::shared_ptr<evp_pkey_st>(raw, EVP_PKEY_free));
}

StatusOr<PublicKey> PublicKey::FromDer(std::string_view der) {
  const unsigned char* cursor = reinterpret_cast<const unsigned char*>(der.data());
  if (der.size() > static_cast<size_t>(INT32_MAX)) return Status::InvalidArgument("DER key too large");
  EVP_PKEY* raw = d2i_PUBKEY(nullptr, &cursor, static_cast<long>(der.size()));
  ERR_clear_error();
  if (raw == nullptr) return Status::InvalidArgument("not a DER SubjectPublicKeyInfo");
  std::shared_ptr<evp_pkey_st> key(raw, EVP_PKEY_free);
  if (cursor != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return Status::InvalidArgument("trailing bytes after the DER SubjectPublicKeyInfo");
  }
  return FromPkey(std::move(key));
}

std::string PublicKey::Hint() const { return Base64Encode(Sha256(spki_der_)); }

std::string PublicKey::Sha256HexId() const { return Sha256Hex(spki_der_); }

bool PublicKey::Verify(std::string_view message, std::string_view signature) const {
  EVP_PKEY* key = key_.get();
  switch (type_) {
    case KeyType::kEcdsaP256:
      return DigestVerifyWith(key, EVP_sha256(), 0, message, signature);
    case KeyType::kEcdsaP384:
      return DigestVerifyWith(key, EVP_sha384(), 0, message, signature) ||
             DigestVerifyWith(key, EVP_sha256(), 0, message, signature);
    case KeyType::kEcdsaP521:
      return DigestVerifyWith(key, EVP_sha512(), 0, message, signature) ||
             DigestVerifyWith(key, EVP_sha256(), 0, message, signature);
    case KeyType::kRsa:
      for (int padding : {RSA_PKCS1_PADDING, RSA_PKCS1_PSS_PADDING}) {
        for (const EVP_MD* md : {EVP_sha256(), EVP_sha384(), EVP_sha512()}) {
          if (DigestVerifyWith(key, md, padding, message, signature)) return true;
        }
      }
      return false;
    case KeyType::kEd25519:
      return DigestVerifyWith(key, nullptr, 0, message, signature);
  }
  return false;
}

bool PublicKey::VerifySha256Digest(std::string_view digest, std::string_view signature) const {
  if (digest.size() != 32) return false;
  switch (type_) {
    case KeyType::kEcdsaP256:
    case KeyType::kEcdsaP384:
    case KeyType::kEcdsaP521:
      return PrehashedVerifyWith(key_.get(), 0, digest, signature);
    case KeyType::kRsa:
      return PrehashedVerifyWith(key_.get(), RSA_PKCS1_PADDING, digest, signature) ||
             PrehashedVerifyWith(key_.get(), RSA_PKCS1_PSS_PADDING, digest, signature);
    case KeyType::kEd25519:
      return false;
  }
  return false;
}

}  // namespace pipeguard::signatures
