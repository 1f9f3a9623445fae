#include "pipeguard/signatures/trusted_keys.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cosign_artifacts.h"
#include "pipeguard/signatures/rekor.h"

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

TEST_F(TrustedKeySetTest, SubsetKeepsTheNamedKeysWithTheirOwnFingerprint) {
  const SigningKey a = SigningKey::Generate(KeyKind::kP256);
  const SigningKey b = SigningKey::Generate(KeyKind::kP256);
  auto all = TrustedKeySet::Load({{"a", "", a.public_pem()}, {"b", "", b.public_pem()}});
  auto only_a = TrustedKeySet::Load({{"a", "", a.public_pem()}});
  ASSERT_TRUE(all.ok() && only_a.ok());
  auto subset = all->Subset({"a"});
  ASSERT_TRUE(subset.ok()) << subset.status().message();
  ASSERT_EQ(subset->keys().size(), 1u);
  EXPECT_EQ(subset->keys()[0].name, "a");
  EXPECT_EQ(subset->fingerprint(), only_a->fingerprint());
  EXPECT_NE(subset->fingerprint(), all->fingerprint());
  auto both = all->Subset({"b", "a", "b"});
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->fingerprint(), all->fingerprint());

  auto unknown = all->Subset({"a", "team-own"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("'team-own' is not configured in images.keys (configured: a, b)"),
            std::string::npos)
      << unknown.status().message();
  EXPECT_EQ(all->Subset({}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(TrustedKeySetTest, RekorKeySetLoadsTheConfiguredLogs) {
  const SigningKey log = SigningKey::Generate(KeyKind::kP256);
  policy::RekorConfig config;
  config.public_keys = {{"file-log", WriteFile("rekor.pub", log.public_pem()), ""}, {"inline", "", log.public_pem()}};
  config.trusted_root_file = std::string(PIPEGUARD_TEST_DATA) + "/signatures/data/trusted_root_pgi_2026.json";
  auto set = RekorKeySet::Load(config);
  ASSERT_TRUE(set.ok()) << set.status().message();
  ASSERT_EQ(set->keys().size(), 2u) << "the same log key twice counts once; the trusted root adds public-good";
  EXPECT_NE(set->Find("c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"), nullptr);
  EXPECT_TRUE(RekorKeySet::Load(policy::RekorConfig{}).ok());
  EXPECT_TRUE(RekorKeySet::Load(policy::RekorConfig{})->empty());

  policy::RekorConfig missing;
  missing.public_keys = {{"log", dir_.string() + "/absent.pub", ""}};
  EXPECT_EQ(RekorKeySet::Load(missing).status().code(), StatusCode::kNotFound);
  policy::RekorConfig no_v1_log;
  no_v1_log.trusted_root_file = WriteFile("root.json", R"({"tlogs": []})");
  auto empty_root = RekorKeySet::Load(no_v1_log);
  ASSERT_FALSE(empty_root.ok());
  EXPECT_NE(empty_root.status().message().find("no Rekor v1"), std::string::npos) << empty_root.status().message();
  policy::RekorConfig private_key;
  private_key.public_keys = {{"log", WriteFile("private.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n"), ""}};
  auto refused = RekorKeySet::Load(private_key);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("images.rekor.publicKeys 'log'"), std::string::npos);
  EXPECT_EQ(refused.status().message().find("AAAA"), std::string::npos) << "file contents are never quoted";
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
