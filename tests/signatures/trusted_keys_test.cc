#include "pipeguard/signatures/trusted_keys.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cosign_artifacts.h"

namespace pipeguard::signatures {
namespace {

using testing::KeyKind;
using testing::SigningKey;

// A file in a per-test temporary directory, removed with the fixture.
class TrustedKeySetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("pipeguard-keys-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string WriteFile(const std::string& name, const std::string& contents) {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << contents;
    return path.string();
  }

  std::filesystem::path dir_;
};

TEST_F(TrustedKeySetTest, LoadsInlineAndFileKeys) {
  const SigningKey a = SigningKey::Generate(KeyKind::kP256);
  const SigningKey b = SigningKey::Generate(KeyKind::kEd25519);
  const std::string path = WriteFile("b.pub", b.public_pem());
  auto set = TrustedKeySet::Load({{"team-a", "", a.public_pem()}, {"team-b", path, ""}});
  ASSERT_TRUE(set.ok()) << set.status().message();
  ASSERT_EQ(set->keys().size(), 2u);
  EXPECT_EQ(set->keys()[0].name, "team-a");
  EXPECT_EQ(set->keys()[0].source, "inline");
  EXPECT_EQ(set->keys()[1].source, path);
  EXPECT_EQ(set->keys()[1].key.type(), KeyType::kEd25519);
  EXPECT_EQ(set->Names(), "team-a, team-b");
  ASSERT_EQ(set->FindByHint(b.Hint()).size(), 1u);
  EXPECT_EQ(set->FindByHint(b.Hint())[0]->name, "team-b");
  // The same hint without padding still matches; garbage matches nothing.
  std::string unpadded = a.Hint();
  while (!unpadded.empty() && unpadded.back() == '=') unpadded.pop_back();
  EXPECT_EQ(set->FindByHint(unpadded).size(), 1u);
  EXPECT_TRUE(set->FindByHint("not base64!").empty());
}

TEST_F(TrustedKeySetTest, FingerprintIsStableAcrossOrderAndFormAndChangesWithContent) {
  const SigningKey a = SigningKey::Generate(KeyKind::kP256);
  const SigningKey b = SigningKey::Generate(KeyKind::kRsa2048);
  const std::string path = WriteFile("a.pub", "\n" + a.public_pem() + "\n");
  auto first = TrustedKeySet::Load({{"a", "", a.public_pem()}, {"b", "", b.public_pem()}});
  auto reordered = TrustedKeySet::Load({{"b", "", b.public_pem()}, {"a", path, ""}});
  auto renamed = TrustedKeySet::Load({{"a", "", a.public_pem()}, {"c", "", b.public_pem()}});
  auto fewer = TrustedKeySet::Load({{"a", "", a.public_pem()}});
  ASSERT_TRUE(first.ok() && reordered.ok() && renamed.ok() && fewer.ok());
  EXPECT_EQ(first->fingerprint().size(), 64u);
  EXPECT_EQ(first->fingerprint(), reordered->fingerprint());
  EXPECT_NE(first->fingerprint(), renamed->fingerprint());
  EXPECT_NE(first->fingerprint(), fewer->fingerprint());
}

TEST_F(TrustedKeySetTest, ErrorsNameTheKeyAndTheFile) {
  const SigningKey a = SigningKey::Generate(KeyKind::kP256);
  const std::string missing = (dir_ / "missing.pub").string();
  auto not_found = TrustedKeySet::Load({{"prod", missing, ""}});
  ASSERT_FALSE(not_found.ok());
  EXPECT_EQ(not_found.status().code(), StatusCode::kNotFound);
  EXPECT_NE(not_found.status().message().find("'prod'"), std::string::npos);
  EXPECT_NE(not_found.status().message().find(missing), std::string::npos);

  const std::string garbage = WriteFile("garbage.pub", "hello");
  auto bad = TrustedKeySet::Load({{"prod", garbage, ""}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'prod'"), std::string::npos);
  EXPECT_NE(bad.status().message().find(garbage), std::string::npos);
  EXPECT_NE(bad.status().message().find("BEGIN PUBLIC KEY"), std::string::npos);

  EXPECT_FALSE(TrustedKeySet::Load({}).ok());
  EXPECT_FALSE(TrustedKeySet::Load({{"", "", a.public_pem()}}).ok());
  EXPECT_FALSE(TrustedKeySet::Load({{"x", "", ""}}).ok());
  EXPECT_FALSE(TrustedKeySet::Load({{"x", garbage, a.public_pem()}}).ok());
  auto duplicate = TrustedKeySet::Load({{"x", "", a.public_pem()}, {"x", "", a.public_pem()}});
  ASSERT_FALSE(duplicate.ok());
  EXPECT_NE(duplicate.status().message().find("used twice"), std::string::npos);
}

TEST_F(TrustedKeySetTest, PrivateKeyFileIsRefusedWithoutQuotingIt) {
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, raw, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  const std::string private_pem(data, static_cast<size_t>(length));
  BIO_free(bio);
  EVP_PKEY_free(raw);
  const std::string path = WriteFile("cosign.key", private_pem);
  auto set = TrustedKeySet::Load({{"oops", path, ""}});
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("PRIVATE KEY"), std::string::npos);
  const std::string body_line = private_pem.substr(private_pem.find('\n') + 1, 40);
  EXPECT_EQ(set.status().message().find(body_line), std::string::npos);
}

}  // namespace
}  // namespace pipeguard::signatures
