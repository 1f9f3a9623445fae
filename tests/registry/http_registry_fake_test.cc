// HttpRegistry's failure paths against scripts/registry/fake_registry.py: deadlines (slow and dripping answers),
// oversized bodies, redirects to another origin without credentials, retries, digest mismatches, referrer pages.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "pipeguard/registry/http_registry.h"
#include "test_registries.h"

namespace pipeguard::registry {
namespace {

using testing::FakeRegistry;
using Clock = std::chrono::steady_clock;

constexpr char kUser[] = "fake-user";
constexpr char kPassword[] = "fake-password-1234";
const std::string kManifest =
    R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{}, "layers":[]})";

Deadline In(std::chrono::milliseconds ms) { return Clock::now() + ms; }

class FakeRegistryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = FakeRegistry::Start(std::string(kUser) + ":" + kPassword);
    ASSERT_TRUE(started.ok()) << started.status().message();
    fake_ = started->release();
    credentials_ = fake_->dir() + "/docker-config.json";
    nlohmann::json config = {{"auths", {{fake_->host(), {{"username", kUser}, {"password", kPassword}}}}}};
    testing::WriteFile(credentials_, config.dump());
    manifest_digest_ = fake_->AddBlob(kManifest);
    fake_->Tag("v1", manifest_digest_);
    blob_ = "signature payload bytes";
    blob_digest_ = fake_->AddBlob(blob_);
  }
  static void TearDownTestSuite() {
    delete fake_;
    fake_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(fake_, nullptr);
    client_ = MakeClient(8);
  }
  std::unique_ptr<HttpRegistry> MakeClient(int slots, RegistryLimits limits = {}) {
    HttpRegistryOptions options;
    options.registries = {{fake_->host(), "", true, credentials_}};
    options.max_concurrent_requests_per_registry = slots;
    options.limits = limits;
    options.initial_backoff = std::chrono::milliseconds(10);
    options.random_seed = 7;
    auto client = HttpRegistry::Create(std::move(options));
    EXPECT_TRUE(client.ok()) << client.status().message();
    return client.ok() ? std::move(*client) : nullptr;
  }
  ImageReference Ref(const std::string& repo) {
    auto ref = ImageReference::Parse(fake_->host() + "/" + repo);
    EXPECT_TRUE(ref.ok());
    return *ref;
  }
  // Lets client_ learn the Basic challenge, so that later requests are not preceded by an anonymous 401.
  void PrimeBasicChallenge() {
    ASSERT_TRUE(client_->ResolveDigest(Ref("plain/app:v1"), In(std::chrono::seconds(5))).ok());
  }
  // Requests logged since `from` whose target contains `part`.
  std::vector<nlohmann::json> Requests(size_t from, const std::string& part) {
    std::vector<nlohmann::json> out;
    auto lines = fake_->Log();
    for (size_t i = from; i < lines.size(); ++i) {
      auto entry = nlohmann::json::parse(lines[i]);
      if (entry["target"].get<std::string>().find(part) != std::string::npos) out.push_back(entry);
    }
    return out;
  }

  static FakeRegistry* fake_;
  static std::string credentials_, manifest_digest_, blob_, blob_digest_;
  std::unique_ptr<HttpRegistry> client_;
};
FakeRegistry* FakeRegistryTest::fake_ = nullptr;
std::string FakeRegistryTest::credentials_, FakeRegistryTest::manifest_digest_, FakeRegistryTest::blob_,
    FakeRegistryTest::blob_digest_;

TEST_F(FakeRegistryTest, BasicChallengeWithCredentialsFromTheDockerConfig) {
  size_t from = fake_->Log().size();
  auto digest = client_->ResolveDigest(Ref("plain/app:v1"), In(std::chrono::seconds(5)));
  ASSERT_TRUE(digest.ok()) << digest.status().message();
  EXPECT_EQ(*digest, manifest_digest_);
  auto requests = Requests(from, "/manifests/v1");
  ASSERT_EQ(requests.size(), 2u);  // anonymous, 401 + Basic challenge, then with credentials
  EXPECT_EQ(requests[0]["authorization"], false);
  EXPECT_EQ(requests[1]["authorization"], true);
  EXPECT_EQ(requests[0]["method"], "HEAD");

  // The challenge is remembered: the next request carries credentials at once.
  from = fake_->Log().size();
  ASSERT_TRUE(client_->GetManifest(Ref("plain/app:v1"), "v1", In(std::chrono::seconds(5))).ok());
  requests = Requests(from, "/manifests/v1");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["authorization"], true);

  HttpRegistryOptions anonymous;
  anonymous.registries = {{fake_->host(), "", true, ""}};
  auto client = HttpRegistry::Create(anonymous);
  ASSERT_TRUE(client.ok());
  auto denied = (*client)->ResolveDigest(Ref("plain/app:v1"), In(std::chrono::seconds(5)));
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(denied.status().message().find("credentialsFile"), std::string::npos) << denied.status().message();
}

TEST_F(FakeRegistryTest, SlowRegistryBeyondTheDeadlineIsDeadlineExceeded) {
  auto start = Clock::now();
  auto digest = client_->ResolveDigest(Ref("slow/app:v1"), In(std::chrono::milliseconds(400)));
  auto elapsed = Clock::now() - start;
  ASSERT_FALSE(digest.ok());
  EXPECT_EQ(digest.status().code(), StatusCode::kDeadlineExceeded) << digest.status().message();
  EXPECT_LT(elapsed, std::chrono::milliseconds(2500));  // the server sleeps 3 s
}

TEST_F(FakeRegistryTest, DrippingBodyIsCutAtTheDeadline) {
  auto start = Clock::now();
  auto manifest = client_->GetManifest(Ref("drip/app:v1"), "v1", In(std::chrono::milliseconds(800)));
  auto elapsed = Clock::now() - start;
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.status().code(), StatusCode::kDeadlineExceeded) << manifest.status().message();
  EXPECT_LT(elapsed, std::chrono::milliseconds(2500));  // the whole body would take 200 s
}

TEST_F(FakeRegistryTest, DrippingHeadersAreCutAtTheDeadline) {
  // Every byte arrives well within the read timeout, so only the deadline watchdog can end this request.
  auto start = Clock::now();
  auto manifest = client_->GetManifest(Ref("driphead/app:v1"), "v1", In(std::chrono::milliseconds(800)));
  auto elapsed = Clock::now() - start;
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.status().code(), StatusCode::kDeadlineExceeded) << manifest.status().message();
  EXPECT_LT(elapsed, std::chrono::milliseconds(2500));  // the whole header would take 200 s
}

TEST_F(FakeRegistryTest, OversizedManifestsAreRejectedWhileReading) {
  for (const char* repo : {"big/app:v1", "bigchunked/app:v1"}) {
    SCOPED_TRACE(repo);
    auto manifest = client_->GetManifest(Ref(repo), "v1", In(std::chrono::seconds(10)));
    ASSERT_FALSE(manifest.ok());
    EXPECT_EQ(manifest.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(manifest.status().message().find("exceeds the limit of 4194304 bytes"), std::string::npos)
        << manifest.status().message();
  }
}

TEST_F(FakeRegistryTest, BlobRedirectToAnotherOriginCarriesNoCredentialsAndAnExactQuery) {
  size_t from = fake_->Log().size();
  auto blob = client_->GetBlob(Ref("redirect/app:v1"), blob_digest_, 1024, In(std::chrono::seconds(5)));
  ASSERT_TRUE(blob.ok()) << blob.status().message();
  EXPECT_EQ(*blob, blob_);
  auto storage = Requests(from, "/storage/");
  ASSERT_EQ(storage.size(), 1u);
  EXPECT_EQ(storage[0]["server"], "storage");
  EXPECT_EQ(storage[0]["authorization"], false);
  EXPECT_EQ(
      storage[0]["target"],
      "/storage/" + blob_digest_.substr(7) +
          "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request"
          "&X-Amz-Security-Token=IQo%2Bb3%2FJp%3D%3D&X-Amz-Date=20260101T000000Z"
          "&X-Amz-Signature=0a1b");
  auto registry = Requests(from, "/v2/redirect/app/blobs/");
  ASSERT_FALSE(registry.empty());
  EXPECT_EQ(registry.back()["authorization"], true);
}

TEST_F(FakeRegistryTest, RelativeRedirectOnTheSameOriginKeepsCredentials) {
  size_t from = fake_->Log().size();
  auto blob = client_->GetBlob(Ref("relredirect/app:v1"), blob_digest_, 1024, In(std::chrono::seconds(5)));
  ASSERT_TRUE(blob.ok()) << blob.status().message();
  EXPECT_EQ(*blob, blob_);
  auto target = Requests(from, "/v2/target/blobs/");
  ASSERT_EQ(target.size(), 1u);
  EXPECT_EQ(target[0]["authorization"], true);
}

TEST_F(FakeRegistryTest, RedirectLoopsStopAtTheCap) {
  auto blob = client_->GetBlob(Ref("loop/app:v1"), blob_digest_, 1024, In(std::chrono::seconds(5)));
  ASSERT_FALSE(blob.ok());
  EXPECT_EQ(blob.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(blob.status().message().find("more than 5 redirects"), std::string::npos) << blob.status().message();
}

TEST_F(FakeRegistryTest, ServiceUnavailableIsRetriedWithBackoff) {
  PrimeBasicChallenge();
  size_t from = fake_->Log().size();
  auto manifest = client_->GetManifest(Ref("flaky/app:v1"), "v1", In(std::chrono::seconds(5)));
  ASSERT_TRUE(manifest.ok()) << manifest.status().message();
  EXPECT_EQ(manifest->digest, manifest_digest_);
  EXPECT_EQ(Requests(from, "/v2/flaky/app/manifests/v1").size(), 3u);  // 503, 503, 200
}

TEST_F(FakeRegistryTest, PersistentRateLimitIsUnavailableAfterMaxAttempts) {
  PrimeBasicChallenge();
  size_t from = fake_->Log().size();
  auto manifest = client_->GetManifest(Ref("ratelimited/app:v1"), "v1", In(std::chrono::seconds(5)));
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(manifest.status().message().find("TOOMANYREQUESTS"), std::string::npos) << manifest.status().message();
  EXPECT_NE(manifest.status().message().find("after 4 attempt(s)"), std::string::npos) << manifest.status().message();
  EXPECT_EQ(Requests(from, "/v2/ratelimited/").size(), 4u);
}

TEST_F(FakeRegistryTest, MissingDockerContentDigestFallsBackToGetAndHash) {
  size_t from = fake_->Log().size();
  auto digest = client_->ResolveDigest(Ref("nodigest/app:v1"), In(std::chrono::seconds(5)));
  ASSERT_TRUE(digest.ok()) << digest.status().message();
  EXPECT_EQ(*digest, manifest_digest_);
  auto requests = Requests(from, "/v2/nodigest/app/manifests/v1");
  ASSERT_GE(requests.size(), 2u);
  EXPECT_EQ(requests.front()["method"], "HEAD");
  EXPECT_EQ(requests.back()["method"], "GET");
}

TEST_F(FakeRegistryTest, BodiesThatDoNotMatchTheirDigestAreRejected) {
  auto manifest = client_->GetManifest(Ref("tampered/app:v1"), manifest_digest_, In(std::chrono::seconds(5)));
  ASSERT_FALSE(manifest.ok());
  EXPECT_EQ(manifest.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(manifest.status().message().find("not the requested digest"), std::string::npos);
  auto blob = client_->GetBlob(Ref("tampered/app:v1"), blob_digest_, 1024, In(std::chrono::seconds(5)));
  ASSERT_FALSE(blob.ok());
  EXPECT_EQ(blob.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(blob.status().message().find("not the requested digest"), std::string::npos);
}

TEST_F(FakeRegistryTest, ReferrersPagesAreMergedAndCapped) {
  auto none = client_->GetReferrers(Ref("plain/app:v1"), manifest_digest_, In(std::chrono::seconds(5)));
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_FALSE(none->has_value());

  auto paged = client_->GetReferrers(Ref("paged/app:v1"), manifest_digest_, In(std::chrono::seconds(5)));
  ASSERT_TRUE(paged.ok()) << paged.status().message();
  ASSERT_TRUE(paged->has_value());
  auto index = nlohmann::json::parse(**paged);
  EXPECT_EQ(index["mediaType"], "application/vnd.oci.image.index.v1+json");
  ASSERT_EQ(index["manifests"].size(), 2u);
  EXPECT_EQ(index["manifests"][1]["digest"], "sha256:" + std::string(64, '2'));

  RegistryLimits limits;
  limits.max_referrer_pages = 3;
  auto client = MakeClient(8, limits);
  auto capped = client->GetReferrers(Ref("manypages/app:v1"), manifest_digest_, In(std::chrono::seconds(5)));
  ASSERT_FALSE(capped.ok());
  EXPECT_EQ(capped.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(capped.status().message().find("more than 3 pages"), std::string::npos) << capped.status().message();
}

TEST_F(FakeRegistryTest, PerRegistryConcurrencyLimitMakesLaterCallersWait) {
  auto client = MakeClient(/*slots=*/1);
  std::thread holder([&] { (void)client->ResolveDigest(Ref("slow/app:v1"), In(std::chrono::milliseconds(1500))); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the holder has the only slot by now
  auto waiting = client->ResolveDigest(Ref("plain/app:v1"), In(std::chrono::milliseconds(300)));
  holder.join();
  ASSERT_FALSE(waiting.ok());
  EXPECT_EQ(waiting.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(waiting.status().message().find("no free connection slot"), std::string::npos)
      << waiting.status().message();
  // Once the slot is free again the same client works.
  EXPECT_TRUE(client->ResolveDigest(Ref("plain/app:v1"), In(std::chrono::seconds(5))).ok());
}

}  // namespace
}  // namespace pipeguard::registry
