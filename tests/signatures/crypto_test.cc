#include "pipeguard/signatures/crypto.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cosign_artifacts.h"

namespace pipeguard::signatures {
namespace {

using testing::KeyKind;
using testing::SigningKey;

TEST(Base64Test, DecodesStandardAndUrlSafeWithAndWithoutPadding) {
  EXPECT_EQ(Base64Decode("aGVsbG8="), "hello");
  EXPECT_EQ(Base64Decode("aGVsbG8"), "hello");
  EXPECT_EQ(Base64Decode("aGk="), "hi");
  EXPECT_EQ(Base64Decode(""), "");
  EXPECT_EQ(Base64Decode("+/+/"), std::string("\xfb\xff\xbf", 3));
  EXPECT_EQ(Base64Decode("-_-_"), std::string("\xfb\xff\xbf", 3));
  EXPECT_EQ(Base64Decode("-_8"), std::string("\xfb\xff", 2));
}

TEST(Base64Test, RejectsGarbage) {
  EXPECT_FALSE(Base64Decode("aGVs bG8="));   // whitespace
  EXPECT_FALSE(Base64Decode("aGVsbG8=\n"));  // trailing newline
  EXPECT_FALSE(Base64Decode("aGV*bG8="));    // outside the alphabet
  EXPECT_FALSE(Base64Decode("+/-_"));        // mixed alphabets
  EXPECT_FALSE(Base64Decode("aGVsbG8=="));   // too much padding
  EXPECT_FALSE(Base64Decode("aGk=aGk="));    // padding in the middle
  EXPECT_FALSE(Base64Decode("aGVsb"));       // impossible length (4n+1)
  EXPECT_FALSE(
      Base64Decode("aGk"
                   "="
                   "="));              // wrong padding count for the length
  EXPECT_FALSE(Base64Decode("aGl="));  // non-zero trailing bits
  EXPECT_FALSE(Base64Decode("===="));
}

TEST(Base64Test, EncodeRoundTrips) {
  for (const std::string& text : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    EXPECT_EQ(Base64Decode(Base64Encode(text)), text);
  }
  EXPECT_EQ(Base64Encode("hello"), "aGVsbG8=");
}

TEST(HashTest, Sha256HexOfKnownInput) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // The empty OCI config blob "{}" has the digest cosign references.
  EXPECT_EQ(Sha256Hex("{}"), "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
}

TEST(HashTest, IsSha256DigestIsStrict) {
  EXPECT_TRUE(IsSha256Digest("sha256:" + Sha256Hex("x")));
  EXPECT_FALSE(IsSha256Digest("sha256:" + Sha256Hex("x").substr(1)));
  EXPECT_FALSE(IsSha256Digest("sha512:" + Sha256Hex("x")));
  std::string upper = "sha256:" + Sha256Hex("x");
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_FALSE(IsSha256Digest(upper));
}

struct KeyCase {
  KeyKind kind;
  KeyType type;
};

class PublicKeyTest : public ::testing::TestWithParam<KeyCase> {};

TEST_P(PublicKeyTest, VerifiesWhatTheKeySignedAndNothingElse) {
  const SigningKey signer = SigningKey::Generate(GetParam().kind);
  const SigningKey other = SigningKey::Generate(GetParam().kind);
  auto key = PublicKey::FromPem(signer.public_pem());
  ASSERT_TRUE(key.ok()) << key.status().message();
  EXPECT_EQ(key->type(), GetParam().type);
  EXPECT_EQ(key->Hint(), signer.Hint());

  const std::string message = "{\"critical\":{}}";
  const std::string signature = signer.Sign(message);
  EXPECT_TRUE(key->Verify(message, signature));
  EXPECT_FALSE(key->Verify(message + " ", signature));
  EXPECT_FALSE(key->Verify(message, other.Sign(message)));
  EXPECT_FALSE(key->Verify(message, ""));
  EXPECT_FALSE(key->Verify(message, "not a signature"));
  std::string flipped = signature;
  flipped[flipped.size() / 2] ^= 0x01;
  EXPECT_FALSE(key->Verify(message, flipped));
}

TEST_P(PublicKeyTest, VerifiesPrehashedDigestsExceptEd25519) {
  const SigningKey signer = SigningKey::Generate(GetParam().kind);
  auto key = PublicKey::FromPem(signer.public_pem());
  ASSERT_TRUE(key.ok());
  const std::string digest = Sha256("manifest bytes");
  if (GetParam().type == KeyType::kEd25519) {
    EXPECT_FALSE(key->VerifySha256Digest(digest, signer.Sign(digest)));
    return;
  }
  EXPECT_TRUE(key->VerifySha256Digest(digest, signer.SignDigest(digest)));
  EXPECT_FALSE(key->VerifySha256Digest(Sha256("other bytes"), signer.SignDigest(digest)));
  EXPECT_FALSE(key->VerifySha256Digest("short", signer.SignDigest(digest)));
}

INSTANTIATE_TEST_SUITE_P(AllKeyTypes, PublicKeyTest,
                         ::testing::Values(KeyCase{KeyKind::kP256, KeyType::kEcdsaP256},
                                           KeyCase{KeyKind::kP384, KeyType::kEcdsaP384},
                                           KeyCase{KeyKind::kRsa2048, KeyType::kRsa},
                                           KeyCase{KeyKind::kRsa2048Pss, KeyType::kRsa},
                                           KeyCase{KeyKind::kEd25519, KeyType::kEd25519}),
                         [](const auto& info) {
                           switch (info.param.kind) {
                             case KeyKind::kP256:
                               return std::string("P256");
                             case KeyKind::kP384:
                               return std::string("P384");
                             case KeyKind::kRsa2048:
                               return std::string("RsaPkcs1");
                             case KeyKind::kRsa2048Pss:
                               return std::string("RsaPss");
                             case KeyKind::kEd25519:
                               return std::string("Ed25519");
                           }
                           return std::string("unknown");
                         });

TEST(PublicKeyTest, P384AlsoAcceptsSha256AsCosignV2Signed) {
  // cosign v2 hashed every ECDSA signature with SHA-256 regardless of the curve.
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  ASSERT_NE(raw, nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ASSERT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, raw), 1);
  const std::string message = "payload";
  size_t length = 0;
  ASSERT_EQ(
      EVP_DigestSign(ctx, nullptr, &length, reinterpret_cast<const unsigned char*>(message.data()), message.size()), 1);
  std::string signature(length, '\0');
  ASSERT_EQ(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &length,
                           reinterpret_cast<const unsigned char*>(message.data()), message.size()),
            1);
  signature.resize(length);
  EVP_MD_CTX_free(ctx);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, raw);
  char* data = nullptr;
  const long pem_length = BIO_get_mem_data(bio, &data);
  const std::string pem(data, static_cast<size_t>(pem_length));
  BIO_free(bio);
  EVP_PKEY_free(raw);
  auto key = PublicKey::FromPem(pem);
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(key->Verify(message, signature));
}

TEST(PublicKeyTest, RejectsWhatIsNotAUsablePublicKeyWithoutQuotingIt) {
  // A private key pasted by mistake: refused, and the message never repeats its contents.
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, raw, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  const std::string private_pem(data, static_cast<size_t>(length));
  BIO_free(bio);
  EVP_PKEY_free(raw);
  auto from_private = PublicKey::FromPem(private_pem);
  ASSERT_FALSE(from_private.ok());
  EXPECT_NE(from_private.status().message().find("PRIVATE KEY"), std::string::npos);
  const std::string secret_line = private_pem.substr(private_pem.find('\n') + 1, 40);
  EXPECT_EQ(from_private.status().message().find(secret_line), std::string::npos);

  EXPECT_FALSE(PublicKey::FromPem("").ok());
  EXPECT_FALSE(PublicKey::FromPem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").ok());
  auto certificate = PublicKey::FromPem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  ASSERT_FALSE(certificate.ok());
  EXPECT_NE(certificate.status().message().find("not a PUBLIC KEY"), std::string::npos);

  const SigningKey key = SigningKey::Generate(KeyKind::kP256);
  EXPECT_FALSE(PublicKey::FromPem(key.public_pem() + key.public_pem()).ok());  // two keys in one entry

  EVP_PKEY* weak = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024));
  bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, weak);
  const long weak_length = BIO_get_mem_data(bio, &data);
  const std::string weak_pem(data, static_cast<size_t>(weak_length));
  BIO_free(bio);
  EVP_PKEY_free(weak);
  auto weak_key = PublicKey::FromPem(weak_pem);
  ASSERT_FALSE(weak_key.ok());
  EXPECT_NE(weak_key.status().message().find("1024 bits"), std::string::npos);

  EVP_PKEY* k1 = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp256k1");
  ASSERT_NE(k1, nullptr);
  bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, k1);
  const long k1_length = BIO_get_mem_data(bio, &data);
  const std::string k1_pem(data, static_cast<size_t>(k1_length));
  BIO_free(bio);
  EVP_PKEY_free(k1);
  auto k1_key = PublicKey::FromPem(k1_pem);
  ASSERT_FALSE(k1_key.ok());
  EXPECT_NE(k1_key.status().message().find("secp256k1"), std::string::npos);
}

}  // namespace
}  // namespace pipeguard::signatures
