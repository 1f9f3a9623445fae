// Cryptographic primitives for cosign verification: strict base64, SHA-256, and public keys (OpenSSL 3 EVP).
//
// Everything here handles public data only; nothing is secret, so error messages may describe inputs, but they
// never echo key material (a private key pasted by mistake is recognised and refused without being quoted).
// All functions are thread-safe; PublicKey objects are immutable after construction and may be shared freely.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pipeguard/base/base64.h"
#include "pipeguard/base/status.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of this header.

namespace pipeguard::signatures {

// Base64 as the signature formats use it (pipeguard/base/base64.h).
using base::Base64Decode;
using base::Base64Encode;

// Raw 32-byte SHA-256 digest of `bytes`.
std::string Sha256(std::string_view bytes);

// Lowercase hex SHA-256 of `bytes` (64 characters).
std::string Sha256Hex(std::string_view bytes);

// Lowercase hex of arbitrary bytes.
std::string HexEncode(std::string_view bytes);

// True for "sha256:" followed by exactly 64 lowercase hex digits (the only digest form cosign signs).
bool IsSha256Digest(std::string_view digest);

enum class KeyType {
  kEcdsaP256,
  kEcdsaP384,
  kEcdsaP521,
  kRsa,
  kEd25519,
};

// "ECDSA P-256", "RSA", ... for messages.
std::string_view KeyTypeName(KeyType type);

// A verified-usable public key. Construct with FromPem or FromDer; copies share the same immutable OpenSSL key.
//
// Signature schemes tried by Verify, matching what cosign (v2 and v3) produces for each key type:
//   ECDSA P-256: SHA-256; P-384: SHA-384 then SHA-256; P-521: SHA-512 then SHA-256 (ASN.1 DER signatures).
//   RSA (>= 2048 bits): PKCS#1 v1.5 then PSS (any salt length), each with SHA-256, SHA-384, SHA-512.
//   Ed25519: pure Ed25519 (Ed25519ph is not available in OpenSSL 3.0 and is not accepted).
class PublicKey {
 public:
  // Parses one PEM "PUBLIC KEY" (SubjectPublicKeyInfo) block. Errors (InvalidArgument) say what was found instead:
  // a private key, a certificate, an unsupported algorithm or curve, an RSA key below 2048 bits, or no PEM.
  static StatusOr<PublicKey> FromPem(std::string_view pem);
  // Parses DER SubjectPublicKeyInfo (e.g. trusted_root.json rawBytes). Same checks as FromPem.
  static StatusOr<PublicKey> FromDer(std::string_view der);
  // Wraps a key OpenSSL already decoded (e.g. a certificate's, via X509_get1_pubkey) with its SPKI DER, skipping a
  // second decode (slow in OpenSSL 3). Same checks as FromPem; `spki_der` must be the key's encoding.
  static StatusOr<PublicKey> FromDecoded(std::shared_ptr<evp_pkey_st> key, std::string spki_der);

  KeyType type() const { return type_; }
  // DER SubjectPublicKeyInfo; equal keys have equal SPKI.
  const std::string& spki_der() const { return spki_der_; }
  // base64(SHA-256(SPKI DER)): the `publicKey.hint` cosign v3 writes into bundles.
  std::string Hint() const;
  // hex(SHA-256(SPKI DER)): the Rekor log ID form.
  std::string Sha256HexId() const;

  // True iff `signature` is a valid signature of `message` under this key with one of the schemes above.
  // Never throws; malformed signatures simply do not verify.
  bool Verify(std::string_view message, std::string_view signature) const;

  // True iff `signature` verifies over a precomputed SHA-256 `digest` (32 bytes): a Sigstore messageSignature.
  // ECDSA and RSA (PKCS#1 v1.5 and PSS) only; Ed25519 cannot verify a prehashed message and returns false.
  bool VerifySha256Digest(std::string_view digest, std::string_view signature) const;

 private:
  PublicKey(std::shared_ptr<evp_pkey_st> key, KeyType type, std::string spki_der);
  static StatusOr<PublicKey> FromPkey(std::shared_ptr<evp_pkey_st> key, std::string spki_der = {});

  std::shared_ptr<evp_pkey_st> key_;
  KeyType type_;
  std::string spki_der_;
};

}  // namespace pipeguard::signatures
