// ImageVerificationService against an in-process registry holding artifacts made exactly as cosign makes them:
// caching (hits, TTLs, negative vs positive, transient errors), singleflight, deadlines, outages, key-set changes.
// No test depends on wall-clock timing: time is a FakeClock; concurrency is forced with gates.
#include "pipeguard/imageverify/service.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "cosign_artifacts.h"
#include "counting_registry.h"
#include "fake_registry.h"
#include "test_fulcio.h"

namespace pipeguard::imageverify {
namespace {

using signatures::Reason;
using signatures::testing::DsseBundle;
using signatures::testing::InTotoStatement;
using signatures::testing::KeyKind;
using signatures::testing::PushBundle;
using signatures::testing::PushLegacySignature;
using signatures::testing::PushLegacySignatureWithSet;
using signatures::testing::SigningKey;
using testing::CountingRegistry;
using testing::FakeClock;
using namespace std::chrono_literals;

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { registry_ = std::make_shared<CountingRegistry>(fake_); }

  // An image manifest tagged `tag` (distinct content per tag); returns its digest.
  std::string PushImage(const std::string& tag) {
    return fake_.PutManifest(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
                             R"("annotations":{"tag":")" +
                                 tag + R"("},"layers":[]})",
                             tag);
  }

  policy::ImagesConfig Config(const SigningKey& key, const std::string& name = "release") const {
    policy::ImagesConfig config;
    config.keys = {{name, "", key.public_pem()}};
    config.deadline = 4s;
    return config;
  }

  std::unique_ptr<ImageVerificationService> Service(const policy::ImagesConfig& config,
                                                    std::shared_ptr<VerificationCache> cache = nullptr,
                                                    signatures::VerifierOptions verifier = {}) {
    ServiceOptions options;
    options.registry = registry_;
    options.metrics = metrics_;
    options.clock = clock_.AsClock();
    options.cache = std::move(cache);
    options.verifier = std::move(verifier);
    options.cache_policy = policy_;
    auto service = ImageVerificationService::Create(config, std::move(options));
    EXPECT_TRUE(service.ok()) << service.status().message();
    return service.ok() ? std::move(service).value() : nullptr;
  }

  ImageOutcome Verify(ImageVerificationService& service, const std::string& image) {
    return service.Verify(image, clock_.Now() + 1h);
  }

  signatures::testing::FakeRegistry fake_;
  std::shared_ptr<CountingRegistry> registry_;
  std::shared_ptr<CountingMetricsSink> metrics_ = std::make_shared<CountingMetricsSink>();
  FakeClock clock_;
  CachePolicy policy_;  // defaults: positive 15 min, negative 30 s, tag 30 s, grace 1 h
  SigningKey signer_ = SigningKey::Generate(KeyKind::kP256);
};

TEST_F(ServiceTest, VerifiedOnceThenServedFromTheCache) {
  const std::string digest = PushImage("1.0");
  PushLegacySignature(fake_, signer_, digest);
  auto service = Service(Config(signer_));

  const ImageOutcome first = Verify(*service, "registry.example.com/team/app:1.0");
  EXPECT_TRUE(first.verdict.verified) << first.message;
  EXPECT_EQ(first.verdict.digest, digest);
  EXPECT_EQ(first.key_name, "release");
  EXPECT_EQ(first.format, signatures::SignatureFormat::kSimpleSigning);
  EXPECT_EQ(first.source, VerdictSource::kVerification);
  const int calls = registry_->calls();

  const ImageOutcome second = Verify(*service, "registry.example.com/team/app:1.0");
  EXPECT_TRUE(second.verdict.verified);
  EXPECT_EQ(second.verdict.digest, digest);
  EXPECT_EQ(second.source, VerdictSource::kCache);
  EXPECT_EQ(registry_->calls(), calls) << "a cached verdict (and tag) must not touch the registry";
  EXPECT_EQ(metrics_->cache_lookups(CacheKind::kVerdict, CacheResult::kHit), 1);
  EXPECT_EQ(metrics_->cache_lookups(CacheKind::kTag, CacheResult::kHit), 1);
  EXPECT_EQ(metrics_->cache_lookups(CacheKind::kVerdict, CacheResult::kMiss), 1);
  EXPECT_EQ(metrics_->verifications("verified"), 1);
  EXPECT_GT(metrics_->registry_calls("resolve"), 0);
  EXPECT_GT(metrics_->registry_calls("referrers"), 0);
}

TEST_F(ServiceTest, PositiveVerdictExpiresAfterItsTtl) {
  const std::string digest = PushImage("1.0");
  PushLegacySignature(fake_, signer_, digest);
  auto service = Service(Config(signer_));
  const std::string image = "registry.example.com/team/app@" + digest;
  ASSERT_TRUE(Verify(*service, image).verdict.verified);
  clock_.Advance(policy_.positive_ttl - 1s);
  EXPECT_EQ(Verify(*service, image).source, VerdictSource::kCache);
  EXPECT_EQ(registry_->verifications(), 1);
  clock_.Advance(2s);
  const ImageOutcome again = Verify(*service, image);
  EXPECT_TRUE(again.verdict.verified);
  EXPECT_EQ(again.source, VerdictSource::kVerification);
  EXPECT_EQ(registry_->verifications(), 2);
}

TEST_F(ServiceTest, NegativeVerdictHasTheShorterTtlSoNewSignaturesArePickedUp) {
  const std::string digest = PushImage("2.0");
  auto service = Service(Config(signer_));
  const std::string image = "registry.example.com/team/app@" + digest;

  const ImageOutcome unsigned_image = Verify(*service, image);
  EXPECT_FALSE(unsigned_image.verdict.verified);
  EXPECT_EQ(unsigned_image.reason, Reason::kNoSignature);
  EXPECT_TRUE(Contains(unsigned_image.verdict.reason, "no signature found")) << unsigned_image.verdict.reason;
  EXPECT_EQ(unsigned_image.verdict.digest, digest);

  clock_.Advance(policy_.negative_ttl - 1s);
  const ImageOutcome cached = Verify(*service, image);
  EXPECT_EQ(cached.source, VerdictSource::kCache);
  EXPECT_FALSE(cached.verdict.verified);
  EXPECT_EQ(registry_->verifications(), 1);

  PushLegacySignature(fake_, signer_, digest);  // signed after the first admission
  clock_.Advance(2s);                           // past the negative TTL, far inside the positive one
  const ImageOutcome now_signed = Verify(*service, image);
  EXPECT_TRUE(now_signed.verdict.verified) << now_signed.message;
  EXPECT_EQ(registry_->verifications(), 2);
}

TEST_F(ServiceTest, TransientErrorsAreNeverCached) {
  const std::string digest = PushImage("1.0");
  PushLegacySignature(fake_, signer_, digest);
  auto service = Service(Config(signer_));
  const std::string image = "registry.example.com/team/app@" + digest;

  for (const auto& [status, reason] : std::vector<std::pair<Status, Reason>>{
           {Status::Unavailable("cannot connect to registry.example.com"), Reason::kRegistryUnreachable},
           {Status::PermissionDenied("the registry refused the credentials"), Reason::kRegistryDenied},
           {Status::DeadlineExceeded("no answer before the deadline"), Reason::kTimedOut}}) {
    registry_->SetOutage(status);
    const int before = registry_->verifications();
    const ImageOutcome first = Verify(*service, image);
    const ImageOutcome second = Verify(*service, image);
    EXPECT_FALSE(first.verdict.verified);
    EXPECT_EQ(first.reason, reason) << first.message;
    EXPECT_EQ(second.source, VerdictSource::kVerification) << "transient failure served from the cache";
    EXPECT_EQ(registry_->verifications(), before + 2);
  }
  registry_->SetOutage(std::nullopt);
  EXPECT_TRUE(Verify(*service, image).verdict.verified);
  EXPECT_EQ(metrics_->verifications("registry_unreachable"), 2);
  EXPECT_EQ(metrics_->verifications("registry_denied"), 2);
  EXPECT_EQ(metrics_->verifications("timed_out"), 2);
}

TEST_F(ServiceTest, RegistryUnreachableFailsClosedWithAClearReason) {
  PushImage("1.0");
  registry_->SetOutage(Status::Unavailable("cannot connect to registry.example.com: Connection refused"));
  auto service = Service(Config(signer_));
  const ImageOutcome outcome = Verify(*service, "registry.example.com/team/app:1.0");
  EXPECT_FALSE(outcome.verdict.verified);
  EXPECT_EQ(outcome.reason, Reason::kRegistryUnreachable);
  EXPECT_TRUE(Contains(outcome.verdict.reason, "registry unreachable")) << outcome.verdict.reason;
  EXPECT_TRUE(Contains(outcome.verdict.reason, "Connection refused")) << outcome.verdict.reason;
  EXPECT_TRUE(outcome.verdict.digest.empty());
}

TEST_F(ServiceTest, OneHundredConcurrentAdmissionsShareOneVerification) {
  const std::string digest = PushImage("1.0");
  PushLegacySignature(fake_, signer_, digest);
  auto service = Service(Config(signer_));
  const std::string image = "registry.example.com/team/app@" + digest;

  registry_->CloseGate();  // the first verification waits here until every other caller has joined it
  std::vector<std::thread> threads;
  std::vector<ImageOutcome> outcomes(100);
  for (int i = 0; i < 100; ++i) {
    threads.emplace_back([&, i] { outcomes[i] = Verify(*service, image); });
  }
  for (int spins = 0; spins < 2000 && metrics_->shared_flights(CacheKind::kVerdict) < 99; ++spins) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(metrics_->shared_flights(CacheKind::kVerdict), 99) << "the callers did not all join the verification";
  registry_->OpenGate();
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(registry_->verifications(), 1);
  EXPECT_EQ(metrics_->verifications(), 1);
  int shared = 0;
  for (const auto& outcome : outcomes) {
    EXPECT_TRUE(outcome.verdict.verified) << outcome.message;
    EXPECT_EQ(outcome.verdict.digest, digest);
    shared += outcome.source == VerdictSource::kShared;
  }
  EXPECT_EQ(shared, 99);
}

TEST_F(ServiceTest, ConcurrentResolutionsOfOneTagShareOneRegistryCall) {
  const std::string digest = PushImage("1.0");
  PushLegacySignature(fake_, signer_, digest);
  auto service = Service(Config(signer_));
  registry_->CloseGate();
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&] { EXPECT_TRUE(Verify(*service, "registry.example.com/team/app:1.0").verdict.verified); });
  }
  for (int spins = 0;
       spins < 2000 && metrics_->shared_flights(CacheKind::kVerdict) + metrics_->shared_flights(CacheKind::kTag) +
                               metrics_->cache_lookups(CacheKind::kTag, CacheResult::kHit) <
                           19;
       ++spins) {
    std::this_thread::sleep_for(5ms);
  }
  registry_->OpenGate();
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(registry_->resolves(), 1);
  EXPECT_EQ(registry_->verifications(), 1);
}

TEST_F(ServiceTest, OneRequestResolvesEachTagOnceAndVerifiesEachDigestOnce) {
  const std::string digest = PushImage("1.0");
  PushLegacySignature(fake_, signer_, digest);
  auto service = Service(Config(signer_));
  const std::string tagged = "registry.example.com/team/app:1.0";
  const std::string pinned = "registry.example.com/team/app@" + digest;
  const ImageVerdicts verdicts = service->VerifyAll({tagged, pinned, tagged, tagged, pinned}, clock_.Now() + 1h);
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_TRUE(verdicts.at(tagged).verified);
  EXPECT_TRUE(verdicts.at(pinned).verified);
  EXPECT_EQ(verdicts.at(tagged).digest, digest);
  EXPECT_EQ(registry_->resolves(), 1);
  EXPECT_EQ(registry_->verifications(), 1);
}

TEST_F(ServiceTest, DistinctDigestsAreVerifiedInParallel) {
  const std::string a = PushImage("a");
  const std::string b = PushImage("b");
  PushLegacySignature(fake_, signer_, a);
  PushLegacySignature(fake_, signer_, b);
  auto service = Service(Config(signer_));
  registry_->CloseGate();
  registry_->RequireConcurrentVerifications(2);  // each verification waits until the other one runs too
  const ImageVerdicts verdicts = service->VerifyAll(
      {"registry.example.com/team/app@" + a, "registry.example.com/team/app@" + b}, clock_.Now() + 1h);
  registry_->OpenGate();
  EXPECT_EQ(registry_->max_concurrent_verifications(), 2);
  EXPECT_EQ(registry_->verifications(), 2);
  ASSERT_EQ(verdicts.size(), 2u);
  for (const auto& [image, verdict] : verdicts) EXPECT_TRUE(verdict.verified) << image << ": " << verdict.reason;
}

TEST_F(ServiceTest, DeadlinePassedDuringVerificationFailsClosedAndIsNotCached) {
  const std::string digest = PushImage("1.0");
  PushLegacySignature(fake_, signer_, digest);
  auto config = Config(signer_);
  config.deadline = 4s;
  auto service = Service(config);
  // A registry that takes 5 s to answer the first call: the verifier finds the deadline gone.
  registry_->SetOnCall([this](const std::string& method) {
    if (method == "GetReferrers") clock_.Advance(5s);
  });
  const std::string image = "registry.example.com/team/app@" + digest;
  const ImageOutcome outcome = Verify(*service, image);
  EXPECT_FALSE(outcome.verdict.verified);
  EXPECT_EQ(outcome.reason, Reason::kTimedOut);
  EXPECT_TRUE(Contains(outcome.verdict.reason, "timed out after 4s")) << outcome.verdict.reason;
  EXPECT_TRUE(Contains(outcome.message, digest)) << outcome.message;

  registry_->SetOnCall(nullptr);
  const ImageOutcome retry = Verify(*service, image);
  EXPECT_TRUE(retry.verdict.verified) << retry.message;
  EXPECT_EQ(registry_->verifications(), 2);
}

TEST_F(ServiceTest, CallerDeadlineShorterThanTheConfiguredOneIsNamed) {
  PushImage("1.0");
  auto service = Service(Config(signer_));
  registry_->SetOnCall([this](const std::string&) { clock_.Advance(3s); });
  const ImageOutcome outcome = service->Verify("registry.example.com/team/app:1.0", clock_.Now() + 1500ms);
  EXPECT_FALSE(outcome.verdict.verified);
  EXPECT_EQ(outcome.reason, Reason::kTimedOut) << outcome.message;
  EXPECT_TRUE(Contains(outcome.verdict.reason, "timed out after 1.5s")) << outcome.verdict.reason;
}

TEST_F(ServiceTest, CachedVerdictsKeepServingDuringAnOutageAndStalePositivesWithinTheGrace) {
  const std::string digest = PushImage("1.0");
  PushLegacySignature(fake_, signer_, digest);
  auto service = Service(Config(signer_));
  const std::string tagged = "registry.example.com/team/app:1.0";
  ASSERT_TRUE(Verify(*service, tagged).verdict.verified);
  registry_->SetOutage(Status::Unavailable("cannot connect to registry.example.com"));

  // Fresh entries: no registry call at all.
  const ImageOutcome fresh = Verify(*service, tagged);
  EXPECT_TRUE(fresh.verdict.verified);
  EXPECT_EQ(fresh.source, VerdictSource::kCache);

  // Past the positive TTL, inside the grace: the registry is tried, fails, the expired positive answers.
  clock_.Advance(policy_.positive_ttl + 1min);
  const ImageOutcome stale = Verify(*service, tagged);
  EXPECT_TRUE(stale.verdict.verified) << stale.message;
  EXPECT_EQ(stale.verdict.digest, digest);
  EXPECT_EQ(stale.source, VerdictSource::kStaleCache);
  EXPECT_TRUE(Contains(stale.message, "expired cache entry")) << stale.message;
  EXPECT_EQ(metrics_->cache_lookups(CacheKind::kVerdict, CacheResult::kStaleHit), 1);
  EXPECT_EQ(metrics_->cache_lookups(CacheKind::kTag, CacheResult::kStaleHit), 1);

  // Beyond the grace: fail closed.
  clock_.Advance(policy_.stale_grace);
  const ImageOutcome closed = Verify(*service, tagged);
  EXPECT_FALSE(closed.verdict.verified);
  EXPECT_EQ(closed.reason, Reason::kRegistryUnreachable);
}

TEST_F(ServiceTest, ExpiredNegativesAreNeverServedDuringAnOutage) {
  const std::string digest = PushImage("1.0");
  auto service = Service(Config(signer_));
  const std::string image = "registry.example.com/team/app@" + digest;
  EXPECT_EQ(Verify(*service, image).reason, Reason::kNoSignature);
  registry_->SetOutage(Status::Unavailable("cannot connect"));
  clock_.Advance(policy_.negative_ttl + 1s);
  const ImageOutcome outcome = Verify(*service, image);
  EXPECT_EQ(outcome.reason, Reason::kRegistryUnreachable) << outcome.message;
}

TEST_F(ServiceTest, WithoutPinningTagsAreResolvedOnEveryRequest) {
  const std::string digest = PushImage("1.0");
  PushLegacySignature(fake_, signer_, digest);
  auto config = Config(signer_);
  config.pin_digests = false;
  auto service = Service(config);
  const std::string tagged = "registry.example.com/team/app:1.0";
  ASSERT_TRUE(Verify(*service, tagged).verdict.verified);
  const ImageOutcome second = Verify(*service, tagged);
  EXPECT_TRUE(second.verdict.verified);
  EXPECT_EQ(second.source, VerdictSource::kCache);  // the digest's verdict is cached ...
  EXPECT_EQ(registry_->resolves(), 2);              // ... but the tag is looked up again

  // The tag moves to an unsigned digest: the very next admission sees it.
  PushImage("1.0-unsigned");
  fake_.PutManifest(R"({"schemaVersion":2,"layers":[],"moved":true})", "1.0");
  const ImageOutcome moved = Verify(*service, tagged);
  EXPECT_FALSE(moved.verdict.verified);
  EXPECT_NE(moved.verdict.digest, digest);

  // And an outage fails closed even though a verdict is cached: the current digest is unknown.
  registry_->SetOutage(Status::Unavailable("cannot connect"));
  const ImageOutcome outage = Verify(*service, tagged);
  EXPECT_FALSE(outage.verdict.verified);
  EXPECT_TRUE(Contains(outage.verdict.reason, "resolving the tag")) << outage.verdict.reason;
}

TEST_F(ServiceTest, TagCacheHasItsOwnShortTtl) {
  const std::string digest = PushImage("1.0");
  PushLegacySignature(fake_, signer_, digest);
  auto service = Service(Config(signer_));
  const std::string tagged = "registry.example.com/team/app:1.0";
  ASSERT_TRUE(Verify(*service, tagged).verdict.verified);
  clock_.Advance(policy_.tag_ttl - 1s);
  ASSERT_TRUE(Verify(*service, tagged).verdict.verified);
  EXPECT_EQ(registry_->resolves(), 1);
  clock_.Advance(2s);
  const ImageOutcome after = Verify(*service, tagged);
  EXPECT_TRUE(after.verdict.verified);
  EXPECT_EQ(after.source, VerdictSource::kCache);  // the verdict is still fresh; only the tag was looked up
  EXPECT_EQ(registry_->resolves(), 2);
  EXPECT_EQ(registry_->verifications(), 1);
}

TEST_F(ServiceTest, KeySetOrOptionChangeIsACacheMiss) {
  const std::string digest = PushImage("1.0");
  PushLegacySignature(fake_, signer_, digest);
  auto cache = std::make_shared<VerificationCache>();
  const std::string image = "registry.example.com/team/app@" + digest;

  auto trusting_signer = Service(Config(signer_), cache);
  ASSERT_TRUE(Verify(*trusting_signer, image).verdict.verified);
  EXPECT_EQ(registry_->verifications(), 1);

  // A reload that trusts another key only: the shared cache must not answer for it.
  const SigningKey other = SigningKey::Generate(KeyKind::kP256);
  auto trusting_other = Service(Config(other), cache);
  EXPECT_NE(trusting_other->fingerprint(), trusting_signer->fingerprint());
  const ImageOutcome untrusted = Verify(*trusting_other, image);
  EXPECT_FALSE(untrusted.verdict.verified);
  EXPECT_EQ(untrusted.reason, Reason::kUntrustedKey) << untrusted.message;
  EXPECT_EQ(registry_->verifications(), 2);

  // The same key under another name is another key set too (names appear in verdicts).
  auto renamed = Service(Config(signer_, "renamed"), cache);
  EXPECT_EQ(Verify(*renamed, image).key_name, "renamed");
  EXPECT_EQ(registry_->verifications(), 3);

  // Other verifier options (accepted predicate types) are another decision.
  signatures::VerifierOptions options;
  options.image_signature_predicate_types = {"https://example.com/other-predicate/v1"};
  auto other_options = Service(Config(signer_), cache, options);
  EXPECT_NE(other_options->fingerprint(), trusting_signer->fingerprint());
  Verify(*other_options, image);
  EXPECT_EQ(registry_->verifications(), 4);

  // Back to the first configuration: its entries are still valid and found.
  auto again = Service(Config(signer_), cache);
  EXPECT_EQ(again->fingerprint(), trusting_signer->fingerprint());
  EXPECT_EQ(Verify(*again, image).source, VerdictSource::kCache);
  EXPECT_EQ(registry_->verifications(), 4);
}

TEST_F(ServiceTest, TheRepositoryIsPartOfTheKey) {
  const std::string digest = PushImage("1.0");
  auto service = Service(Config(signer_));
  ASSERT_FALSE(Verify(*service, "registry.example.com/a/app@" + digest).verdict.verified);
  PushLegacySignature(fake_, signer_, digest);
  // Another repository with the same digest is verified on its own, not answered by a's cached negative.
  EXPECT_TRUE(Verify(*service, "registry.example.com/b/app@" + digest).verdict.verified);
  EXPECT_EQ(registry_->verifications(), 2);
}

TEST_F(ServiceTest, CacheIsBoundedLeastRecentlyUsedFirst) {
  auto cache = std::make_shared<VerificationCache>(VerificationCache::Limits{2, 2});
  auto service = Service(Config(signer_), cache);
  std::vector<std::string> images;
  for (const std::string tag : {"a", "b", "c"}) {
    const std::string digest = PushImage(tag);
    PushLegacySignature(fake_, signer_, digest);
    images.push_back("registry.example.com/team/app@" + digest);
  }
  for (const auto& image : images) ASSERT_TRUE(Verify(*service, image).verdict.verified);
  EXPECT_EQ(cache->verdict_count(), 2u);
  EXPECT_EQ(Verify(*service, images[2]).source, VerdictSource::kCache);
  EXPECT_EQ(Verify(*service, images[0]).source, VerdictSource::kVerification);  // evicted
}

TEST_F(ServiceTest, SigstoreBundleAndWrongPredicateAreDistinguished) {
  const std::string signed_digest = PushImage("bundle");
  fake_.set_referrers_api(false);
  PushBundle(fake_, DsseBundle(signer_, InTotoStatement(signed_digest)), signed_digest);
  const std::string attested_digest = PushImage("attested");
  PushBundle(fake_, DsseBundle(signer_, InTotoStatement(attested_digest, "https://slsa.dev/provenance/v1")),
             attested_digest);
  auto service = Service(Config(signer_));
  const ImageOutcome bundle = Verify(*service, "registry.example.com/team/app@" + signed_digest);
  EXPECT_TRUE(bundle.verdict.verified) << bundle.message;
  EXPECT_EQ(bundle.format, signatures::SignatureFormat::kSigstoreBundle);
  const ImageOutcome attestation = Verify(*service, "registry.example.com/team/app@" + attested_digest);
  EXPECT_FALSE(attestation.verdict.verified);
  EXPECT_EQ(attestation.reason, Reason::kNotAnImageSignature) << attestation.message;
  // A definitive negative: cached for the negative TTL.
  EXPECT_EQ(Verify(*service, "registry.example.com/team/app@" + attested_digest).source, VerdictSource::kCache);
}

TEST_F(ServiceTest, MalformedReferencesAndMissingTagsAreNotVerified) {
  auto service = Service(Config(signer_));
  const ImageOutcome malformed = Verify(*service, "Registry.Example.com/UPPER/app:1.0");
  EXPECT_FALSE(malformed.verdict.verified);
  EXPECT_EQ(malformed.source, VerdictSource::kNotChecked);
  EXPECT_TRUE(Contains(malformed.verdict.reason, "malformed image reference")) << malformed.verdict.reason;
  EXPECT_EQ(registry_->calls(), 0);

  const ImageOutcome missing = Verify(*service, "registry.example.com/team/app:nope");
  EXPECT_FALSE(missing.verdict.verified);
  EXPECT_EQ(missing.reason, Reason::kImageNotFound);
  EXPECT_TRUE(Contains(missing.verdict.reason, "image not found")) << missing.verdict.reason;
}

TEST_F(ServiceTest, AWaiterWhoseDeadlinePassesGivesUpTimedOut) {
  const std::string digest = PushImage("1.0");
  PushLegacySignature(fake_, signer_, digest);
  auto service = Service(Config(signer_));
  const std::string image = "registry.example.com/team/app@" + digest;
  registry_->CloseGate();
  std::thread leader([&] { EXPECT_TRUE(Verify(*service, image).verdict.verified); });
  while (registry_->waiting_at_gate() < 1) std::this_thread::sleep_for(1ms);
  ImageOutcome follower;
  std::thread waiter([&] { follower = service->Verify(image, clock_.Now() + 2s); });
  for (int spins = 0; spins < 2000 && metrics_->shared_flights(CacheKind::kVerdict) < 1; ++spins) {
    std::this_thread::sleep_for(1ms);
  }
  clock_.Advance(3s);
  waiter.join();
  registry_->OpenGate();
  leader.join();
  EXPECT_FALSE(follower.verdict.verified);
  EXPECT_EQ(follower.reason, Reason::kTimedOut);
  EXPECT_TRUE(Contains(follower.verdict.reason, "waiting for another admission")) << follower.verdict.reason;
  EXPECT_EQ(registry_->verifications(), 1);
}

TEST_F(ServiceTest, CreateRejectsBadConfiguration) {
  ServiceOptions options;
  options.registry = registry_;
  policy::ImagesConfig no_keys;
  EXPECT_FALSE(ImageVerificationService::Create(no_keys, options).ok());
  policy::ImagesConfig missing_file;
  missing_file.keys = {{"release", "/nonexistent/cosign.pub", ""}};
  auto missing = ImageVerificationService::Create(missing_file, options);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(Contains(missing.status().message(), "/nonexistent/cosign.pub")) << missing.status().message();
  auto zero_deadline = Config(signer_);
  zero_deadline.deadline = 0ms;
  EXPECT_FALSE(ImageVerificationService::Create(zero_deadline, options).ok());
  options.cache_policy.negative_ttl = options.cache_policy.positive_ttl + 1s;
  EXPECT_FALSE(ImageVerificationService::Create(Config(signer_), options).ok());
}

TEST_F(ServiceTest, LookupServesTheEngine) {
  const std::string digest = PushImage("1.0");
  PushLegacySignature(fake_, signer_, digest);
  auto service = Service(Config(signer_));
  const auto lookup = MakeLookup(service->VerifyAll({"registry.example.com/team/app:1.0"}, clock_.Now() + 1h));
  ASSERT_TRUE(lookup("registry.example.com/team/app:1.0", {}).has_value());
  EXPECT_TRUE(lookup("registry.example.com/team/app:1.0", {})->verified);
  EXPECT_FALSE(lookup("registry.example.com/team/other:1.0", {}).has_value());
  // An unrestricted result never answers for a profile's narrower key scope.
  policy::KeyScope narrowed;
  narrowed.keys = std::vector<std::string>{"release"};
  EXPECT_FALSE(lookup("registry.example.com/team/app:1.0", narrowed).has_value());
}

// --- images.rekor: transparency-log keys from the configuration -------------------------------------------------

class RekorConfigTest : public ServiceTest {
 protected:
  policy::ImagesConfig WithRekor(bool required) const {
    policy::ImagesConfig config = Config(signer_);
    config.rekor.public_keys = {{"test-log", "", log_key_.public_pem()}};
    config.rekor.required = required;
    return config;
  }
  SigningKey log_key_ = SigningKey::Generate(KeyKind::kP256);
};

TEST_F(RekorConfigTest, RequiredRejectsASignatureWithoutALogEntry) {
  const std::string digest = PushImage("1.0");
  PushLegacySignature(fake_, signer_, digest);  // like cosign --tlog-upload=false
  const std::string image = "registry.example.com/team/app@" + digest;

  const ImageOutcome required = Verify(*Service(WithRekor(true)), image);
  EXPECT_FALSE(required.verdict.verified);
  EXPECT_EQ(required.reason, Reason::kInvalidSignature);
  EXPECT_TRUE(Contains(required.verdict.reason, "no verified entry from a trusted transparency log"))
      << required.verdict.reason;
  EXPECT_TRUE(Contains(required.message, digest)) << required.message;

  const ImageOutcome optional = Verify(*Service(WithRekor(false)), image);
  EXPECT_TRUE(optional.verdict.verified) << optional.message;
  EXPECT_FALSE(optional.tlog_verified);
}

TEST_F(RekorConfigTest, AValidSetIsVerifiedAndAForgedOneRejectedEvenWhenOptional) {
  const std::string logged = PushImage("logged");
  PushLegacySignatureWithSet(fake_, signer_, logged, log_key_);
  const std::string forged = PushImage("forged");
  PushLegacySignatureWithSet(fake_, signer_, forged, log_key_, /*forge_set=*/true);

  auto required = Service(WithRekor(true));
  const ImageOutcome ok = Verify(*required, "registry.example.com/team/app@" + logged);
  EXPECT_TRUE(ok.verdict.verified) << ok.message;
  EXPECT_TRUE(ok.tlog_verified);

  auto optional = Service(WithRekor(false));
  const ImageOutcome bad = Verify(*optional, "registry.example.com/team/app@" + forged);
  EXPECT_FALSE(bad.verdict.verified);
  EXPECT_EQ(bad.reason, Reason::kInvalidSignature) << bad.message;

  // Without images.rekor the log data is ignored: the same forged SET does not matter.
  EXPECT_TRUE(Verify(*Service(Config(signer_)), "registry.example.com/team/app@" + forged).verdict.verified);
}

TEST_F(RekorConfigTest, TheRekorConfigurationIsPartOfTheCacheKey) {
  const std::string digest = PushImage("1.0");
  PushLegacySignature(fake_, signer_, digest);
  const std::string image = "registry.example.com/team/app@" + digest;
  auto cache = std::make_shared<VerificationCache>();
  auto plain = Service(Config(signer_), cache);
  auto optional = Service(WithRekor(false), cache);
  auto required = Service(WithRekor(true), cache);
  EXPECT_NE(plain->fingerprint(), optional->fingerprint());
  EXPECT_NE(optional->fingerprint(), required->fingerprint());

  ASSERT_TRUE(Verify(*plain, image).verdict.verified);
  const ImageOutcome strict = Verify(*required, image);
  EXPECT_FALSE(strict.verdict.verified) << "a verdict cached without the Rekor requirement must not be reused";
  EXPECT_EQ(strict.source, VerdictSource::kVerification);
}

TEST_F(RekorConfigTest, LogKeysLoadFromFilesAndTrustedRootsWithClearErrors) {
  ServiceOptions options;
  options.registry = registry_;
  policy::ImagesConfig config = Config(signer_);
  config.rekor.trusted_root_file = std::string(PIPEGUARD_TEST_DATA) + "/signatures/data/trusted_root_pgi_2026.json";
  config.rekor.required = true;
  auto from_root = ImageVerificationService::Create(config, options);
  ASSERT_TRUE(from_root.ok()) << from_root.status().message();

  config.rekor.trusted_root_file = "/nonexistent/trusted_root.json";
  auto missing_root = ImageVerificationService::Create(config, options);
  ASSERT_FALSE(missing_root.ok());
  EXPECT_EQ(missing_root.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(missing_root.status().message(), "images.rekor.trustedRootFile"));
  EXPECT_TRUE(Contains(missing_root.status().message(), "/nonexistent/trusted_root.json"));

  config.rekor.trusted_root_file.clear();
  config.rekor.public_keys = {{"public-good", "", "not a PEM key"}};
  auto garbage = ImageVerificationService::Create(config, options);
  ASSERT_FALSE(garbage.ok());
  EXPECT_TRUE(Contains(garbage.status().message(), "images.rekor.publicKeys 'public-good'"))
      << garbage.status().message();
  EXPECT_FALSE(Contains(garbage.status().message(), "not a PEM key")) << "file or key contents are never quoted";
}

// --- per-profile key scopes (spec.images.trustedKeys) -----------------------------------------------------------

TEST_F(ServiceTest, AKeyScopeVerifiesWithOnlyThoseKeysAndHasItsOwnCacheEntry) {
  const SigningKey release = SigningKey::Generate(KeyKind::kP256);
  policy::ImagesConfig config;
  config.keys = {{"payments-ci", "", signer_.public_pem()}, {"release", "", release.public_pem()}};
  config.deadline = 4s;
  auto service = Service(config);
  const std::string digest = PushImage("1.0");
  PushLegacySignature(fake_, signer_, digest);  // signed by payments-ci only
  const std::string image = "registry.example.com/team/app@" + digest;
  policy::KeyScope ci, rel, unknown;
  ci.keys = std::vector<std::string>{"payments-ci"};
  rel.keys = std::vector<std::string>{"release"};
  unknown.keys = std::vector<std::string>{"team-own-key"};

  EXPECT_TRUE(Verify(*service, image).verdict.verified);
  const ImageOutcome by_ci = service->Verify(image, clock_.Now() + 1h, ci);
  EXPECT_TRUE(by_ci.verdict.verified) << by_ci.message;
  EXPECT_EQ(by_ci.key_name, "payments-ci");
  EXPECT_EQ(by_ci.source, VerdictSource::kVerification) << "a scope is a different cache key";

  const ImageOutcome by_release = service->Verify(image, clock_.Now() + 1h, rel);
  EXPECT_FALSE(by_release.verdict.verified);
  EXPECT_EQ(by_release.reason, Reason::kUntrustedKey) << by_release.message;
  EXPECT_EQ(by_release.verdict.digest, digest);

  const ImageOutcome by_unknown = service->Verify(image, clock_.Now() + 1h, unknown);
  EXPECT_FALSE(by_unknown.verdict.verified);
  EXPECT_TRUE(Contains(by_unknown.message, "'team-own-key' is not configured")) << by_unknown.message;

  // VerifyChecks groups by scope; the lookup answers each (image, scope) pair.
  const std::vector<policy::ImageCheck> checks = {{image, "/spec/containers/0/image", ci},
                                                  {image, "/spec/containers/1/image", rel}};
  const auto lookup = MakeLookup(service->VerifyChecks(checks, clock_.Now() + 1h));
  ASSERT_TRUE(lookup(image, ci).has_value());
  EXPECT_TRUE(lookup(image, ci)->verified);
  ASSERT_TRUE(lookup(image, rel).has_value());
  EXPECT_FALSE(lookup(image, rel)->verified);
  EXPECT_FALSE(lookup(image, {}).has_value());
}

// --- keyless signers (images.keyless) ----------------------------------------------------------------------------

TEST_F(ServiceTest, KeylessOnlyConfigurationVerifiesAnAllowedIdentityButNotUnderAKeyScope) {
  const signatures::testing::TestFulcio fulcio;
  const std::string root_path = ::testing::TempDir() + "/pipeguard-service-keyless-root.json";
  std::ofstream(root_path) << fulcio.TrustedRootJson();
  policy::ImagesConfig config;
  config.deadline = 4s;
  config.keyless.trusted_root_file = root_path;
  config.keyless.identities = {{"release",
                                "",
                                R"(https://github\.com/acme/pipelines/.*)",
                                "https://token.actions.githubusercontent.com",
                                "",
                                {}}};
  auto service = Service(config);
  ASSERT_NE(service, nullptr);
  const std::string digest = PushImage("1.0");
  PushBundle(fake_, fulcio.DsseBundle(fulcio.Issue(), digest, 1785412560), digest);
  const std::string image = "registry.example.com/team/app@" + digest;

  const ImageOutcome outcome = Verify(*service, image);
  EXPECT_TRUE(outcome.verdict.verified) << outcome.message;
  EXPECT_EQ(outcome.key_name, "keyless identity 'release'");

  // A profile that names trusted keys narrows trust to those keys: keyless signers do not count for it.
  config.keys = {{"ci", "", signer_.public_pem()}};
  auto with_key = Service(config);
  policy::KeyScope scope;
  scope.keys = std::vector<std::string>{"ci"};
  EXPECT_TRUE(Verify(*with_key, image).verdict.verified);
  const ImageOutcome scoped = with_key->Verify(image, clock_.Now() + 1h, scope);
  EXPECT_FALSE(scoped.verdict.verified);
  EXPECT_EQ(scoped.reason, Reason::kKeylessUnsupported) << scoped.message;
  EXPECT_EQ(scoped.source, VerdictSource::kVerification) << "a scope is a different cache key";

  // Another identity is denied with the reason named.
  const std::string other = PushImage("2.0");
  signatures::testing::LeafOptions mallory;
  mallory.san_uri = "https://github.com/mallory/fork/.github/workflows/release.yml@refs/heads/main";
  PushBundle(fake_, fulcio.DsseBundle(fulcio.Issue(mallory), other, 1785412560), other);
  const ImageOutcome denied = Verify(*service, "registry.example.com/team/app@" + other);
  EXPECT_FALSE(denied.verdict.verified);
  EXPECT_EQ(denied.reason, Reason::kIdentityNotAllowed) << denied.message;
  EXPECT_TRUE(Contains(denied.message, "signer identity not allowed")) << denied.message;
  EXPECT_TRUE(Contains(denied.message,
                       "keyless identity check: certificate subject "
                       "'https://github.com/mallory/fork/.github/workflows/release.yml@refs/heads/main'"))
      << denied.message;
}

TEST_F(ServiceTest, BadKeylessConfigurationIsRefusedAtCreation) {
  policy::ImagesConfig config;
  config.deadline = 4s;
  config.keyless.trusted_root_file = "/nonexistent/trusted_root.json";
  config.keyless.identities = {{"release", "x", "", "y", "", {}}};
  ServiceOptions options;
  options.registry = registry_;
  auto service = ImageVerificationService::Create(config, std::move(options));
  ASSERT_FALSE(service.ok());
  EXPECT_TRUE(Contains(service.status().message(), "images.keyless.trustedRootFile")) << service.status().message();
}

}  // namespace
}  // namespace pipeguard::imageverify
