// Image signature verification wired into /validate and /mutate, with the real engine and test context and an
// in-process registry holding artifacts made exactly as cosign makes them (tests/signatures/cosign_artifacts.h).
#include "pipeguard/webhook/image_verification.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "cosign_artifacts.h"
#include "counting_registry.h"
#include "pipeguard/webhook/audit_log.h"
#include "pipeguard/webhook/handlers.h"
#include "pipeguard/webhook/metrics.h"
#include "test_support.h"

namespace pipeguard::webhook {
namespace {

using imageverify::testing::CountingRegistry;
using nlohmann::json;
using signatures::testing::KeyKind;
using signatures::testing::PushLegacySignature;
using signatures::testing::SigningKey;
using testing::DataPath;
using testing::MakeReview;
using testing::ReadJson;
using testing::TempDir;
using testing::WriteText;

constexpr std::int64_t kNow = 1800000000;
constexpr const char* kImage = "registry.example.com/etl/extract:1.4.2";

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

using testing::StaticContext;

std::string Base64Decode(const std::string& text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return "";
  size_t size = static_cast<size_t>(n);
  for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) --size;  // EVP_DecodeBlock counts the padding
  out.resize(size);
  return out;
}

// The configuration YAML with image verification settings and `key_entry` as the one images.keys item.
std::string ConfigYaml(bool verify, bool pin_digests, const std::string& key_entry) {
  return "mode: enforce\n"
         "images:\n"
         "  verify: " +
         std::string(verify ? "true" : "false") + "\n  pinDigests: " + (pin_digests ? "true" : "false") +
         "\n  deadline: 4s\n"
         "  allowedRegistries:\n"
         "    - registry.example.com/\n"
         "  keys:\n" +
         key_entry +
         "breakGlass:\n"
         "  groups:\n"
         "    - pipeguard:break-glass\n";
}

std::string InlineKeyEntry(const std::string& name, const std::string& pem) {
  std::string entry = "    - name: " + name + "\n      publicKey: |\n";
  size_t start = 0;
  while (start < pem.size()) {
    size_t end = pem.find('\n', start);
    if (end == std::string::npos) end = pem.size();
    entry += "        " + pem.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return entry;
}

std::string PathKeyEntry(const std::string& name, const std::string& path) {
  return "    - name: " + name + "\n      path: " + path + "\n";
}

class ImageVerificationWebhookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = std::make_shared<CountingRegistry>(fake_);
    digest_ = fake_.PutManifest(
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]})", "1.4.2");
  }

  // Loads the test context with a configuration built by ConfigYaml and prepares its verification service.
  void Start(bool verify, bool pin_digests) {
    WriteText(dir_.File("config.yaml"),
              ConfigYaml(verify, pin_digests, InlineKeyEntry("release", signer_.public_pem())));
    imageverify::ServiceOptions options;
    options.registry = registry_;
    options.metrics = metrics_;
    verifiers_ = std::make_unique<ImageVerifiers>(std::move(options));
    auto snapshot = LoadContextSnapshot({dir_.File("config.yaml"), {DataPath("context")}, {}});
    ASSERT_TRUE(snapshot.ok()) << snapshot.status().message();
    ASSERT_TRUE(verifiers_->Prepare(*snapshot).ok());
    context_ = std::make_unique<StaticContext>(std::move(snapshot).value());
    validate_ = MakeValidatingHandler(engine_, *context_, *verifiers_, [] { return kNow; });
    mutate_ = MakeMutatingHandler(*context_, *verifiers_, [] { return kNow; });
  }

  static AdmissionRequest Request(const json& object, const std::string& ns, const std::string& operation = "CREATE") {
    auto request = ParseAdmissionReview(MakeReview(object, ns, "uid-1", operation).dump());
    EXPECT_TRUE(request.ok()) << request.status().message();
    return request.ok() ? *request : AdmissionRequest{};
  }

  static json Pod() { return ReadJson(DataPath("pods/clean_kpo_pod.json")); }

  signatures::testing::FakeRegistry fake_;
  std::shared_ptr<CountingRegistry> registry_;
  std::shared_ptr<imageverify::CountingMetricsSink> metrics_ = std::make_shared<imageverify::CountingMetricsSink>();
  SigningKey signer_ = SigningKey::Generate(KeyKind::kP256);
  std::string digest_;
  TempDir dir_;
  policy::Engine engine_;
  std::unique_ptr<ImageVerifiers> verifiers_;
  std::unique_ptr<StaticContext> context_;
  AdmissionHandler validate_;
  AdmissionHandler mutate_;
};

bool HasRule(const AdmissionReply& reply, const std::string& rule) {
  for (const auto& f : reply.findings) {
    if (f.rule == rule) return true;
  }
  return false;
}

TEST_F(ImageVerificationWebhookTest, SignedImageIsAllowedAndTheOutcomeIsAudited) {
  PushLegacySignature(fake_, signer_, digest_);
  Start(true, true);
  const AdmissionRequest request = Request(Pod(), "etl");
  const AdmissionReply reply = validate_(request);
  EXPECT_TRUE(reply.allowed) << reply.message;
  EXPECT_FALSE(HasRule(reply, "unsigned-image"));
  ASSERT_EQ(reply.images.size(), 1u);
  EXPECT_EQ(reply.images[0].image, kImage);
  EXPECT_EQ(reply.images[0].digest, digest_);
  EXPECT_TRUE(reply.images[0].verified);
  EXPECT_EQ(reply.images[0].source, "fresh");
  EXPECT_EQ(reply.images[0].key_name, "release");

  const json line = json::parse(FormatAuditLine(request, reply, "validate", 1.0, std::chrono::system_clock::now()));
  ASSERT_TRUE(line.contains("images")) << line.dump();
  EXPECT_EQ(line["images"][0]["digest"], digest_);
  EXPECT_EQ(line["images"][0]["verified"], true);
  EXPECT_EQ(line["images"][0]["key"], "release");

  // The second admission is answered from the cache.
  const AdmissionReply again = validate_(request);
  EXPECT_TRUE(again.allowed);
  ASSERT_EQ(again.images.size(), 1u);
  EXPECT_EQ(again.images[0].source, "cached");
  EXPECT_EQ(registry_->verifications(), 1);
}

TEST_F(ImageVerificationWebhookTest, UnsignedImageIsDeniedNamingImageDigestAndReason) {
  Start(true, true);
  const AdmissionReply reply = validate_(Request(Pod(), "etl"));
  EXPECT_FALSE(reply.allowed);
  EXPECT_TRUE(HasRule(reply, "unsigned-image")) << reply.message;
  EXPECT_TRUE(Contains(reply.message, "unsigned-image")) << reply.message;
  EXPECT_TRUE(Contains(reply.message, "registry.example.com/etl/extract")) << reply.message;
  EXPECT_TRUE(Contains(reply.message, digest_)) << reply.message;
  EXPECT_TRUE(Contains(reply.message, "no signature")) << reply.message;
  ASSERT_EQ(reply.images.size(), 1u);
  EXPECT_FALSE(reply.images[0].verified);
  EXPECT_FALSE(reply.images[0].reason.empty());
}

TEST_F(ImageVerificationWebhookTest, MutatePinsTheVerifiedTagToItsDigest) {
  PushLegacySignature(fake_, signer_, digest_);
  Start(true, true);
  const json pod = Pod();
  const AdmissionReply reply = mutate_(Request(pod, "etl"));
  EXPECT_TRUE(reply.allowed);
  ASSERT_TRUE(reply.json_patch.has_value());

  // On the wire: patchType JSONPatch and the base64 patch, which applies to the object.
  const json review = json::parse(SerializeAdmissionReview(reply));
  EXPECT_EQ(review["response"]["patchType"], "JSONPatch");
  const json patch = json::parse(Base64Decode(review["response"]["patch"].get<std::string>()));
  ASSERT_TRUE(patch.is_array());
  ASSERT_EQ(patch.size(), 1u);
  const json patched = pod.patch(patch);
  EXPECT_EQ(patched["spec"]["containers"][0]["image"], "registry.example.com/etl/extract@" + digest_);
  // Nothing else changed.
  json restored = patched;
  restored["spec"]["containers"][0]["image"] = kImage;
  EXPECT_EQ(restored, pod);
}

TEST_F(ImageVerificationWebhookTest, MutateWithPinDigestsOffSendsNoPatch) {
  PushLegacySignature(fake_, signer_, digest_);
  Start(true, false);
  const AdmissionReply reply = mutate_(Request(Pod(), "etl"));
  EXPECT_TRUE(reply.allowed);
  EXPECT_FALSE(reply.json_patch.has_value());
  // The validating path still verifies the current digest.
  const AdmissionReply validated = validate_(Request(Pod(), "etl"));
  EXPECT_TRUE(validated.allowed) << validated.message;
  ASSERT_EQ(validated.images.size(), 1u);
  EXPECT_EQ(validated.images[0].digest, digest_);
}

TEST_F(ImageVerificationWebhookTest, MutateOfAnUnsignedImageAllowsWithoutPatch) {
  Start(true, true);
  const AdmissionReply reply = mutate_(Request(Pod(), "etl"));
  EXPECT_TRUE(reply.allowed);
  EXPECT_FALSE(reply.json_patch.has_value());
}

TEST_F(ImageVerificationWebhookTest, VerifyOffMakesNoRegistryCalls) {
  Start(false, true);
  EXPECT_EQ(verifiers_->For(*context_->Current()), nullptr);
  const AdmissionReply validated = validate_(Request(Pod(), "etl"));
  EXPECT_TRUE(validated.allowed) << validated.message;
  EXPECT_TRUE(validated.images.empty());
  const AdmissionReply mutated = mutate_(Request(Pod(), "etl"));
  EXPECT_TRUE(mutated.allowed);
  EXPECT_FALSE(mutated.json_patch.has_value());
  EXPECT_EQ(registry_->calls(), 0);
}

TEST_F(ImageVerificationWebhookTest, UngovernedPodsNeverWaitOnTheRegistry) {
  Start(true, true);
  json pod = Pod();
  pod["metadata"].erase("labels");
  const AdmissionReply validated = validate_(Request(pod, "web"));
  EXPECT_TRUE(validated.allowed) << validated.message;
  EXPECT_FALSE(validated.governed);
  const AdmissionReply mutated = mutate_(Request(pod, "web"));
  EXPECT_FALSE(mutated.json_patch.has_value());
  EXPECT_EQ(registry_->calls(), 0);
}

TEST_F(ImageVerificationWebhookTest, RegistryUnavailableFailsClosedAtValidateAndAllowsAtMutate) {
  PushLegacySignature(fake_, signer_, digest_);
  registry_->SetOutage(Status::Unavailable("cannot connect to registry.example.com: Connection refused"));
  Start(true, true);
  const AdmissionReply validated = validate_(Request(Pod(), "etl"));
  EXPECT_FALSE(validated.allowed);
  EXPECT_TRUE(HasRule(validated, "unsigned-image"));
  EXPECT_TRUE(Contains(validated.message, "registry unreachable")) << validated.message;
  const AdmissionReply mutated = mutate_(Request(Pod(), "etl"));
  EXPECT_TRUE(mutated.allowed);
  EXPECT_FALSE(mutated.json_patch.has_value());
}

TEST_F(ImageVerificationWebhookTest, DeleteIsNeitherVerifiedNorPatched) {
  Start(true, true);
  EXPECT_TRUE(validate_(Request(Pod(), "etl", "DELETE")).allowed);
  EXPECT_FALSE(mutate_(Request(Pod(), "etl", "DELETE")).json_patch.has_value());
  EXPECT_EQ(registry_->calls(), 0);
}

// Reloads through FileContextProvider: a service that cannot be built keeps the previous snapshot and service.
TEST(ImageVerifiersReloadTest, BadKeyOnReloadKeepsThePreviousConfigurationAndService) {
  TempDir dir;
  const SigningKey first = SigningKey::Generate(KeyKind::kP256);
  const SigningKey second = SigningKey::Generate(KeyKind::kP256);
  WriteText(dir.File("first.pem"), first.public_pem());
  WriteText(dir.File("second.pem"), second.public_pem());
  WriteText(dir.File("config.yaml"), ConfigYaml(true, true, PathKeyEntry("first", dir.File("first.pem"))));
  signatures::testing::FakeRegistry fake;
  imageverify::ServiceOptions options;
  options.registry = std::make_shared<CountingRegistry>(fake);
  ImageVerifiers verifiers(std::move(options));
  int failures = 0;
  int successes = 0;
  FileContextOptions context_options{dir.File("config.yaml"), {DataPath("context")}, {}};
  context_options.prepare = [&verifiers](const auto& snapshot) { return verifiers.Prepare(snapshot); };
  auto provider =
      FileContextProvider::Create(std::move(context_options), [&](bool ok) { ++(ok ? successes : failures); });
  ASSERT_TRUE(provider.ok()) << provider.status().message();
  const auto initial = (*provider)->Current();
  const auto initial_service = verifiers.For(*initial);
  ASSERT_NE(initial_service, nullptr);
  EXPECT_EQ(initial_service->keys().Names(), "first");

  // A key file that does not exist: rejected, the previous snapshot and service stay.
  const testing::CapturedLogs logs;
  WriteText(dir.File("config.yaml"), ConfigYaml(true, true, PathKeyEntry("missing", dir.File("missing-key.pem"))));
  EXPECT_EQ((*provider)->CheckNow(), ReloadOutcome::kRejected);
  EXPECT_EQ(failures, 1);
  EXPECT_EQ((*provider)->Current(), initial);
  EXPECT_EQ(verifiers.For(*(*provider)->Current()), initial_service);
  EXPECT_TRUE(Contains(logs.Text(), "missing-key.pem")) << logs.Text();

  // A valid new key set: a new service over the same shared cache.
  WriteText(dir.File("config.yaml"), ConfigYaml(true, true, PathKeyEntry("second", dir.File("second.pem"))));
  EXPECT_EQ((*provider)->CheckNow(), ReloadOutcome::kReloaded);
  EXPECT_EQ(successes, 1);
  const auto reloaded = verifiers.For(*(*provider)->Current());
  ASSERT_NE(reloaded, nullptr);
  EXPECT_NE(reloaded, initial_service);
  EXPECT_NE(reloaded->fingerprint(), initial_service->fingerprint());
  EXPECT_EQ(reloaded->keys().Names(), "second");
  // Requests still holding the old snapshot keep its service.
  EXPECT_EQ(verifiers.For(*initial), initial_service);
}

TEST(ImageVerifiersReloadTest, UnchangedImagesSettingsReuseTheService) {
  TempDir dir;
  const SigningKey key = SigningKey::Generate(KeyKind::kP256);
  WriteText(dir.File("config.yaml"), ConfigYaml(true, true, InlineKeyEntry("release", key.public_pem())));
  signatures::testing::FakeRegistry fake;
  imageverify::ServiceOptions options;
  options.registry = std::make_shared<CountingRegistry>(fake);
  ImageVerifiers verifiers(std::move(options));
  auto first = LoadContextSnapshot({dir.File("config.yaml"), {DataPath("context")}, {}});
  auto second = LoadContextSnapshot({dir.File("config.yaml"), {DataPath("context")}, {}});
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE(verifiers.Prepare(*first).ok());
  ASSERT_TRUE(verifiers.Prepare(*second).ok());
  EXPECT_EQ(verifiers.For(**first), verifiers.For(**second));
  EXPECT_NE(verifiers.For(**first), nullptr);
}

TEST(ImageVerifiersReloadTest, BadKeyAtStartupIsAConfigurationError) {
  TempDir dir;
  WriteText(dir.File("config.yaml"), ConfigYaml(true, true, PathKeyEntry("release", dir.File("nope.pem"))));
  ImageVerifiers verifiers;
  FileContextOptions context_options{dir.File("config.yaml"), {DataPath("context")}, {}};
  context_options.prepare = [&verifiers](const auto& snapshot) { return verifiers.Prepare(snapshot); };
  auto provider = FileContextProvider::Create(std::move(context_options));
  ASSERT_FALSE(provider.ok());
  EXPECT_TRUE(Contains(provider.status().message(), "nope.pem")) << provider.status().message();
  EXPECT_TRUE(Contains(provider.status().message(), "images")) << provider.status().message();
}

TEST(PrometheusImageMetricsTest, ExposesVerificationsCacheLookupsAndRegistryLatency) {
  WebhookMetrics metrics;
  PrometheusImageMetrics sink(metrics.registry());
  sink.OnVerification("verified", std::chrono::milliseconds(3));
  sink.OnVerification("no_signature", std::chrono::milliseconds(2));
  sink.OnCacheLookup(imageverify::CacheKind::kVerdict, imageverify::CacheResult::kHit);
  sink.OnSharedFlight(imageverify::CacheKind::kTag);
  sink.OnRegistryCall("127.0.0.1:5000", "manifest", StatusCode::kOk, std::chrono::milliseconds(1));
  const std::string text = metrics.Serialize();
  EXPECT_TRUE(Contains(text, "pipeguard_imageverify_verifications_total{result=\"verified\"} 1")) << text;
  EXPECT_TRUE(Contains(text, "pipeguard_imageverify_verifications_total{result=\"no_signature\"} 1")) << text;
  EXPECT_TRUE(Contains(text, "pipeguard_imageverify_verification_duration_seconds_count 2")) << text;
  EXPECT_TRUE(Contains(text, "pipeguard_imageverify_cache_lookups_total{cache=\"verdict\",result=\"hit\"} 1")) << text;
  EXPECT_TRUE(Contains(text, "pipeguard_imageverify_cache_lookups_total{cache=\"tag\",result=\"miss\"} 0")) << text;
  EXPECT_TRUE(Contains(text, "pipeguard_imageverify_shared_flights_total{what=\"tag\"} 1")) << text;
  EXPECT_TRUE(Contains(text,
                       "pipeguard_imageverify_registry_request_duration_seconds_count{code=\"ok\",operation="
                       "\"manifest\",registry=\"127.0.0.1:5000\"} 1"))
      << text;
}

TEST(PrometheusImageMetricsTest, RegistryLabelIsBounded) {
  WebhookMetrics metrics;
  PrometheusImageMetrics sink(metrics.registry());
  for (size_t i = 0; i < PrometheusImageMetrics::kMaxRegistryLabels + 5; ++i) {
    sink.OnRegistryCall("host" + std::to_string(i) + ".example.com", "resolve", StatusCode::kUnavailable,
                        std::chrono::milliseconds(1));
  }
  const std::string text = metrics.Serialize();
  EXPECT_TRUE(Contains(text, "registry=\"other\"} 5")) << text;
  EXPECT_FALSE(Contains(text, "host" + std::to_string(PrometheusImageMetrics::kMaxRegistryLabels) + ".example.com"));
}

TEST(PrometheusImageMetricsTest, VerificationsThroughTheWebhookReachTheRegistry) {
  WebhookMetrics metrics;
  signatures::testing::FakeRegistry fake;
  const std::string digest = fake.PutManifest(
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]})", "1.4.2");
  const SigningKey key = SigningKey::Generate(KeyKind::kP256);
  PushLegacySignature(fake, key, digest);
  TempDir dir;
  WriteText(dir.File("config.yaml"), ConfigYaml(true, true, InlineKeyEntry("release", key.public_pem())));
  imageverify::ServiceOptions options;
  options.registry = std::make_shared<CountingRegistry>(fake);
  options.metrics = std::make_shared<PrometheusImageMetrics>(metrics.registry());
  ImageVerifiers verifiers(std::move(options));
  auto snapshot = LoadContextSnapshot({dir.File("config.yaml"), {DataPath("context")}, {}});
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().message();
  ASSERT_TRUE(verifiers.Prepare(*snapshot).ok());
  StaticContext context(*snapshot);
  policy::Engine engine;
  const AdmissionHandler validate = MakeValidatingHandler(engine, context, verifiers, [] { return kNow; });
  auto request = ParseAdmissionReview(MakeReview(ReadJson(DataPath("pods/clean_kpo_pod.json")), "etl", "u").dump());
  ASSERT_TRUE(request.ok());
  EXPECT_TRUE(validate(*request).allowed);
  const std::string text = metrics.Serialize();
  EXPECT_TRUE(Contains(text, "pipeguard_imageverify_verifications_total{result=\"verified\"} 1")) << text;
  EXPECT_TRUE(Contains(text, "pipeguard_imageverify_registry_request_duration_seconds_count")) << text;
}

// --- per-profile trusted keys (spec.images.trustedKeys) ---------------------------------------------------------

// The configuration trusts two keys, payments-ci (signer_) and release (release_); the profile selecting the test
// pod (etl/nightly-sales) lists `trusted_keys`.
class ProfileTrustedKeysWebhookTest : public ImageVerificationWebhookTest {
 protected:
  void StartWithProfileKeys(const std::string& trusted_keys) {
    WriteText(dir_.File("config.yaml"), ConfigYaml(true, true,
                                                   InlineKeyEntry("payments-ci", signer_.public_pem()) +
                                                       InlineKeyEntry("release", release_.public_pem())));
    WriteText(dir_.File("profiles.yaml"), R"(apiVersion: pipeguard.io/v1alpha1
kind: PipelineSecurityProfile
metadata: {name: nightly-sales, namespace: etl}
spec:
  podSelector: {matchLabels: {pipeguard.io/pipeline: nightly-sales}}
  serviceAccount: {name: airflow-worker, automountToken: false}
  images: {trustedKeys: )" + trusted_keys + R"(}
)");
    imageverify::ServiceOptions options;
    options.registry = registry_;
    options.metrics = metrics_;
    verifiers_ = std::make_unique<ImageVerifiers>(std::move(options));
    auto snapshot = LoadContextSnapshot(
        {dir_.File("config.yaml"),
         {DataPath("context/namespaces.yaml"), DataPath("context/serviceaccounts.json"), dir_.File("profiles.yaml")},
         {}});
    ASSERT_TRUE(snapshot.ok()) << snapshot.status().message();
    ASSERT_TRUE(verifiers_->Prepare(*snapshot).ok());
    context_ = std::make_unique<StaticContext>(std::move(snapshot).value());
    validate_ = MakeValidatingHandler(engine_, *context_, *verifiers_, [] { return kNow; });
    mutate_ = MakeMutatingHandler(*context_, *verifiers_, [] { return kNow; });
  }

  SigningKey release_ = SigningKey::Generate(KeyKind::kP256);
};

TEST_F(ProfileTrustedKeysWebhookTest, PodOfAProfileTrustingTheSigningKeyIsAdmittedAndPinned) {
  PushLegacySignature(fake_, signer_, digest_);  // signed by payments-ci
  StartWithProfileKeys("[payments-ci]");
  const AdmissionReply reply = validate_(Request(Pod(), "etl"));
  EXPECT_TRUE(reply.allowed) << reply.message;
  ASSERT_EQ(reply.images.size(), 1u);
  EXPECT_TRUE(reply.images[0].verified);
  EXPECT_EQ(reply.images[0].key_name, "payments-ci");
  const AdmissionReply mutated = mutate_(Request(Pod(), "etl"));
  EXPECT_TRUE(mutated.json_patch.has_value());
}

TEST_F(ProfileTrustedKeysWebhookTest, PodOfAProfileTrustingOnlyAnotherKeyIsDenied) {
  PushLegacySignature(fake_, signer_, digest_);  // signed by payments-ci; the profile trusts only release
  StartWithProfileKeys("[release]");
  const AdmissionReply reply = validate_(Request(Pod(), "etl"));
  EXPECT_FALSE(reply.allowed);
  EXPECT_TRUE(HasRule(reply, "unsigned-image")) << reply.message;
  EXPECT_TRUE(Contains(reply.message, kImage)) << reply.message;
  EXPECT_TRUE(Contains(reply.message, digest_)) << reply.message;
  EXPECT_TRUE(Contains(reply.message, "is not signed by a key profile etl/nightly-sales trusts (trustedKeys: release)"))
      << reply.message;
  ASSERT_EQ(reply.images.size(), 1u);
  EXPECT_FALSE(reply.images[0].verified);
  // /mutate pins only what the pod's own key scope verified.
  const AdmissionReply mutated = mutate_(Request(Pod(), "etl"));
  EXPECT_TRUE(mutated.allowed);
  EXPECT_FALSE(mutated.json_patch.has_value());
}

TEST_F(ProfileTrustedKeysWebhookTest, AProfileNamingAKeyThePlatformDoesNotHaveIsRejected) {
  StartWithProfileKeys("[release]");
  const json profile = {{"apiVersion", "pipeguard.io/v1alpha1"},
                        {"kind", "PipelineSecurityProfile"},
                        {"metadata", {{"name", "team-own"}, {"namespace", "etl"}}},
                        {"spec",
                         {{"podSelector", {{"matchLabels", {{"app", "x"}}}}},
                          {"images", {{"trustedKeys", {"release", "team-own-key"}}}}}}};
  const AdmissionReply reply = validate_(Request(profile, "etl"));
  EXPECT_FALSE(reply.allowed);
  EXPECT_TRUE(HasRule(reply, "profile-guardrail")) << reply.message;
  EXPECT_TRUE(Contains(reply.message, "/spec/images/trustedKeys/1")) << reply.message;
  EXPECT_TRUE(Contains(reply.message, "\"team-own-key\"")) << reply.message;
}

}  // namespace
}  // namespace pipeguard::webhook
