// HttpRegistry against the real docker-registry (CNCF distribution 2.8 from Debian), with images pushed by skopeo
// and signed by the real cosign 2.x and 3.x CLIs: plain HTTP (anonymous) and TLS with token auth.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "pipeguard/registry/http_registry.h"
#include "test_registries.h"

namespace pipeguard::registry {
namespace {

using testing::FakeRegistry;
using testing::ReadLines;
using testing::RealRegistry;

Deadline In(std::chrono::milliseconds ms) { return std::chrono::steady_clock::now() + ms; }
constexpr std::chrono::milliseconds kBudget{10000};

ImageReference Ref(const std::string& image) {
  auto ref = ImageReference::Parse(image);
  EXPECT_TRUE(ref.ok()) << ref.status().message();
  return ref.ok() ? *ref : ImageReference{};
}

std::unique_ptr<HttpRegistry> Client(std::vector<policy::RegistryConfig> registries, int slots = 8) {
  HttpRegistryOptions options;
  options.registries = std::move(registries);
  options.max_concurrent_requests_per_registry = slots;
  options.random_seed = 1;
  auto client = HttpRegistry::Create(std::move(options));
  EXPECT_TRUE(client.ok()) << client.status().message();
  return client.ok() ? std::move(*client) : nullptr;
}

// --- plain HTTP, anonymous --------------------------------------------------------------------------------------

class PlainRegistryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = RealRegistry::Start("");
    ASSERT_TRUE(started.ok()) << started.status().message();
    registry_ = started->release();
    auto digest = registry_->Push("pipelines/etl:v1", "etl-1");
    ASSERT_TRUE(digest.ok()) << digest.status().message();
    digest_ = *digest;
    auto key = registry_->Keygen("good");
    ASSERT_TRUE(key.ok()) << key.status().message();
    std::string at = "pipelines/etl@" + digest_;
    ASSERT_TRUE(registry_->Sign(at, "good", "v2-legacy").ok());
    ASSERT_TRUE(registry_->Sign(at, "good", "v3-bundle").ok());
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(registry_, nullptr);
    client_ = Client({{registry_->host(), "", true, ""}});
    ASSERT_NE(client_, nullptr);
  }
  std::string Image(const std::string& rest) const { return registry_->host() + "/" + rest; }

  static RealRegistry* registry_;
  static std::string digest_;
  std::unique_ptr<HttpRegistry> client_;
};
RealRegistry* PlainRegistryTest::registry_ = nullptr;
std::string PlainRegistryTest::digest_;

TEST_F(PlainRegistryTest, ResolvesTagToTheDigestSkopeoPushed) {
  auto digest = client_->ResolveDigest(Ref(Image("pipelines/etl:v1")), In(kBudget));
  ASSERT_TRUE(digest.ok()) << digest.status().message();
  EXPECT_EQ(*digest, digest_);
  // A reference with a digest is returned as it is.
  auto pinned = client_->ResolveDigest(Ref(Image("pipelines/etl@" + digest_)), In(kBudget));
  ASSERT_TRUE(pinned.ok());
  EXPECT_EQ(*pinned, digest_);
}

TEST_F(PlainRegistryTest, FetchesManifestAndBlobsVerified) {
  ImageReference ref = Ref(Image("pipelines/etl:v1"));
  auto manifest = client_->GetManifest(ref, digest_, In(kBudget));
  ASSERT_TRUE(manifest.ok()) << manifest.status().message();
  EXPECT_EQ(manifest->digest, digest_);
  EXPECT_EQ(manifest->media_type, "application/vnd.oci.image.manifest.v1+json");
  auto by_tag = client_->GetManifest(ref, "v1", In(kBudget));
  ASSERT_TRUE(by_tag.ok()) << by_tag.status().message();
  EXPECT_EQ(by_tag->body, manifest->body);

  auto doc = nlohmann::json::parse(manifest->body);
  std::string config_digest = doc["config"]["digest"];
  auto config = client_->GetBlob(ref, config_digest, 64 << 10, In(kBudget));
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(Sha256Digest(*config), config_digest);
  EXPECT_NE(config->find("etl-1"), std::string::npos);  // the seed label of make_oci_layout.py

  std::string layer_digest = doc["layers"][0]["digest"];
  auto too_small = client_->GetBlob(ref, layer_digest, 16, In(kBudget));
  ASSERT_FALSE(too_small.ok());
  EXPECT_EQ(too_small.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(too_small.status().message().find("exceeds the limit of 16 bytes"), std::string::npos);
}

TEST_F(PlainRegistryTest, NoReferrersApiThenCosignFallbackTagAndLegacySignature) {
  ImageReference ref = Ref(Image("pipelines/etl:v1"));
  auto referrers = client_->GetReferrers(ref, digest_, In(kBudget));
  ASSERT_TRUE(referrers.ok()) << referrers.status().message();
  EXPECT_FALSE(referrers->has_value()) << "docker-registry 2.8 has no referrers API";

  std::string hex = digest_.substr(7);
  auto fallback = client_->GetManifest(ref, "sha256-" + hex, In(kBudget));  // cosign 3's bundle index
  ASSERT_TRUE(fallback.ok()) << fallback.status().message();
  EXPECT_EQ(fallback->media_type, "application/vnd.oci.image.index.v1+json");
  auto index = nlohmann::json::parse(fallback->body);
  ASSERT_FALSE(index["manifests"].empty());
  EXPECT_EQ(index["manifests"][0]["artifactType"], "application/vnd.dev.sigstore.bundle.v0.3+json");
  auto bundle_manifest = client_->GetManifest(ref, index["manifests"][0]["digest"].get<std::string>(), In(kBudget));
  ASSERT_TRUE(bundle_manifest.ok()) << bundle_manifest.status().message();
  auto bundle_doc = nlohmann::json::parse(bundle_manifest->body);
  EXPECT_EQ(bundle_doc["subject"]["digest"], digest_);
  auto bundle = client_->GetBlob(ref, bundle_doc["layers"][0]["digest"].get<std::string>(), 256 << 10, In(kBudget));
  ASSERT_TRUE(bundle.ok()) << bundle.status().message();
  EXPECT_NE(bundle->find("dsseEnvelope"), std::string::npos);

  auto legacy = client_->GetManifest(ref, "sha256-" + hex + ".sig", In(kBudget));  // cosign 2's signature
  ASSERT_TRUE(legacy.ok()) << legacy.status().message();
  auto sig = nlohmann::json::parse(legacy->body);
  EXPECT_TRUE(sig["layers"][0]["annotations"].contains("dev.cosignproject.cosign/signature"));
  auto payload = client_->GetBlob(ref, sig["layers"][0]["digest"].get<std::string>(), 64 << 10, In(kBudget));
  ASSERT_TRUE(payload.ok()) << payload.status().message();
  EXPECT_NE(payload->find(digest_), std::string::npos);
}

TEST_F(PlainRegistryTest, MissingThingsAreNotFoundWithTheRegistryError) {
  auto tag = client_->ResolveDigest(Ref(Image("pipelines/etl:nope")), In(kBudget));
  EXPECT_EQ(tag.status().code(), StatusCode::kNotFound);
  EXPECT_NE(tag.status().message().find("tag \"nope\" does not exist"), std::string::npos) << tag.status().message();
  auto manifest = client_->GetManifest(Ref(Image("pipelines/etl:v1")), "nope", In(kBudget));
  EXPECT_EQ(manifest.status().code(), StatusCode::kNotFound);
  EXPECT_NE(manifest.status().message().find("MANIFEST_UNKNOWN"), std::string::npos) << manifest.status().message();
  auto blob = client_->GetBlob(Ref(Image("pipelines/etl:v1")), Sha256Digest("absent"), 1024, In(kBudget));
  EXPECT_EQ(blob.status().code(), StatusCode::kNotFound);
  auto bad = client_->GetManifest(Ref(Image("pipelines/etl:v1")), "sha256:zz", In(kBudget));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(PlainRegistryTest, ManifestLargerThanTheLimitIsRejected) {
  HttpRegistryOptions options;
  options.registries = {{registry_->host(), "", true, ""}};
  options.limits.max_manifest_bytes = 100;
  auto client = HttpRegistry::Create(options);
  ASSERT_TRUE(client.ok());
  auto manifest = (*client)->GetManifest(Ref(Image("pipelines/etl:v1")), digest_, In(kBudget));
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(manifest.status().message().find("exceeds the limit of 100 bytes"), std::string::npos);
}

TEST_F(PlainRegistryTest, HttpsByDefaultFailsAgainstAPlainHttpRegistry) {
  auto client = Client({});  // no `insecure: true` for this host
  auto digest = client->ResolveDigest(Ref(Image("pipelines/etl:v1")), In(kBudget));
  ASSERT_FALSE(digest.ok());
  EXPECT_EQ(digest.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(digest.status().message().find("insecure: true"), std::string::npos) << digest.status().message();
}

TEST_F(PlainRegistryTest, ManyConcurrentCallersThroughTwoSlots) {
  auto client = Client({{registry_->host(), "", true, ""}}, /*slots=*/2);
  std::atomic<int> matches{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      auto digest = client->ResolveDigest(Ref(Image("pipelines/etl:v1")), In(kBudget));
      if (digest.ok() && *digest == digest_) ++matches;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(matches.load(), 16);
}

TEST(RegistryDownTest, ConnectionRefusedIsUnavailable) {
  // A port nothing listens on: bind-free port from a fake registry that is gone.
  std::string host;
  {
    auto fake = FakeRegistry::Start("");
    ASSERT_TRUE(fake.ok()) << fake.status().message();
    host = (*fake)->host();
  }
  auto client = Client({{host, "", true, ""}});
  auto digest = client->ResolveDigest(Ref(host + "/app:v1"), In(kBudget));
  ASSERT_FALSE(digest.ok());
  EXPECT_EQ(digest.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(digest.status().message().find("cannot connect"), std::string::npos) << digest.status().message();
}

// --- TLS with a test CA, token auth -----------------------------------------------------------------------------

class TokenRegistryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = RealRegistry::Start("--tls --token-auth");
    ASSERT_TRUE(started.ok()) << started.status().message();
    registry_ = started->release();
    auto digest = registry_->Push("private/job:v2", "job-2");
    ASSERT_TRUE(digest.ok()) << digest.status().message();
    digest_ = *digest;
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(registry_, nullptr); }
  std::string Image() const { return registry_->host() + "/private/job:v2"; }
  policy::RegistryConfig Config(const std::string& ca, const std::string& credentials) const {
    return {registry_->host(), ca, false, credentials};
  }

  static RealRegistry* registry_;
  static std::string digest_;
};
RealRegistry* TokenRegistryTest::registry_ = nullptr;
std::string TokenRegistryTest::digest_;

TEST_F(TokenRegistryTest, TokenFlowWithCredentialsOverVerifiedTls) {
  auto client = Client({Config(registry_->env("CA_CERT"), registry_->env("CREDENTIALS_FILE"))});
  size_t token_requests_before = ReadLines(registry_->env("TOKEN_LOG")).size();
  auto digest = client->ResolveDigest(Ref(Image()), In(kBudget));
  ASSERT_TRUE(digest.ok()) << digest.status().message();
  EXPECT_EQ(*digest, digest_);
  auto manifest = client->GetManifest(Ref(Image()), digest_, In(kBudget));
  ASSERT_TRUE(manifest.ok()) << manifest.status().message();
  auto config =
      client->GetBlob(Ref(Image()), nlohmann::json::parse(manifest->body)["config"]["digest"].get<std::string>(),
                      64 << 10, In(kBudget));
  ASSERT_TRUE(config.ok()) << config.status().message();

  // One token for the repository's pull scope, then served from the cache.
  auto lines = ReadLines(registry_->env("TOKEN_LOG"));
  ASSERT_EQ(lines.size(), token_requests_before + 1);
  auto request = nlohmann::json::parse(lines.back());
  EXPECT_EQ(request["authorized"], true);
  EXPECT_EQ(request["scopes"], nlohmann::json::array({"repository:private/job:pull"}));
  EXPECT_EQ(request["service"], "pipeguard-test-registry");
}

TEST_F(TokenRegistryTest, ExpiredTokensAreFetchedAgain) {
  auto now = std::make_shared<std::atomic<int64_t>>(0);  // seconds on the injected token clock
  HttpRegistryOptions options;
  options.registries = {Config(registry_->env("CA_CERT"), registry_->env("CREDENTIALS_FILE"))};
  options.token_clock = [now] { return std::chrono::steady_clock::time_point(std::chrono::seconds(now->load())); };
  auto client = HttpRegistry::Create(options);
  ASSERT_TRUE(client.ok()) << client.status().message();
  size_t before = ReadLines(registry_->env("TOKEN_LOG")).size();
  ASSERT_TRUE((*client)->ResolveDigest(Ref(Image()), In(kBudget)).ok());
  now->store(250);  // the token server's tokens live 300 s; the cache drops them 30 s early
  ASSERT_TRUE((*client)->ResolveDigest(Ref(Image()), In(kBudget)).ok());
  EXPECT_EQ(ReadLines(registry_->env("TOKEN_LOG")).size(), before + 1);
  now->store(271);
  ASSERT_TRUE((*client)->ResolveDigest(Ref(Image()), In(kBudget)).ok());
  EXPECT_EQ(ReadLines(registry_->env("TOKEN_LOG")).size(), before + 2);
}

TEST_F(TokenRegistryTest, WithoutTheTestCaTheCertificateIsNotTrusted) {
  auto client = Client({Config("", registry_->env("CREDENTIALS_FILE"))});
  auto digest = client->ResolveDigest(Ref(Image()), In(kBudget));
  ASSERT_FALSE(digest.ok());
  EXPECT_EQ(digest.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(digest.status().message().find("caFile"), std::string::npos) << digest.status().message();
}

TEST_F(TokenRegistryTest, AnonymousAccessIsDenied) {
  auto client = Client({Config(registry_->env("CA_CERT"), "")});
  auto digest = client->ResolveDigest(Ref(Image()), In(kBudget));
  ASSERT_FALSE(digest.ok());
  EXPECT_EQ(digest.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(digest.status().message().find("credentialsFile"), std::string::npos) << digest.status().message();
}

TEST_F(TokenRegistryTest, WrongCredentialsArePermissionDeniedWithoutLeakingThem) {
  auto client = Client({Config(registry_->env("CA_CERT"), registry_->env("WRONG_CREDENTIALS_FILE"))});
  auto digest = client->ResolveDigest(Ref(Image()), In(kBudget));
  ASSERT_FALSE(digest.ok());
  EXPECT_EQ(digest.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(digest.status().message().find(registry_->env("WRONG_CREDENTIALS_FILE")), std::string::npos)
      << digest.status().message();
  EXPECT_EQ(digest.status().message().find("not-the-password"), std::string::npos);
  EXPECT_EQ(digest.status().message().find(registry_->env("REGISTRY_PASSWORD")), std::string::npos);
}

TEST_F(TokenRegistryTest, BadConfigurationFailsAtCreate) {
  HttpRegistryOptions missing_ca;
  missing_ca.registries = {Config("/nonexistent/ca.pem", "")};
  auto a = HttpRegistry::Create(missing_ca);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("/nonexistent/ca.pem"), std::string::npos);

  HttpRegistryOptions no_entry;
  std::string other = registry_->dir() + "/other-config.json";
  testing::WriteFile(other, R"({"auths": {"elsewhere.example": {"auth": "dTpw"}}})");
  no_entry.registries = {Config(registry_->env("CA_CERT"), other)};
  auto b = HttpRegistry::Create(no_entry);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("has no entry for"), std::string::npos) << b.status().message();

  HttpRegistryOptions both;
  both.registries = {{registry_->host(), registry_->env("CA_CERT"), true, ""}};
  EXPECT_FALSE(HttpRegistry::Create(both).ok());
}

}  // namespace
}  // namespace pipeguard::registry
