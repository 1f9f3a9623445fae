// ImageVerificationService and `pipeguard verify-image` against the REAL registry (Debian's docker-registry,
// started by scripts/registry/start.sh), images pushed by skopeo and signed by the REAL cosign 2.x (legacy .sig)
// and 3.x (Sigstore bundle) CLIs with keys from `cosign generate-key-pair`; failure paths against the misbehaving
// fake_registry.py (slow) and a closed port (down).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cosign_artifacts.h"
#include "pipeguard/base/time.h"
#include "pipeguard/imageverify/service.h"
#include "pipeguard/policy/config.h"
#include "test_registries.h"

namespace pipeguard::imageverify {
namespace {

using registry::testing::FakeRegistry;
using registry::testing::RealRegistry;
using registry::testing::RunCommand;
using registry::testing::ShellQuote;
using registry::testing::WriteFile;
using signatures::Reason;
using namespace std::chrono_literals;

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

struct BinaryResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs the real `pipeguard` binary with /bin/sh quoting; stdout and stderr captured separately.
BinaryResult RunPipeguard(const std::vector<std::string>& args, const std::string& scratch_dir) {
  std::string command = ShellQuote(PIPEGUARD_CLI_BINARY);
  for (const auto& arg : args) command.append(" ").append(ShellQuote(arg));
  const std::string err_path = scratch_dir + "/stderr.txt";
  command.append(" 2>").append(ShellQuote(err_path));
  BinaryResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.out.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_path);
  std::stringstream text;
  text << err.rdbuf();
  result.err = text.str();
  return result;
}

class RealRegistryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = RealRegistry::Start("");
    ASSERT_TRUE(started.ok()) << started.status().message();
    registry_ = started->release();
    auto good = registry_->Keygen("good");
    ASSERT_TRUE(good.ok()) << good.status().message();
    good_key_ = *good;
    ASSERT_TRUE(registry_->Keygen("other").ok());

    const auto push = [](const std::string& repo_tag, const std::string& seed) {
      auto digest = registry_->Push(repo_tag, seed);
      EXPECT_TRUE(digest.ok()) << digest.status().message();
      return digest.ok() ? *digest : std::string();
    };
    digests_["v2"] = push("team/app:v2", "v2");
    digests_["v3"] = push("team/app:v3", "v3");
    digests_["unsigned"] = push("team/app:unsigned", "unsigned");
    digests_["other"] = push("team/app:other", "other");
    digests_["copied"] = push("team/app:copied", "copied");
    digests_["attested"] = push("team/app:attested", "attested");
    ASSERT_TRUE(registry_->Sign("team/app@" + digests_["v2"], "good", "v2-legacy").ok());
    ASSERT_TRUE(registry_->Sign("team/app@" + digests_["v3"], "good", "v3-bundle").ok());
    ASSERT_TRUE(registry_->Sign("team/app@" + digests_["other"], "other", "v2-legacy").ok());

    // A valid signature of image v2, copied onto image "copied"'s signature tag through the registry API.
    const std::string base = "http://" + registry_->host() + "/v2/team/app/manifests/";
    const std::string sig = registry_->dir() + "/copied-sig.json";
    auto copied =
        RunCommand("curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' " +
                   ShellQuote(base + "sha256-" + digests_["v2"].substr(7) + ".sig") + " -o " + ShellQuote(sig) +
                   " && curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary @" +
                   ShellQuote(sig) + " " + ShellQuote(base + "sha256-" + digests_["copied"].substr(7) + ".sig"));
    ASSERT_TRUE(copied.ok()) << copied.status().message();

    // An in-toto attestation (SLSA provenance) by the trusted key: signed, but not an image signature.
    auto attested =
        RunCommand(ShellQuote(std::string(PIPEGUARD_SOURCE_DIR) + "/tests/imageverify/cosign_attest.sh") + " " +
                   ShellQuote(registry_->dir()) + " " + ShellQuote("team/app@" + digests_["attested"]) + " good >&2");
    ASSERT_TRUE(attested.ok()) << attested.status().message();

    config_path_ = registry_->dir() + "/pipeguard.yaml";
    WriteFile(config_path_, "images:\n  verify: true\n  keys:\n    - name: good\n      path: " + good_key_ +
                                "\n  registries:\n    - host: \"" + registry_->host() +
                                "\"\n      insecure: true\n  deadline: 4s\n");
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(registry_, nullptr); }

  static policy::ImagesConfig Config() {
    policy::ImagesConfig config;
    config.keys = {{"good", good_key_, ""}};
    config.registries = {{registry_->host(), "", true, ""}};
    config.deadline = 4s;
    return config;
  }
  std::unique_ptr<ImageVerificationService> Service(std::shared_ptr<MetricsSink> metrics = nullptr) {
    ServiceOptions options;
    options.metrics = std::move(metrics);
    auto service = ImageVerificationService::Create(Config(), std::move(options));
    EXPECT_TRUE(service.ok()) << service.status().message();
    return service.ok() ? std::move(service).value() : nullptr;
  }
  static std::string Image(const std::string& tag) { return registry_->host() + "/team/app:" + tag; }
  ImageOutcome Verify(const std::string& image) {
    return Service()->Verify(image, std::chrono::steady_clock::now() + 10s);
  }

  static RealRegistry* registry_;
  static std::map<std::string, std::string> digests_;
  static std::string good_key_;
  static std::string config_path_;
};
RealRegistry* RealRegistryTest::registry_ = nullptr;
std::map<std::string, std::string> RealRegistryTest::digests_;
std::string RealRegistryTest::good_key_;
std::string RealRegistryTest::config_path_;

TEST_F(RealRegistryTest, CosignV2LegacySignatureVerifies) {
  const ImageOutcome outcome = Verify(Image("v2"));
  EXPECT_TRUE(outcome.verdict.verified) << outcome.message;
  EXPECT_EQ(outcome.verdict.digest, digests_["v2"]);
  EXPECT_EQ(outcome.format, signatures::SignatureFormat::kSimpleSigning);
  EXPECT_EQ(outcome.key_name, "good");
}

TEST_F(RealRegistryTest, CosignV3BundleVerifies) {
  const ImageOutcome outcome = Verify(Image("v3"));
  EXPECT_TRUE(outcome.verdict.verified) << outcome.message;
  EXPECT_EQ(outcome.verdict.digest, digests_["v3"]);
  EXPECT_EQ(outcome.format, signatures::SignatureFormat::kSigstoreBundle);
}

TEST_F(RealRegistryTest, UnsignedImageIsDeniedNoSignatureFound) {
  const ImageOutcome outcome = Verify(Image("unsigned"));
  EXPECT_FALSE(outcome.verdict.verified);
  EXPECT_EQ(outcome.reason, Reason::kNoSignature);
  EXPECT_TRUE(Contains(outcome.verdict.reason, "no signature found")) << outcome.verdict.reason;
  EXPECT_EQ(outcome.verdict.digest, digests_["unsigned"]);
}

TEST_F(RealRegistryTest, ImageSignedByAnotherKeyIsDenied) {
  const ImageOutcome outcome = Verify(Image("other"));
  EXPECT_FALSE(outcome.verdict.verified);
  EXPECT_EQ(outcome.reason, Reason::kUntrustedKey) << outcome.message;
  EXPECT_TRUE(Contains(outcome.verdict.reason, "not signed by a trusted key")) << outcome.verdict.reason;
}

TEST_F(RealRegistryTest, SignatureOfAnotherDigestIsDenied) {
  const ImageOutcome outcome = Verify(Image("copied"));
  EXPECT_FALSE(outcome.verdict.verified);
  EXPECT_EQ(outcome.reason, Reason::kDigestMismatch) << outcome.message;
  EXPECT_TRUE(Contains(outcome.verdict.reason, "signature for a different digest")) << outcome.verdict.reason;
}

TEST_F(RealRegistryTest, AttestationIsNotAnImageSignature) {
  const ImageOutcome outcome = Verify(Image("attested"));
  EXPECT_FALSE(outcome.verdict.verified);
  EXPECT_EQ(outcome.reason, Reason::kNotAnImageSignature) << outcome.message;
  EXPECT_TRUE(Contains(outcome.verdict.reason, "not an image signature")) << outcome.verdict.reason;
}

TEST_F(RealRegistryTest, OneRequestWithManyImagesAndTheCacheAfterIt) {
  auto metrics = std::make_shared<CountingMetricsSink>();
  auto service = Service(metrics);
  const std::vector<std::string> images = {Image("v2"), Image("v3"), Image("unsigned"), Image("v2"),
                                           registry_->host() + "/team/app@" + digests_["v2"]};
  const ImageVerdicts first = service->VerifyAll(images, std::chrono::steady_clock::now() + 10s);
  ASSERT_EQ(first.size(), 4u);
  EXPECT_TRUE(first.at(Image("v2")).verified);
  EXPECT_TRUE(first.at(Image("v3")).verified);
  EXPECT_FALSE(first.at(Image("unsigned")).verified);
  EXPECT_TRUE(first.at(registry_->host() + "/team/app@" + digests_["v2"]).verified);
  EXPECT_EQ(metrics->verifications(), 3);  // v2 (by tag and by digest: once), v3, unsigned
  const int registry_calls = metrics->registry_calls();
  const ImageVerdicts second = service->VerifyAll(images, std::chrono::steady_clock::now() + 10s);
  EXPECT_EQ(metrics->registry_calls(), registry_calls) << "the second admission must be served from the caches";
  EXPECT_EQ(second.at(Image("v3")).digest, digests_["v3"]);
}

TEST_F(RealRegistryTest, VerifyImageBinaryExitCodes) {
  const std::string scratch = registry_->dir();
  const BinaryResult ok = RunPipeguard({"verify-image", "--config", config_path_, Image("v3")}, scratch);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_TRUE(Contains(ok.out, "digest:   " + digests_["v3"])) << ok.out;
  EXPECT_TRUE(Contains(ok.out, "key:      good")) << ok.out;
  EXPECT_TRUE(Contains(ok.out, "format:   sigstore bundle")) << ok.out;

  // --key replaces the configured keys.
  const BinaryResult by_key = RunPipeguard(
      {"verify-image", "--config", config_path_, "--key", registry_->dir() + "/keys/other.pub", Image("other")},
      scratch);
  EXPECT_EQ(by_key.exit_code, 0) << by_key.err;
  const BinaryResult wrong_key = RunPipeguard(
      {"verify-image", "--config", config_path_, "--key", registry_->dir() + "/keys/other.pub", Image("v2")}, scratch);
  EXPECT_EQ(wrong_key.exit_code, 1);

  const BinaryResult denied = RunPipeguard({"verify-image", "--config", config_path_, Image("unsigned")}, scratch);
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_TRUE(denied.out.empty()) << denied.out;
  EXPECT_TRUE(Contains(denied.err, "no signature found")) << denied.err;
  EXPECT_TRUE(Contains(denied.err, digests_["unsigned"])) << denied.err;

  const BinaryResult malformed = RunPipeguard({"verify-image", "--config", config_path_, "Bad Image!"}, scratch);
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_TRUE(Contains(malformed.err, "malformed image reference")) << malformed.err;

  const BinaryResult unreadable_key = RunPipeguard(
      {"verify-image", "--config", config_path_, "--key", "/nonexistent/cosign.pub", Image("v2")}, scratch);
  EXPECT_EQ(unreadable_key.exit_code, 2);
  EXPECT_TRUE(Contains(unreadable_key.err, "/nonexistent/cosign.pub")) << unreadable_key.err;

  const std::string bad_config = registry_->dir() + "/bad.yaml";
  WriteFile(bad_config, "images:\n  verfiy: true\n");
  const BinaryResult bad = RunPipeguard({"verify-image", "--config", bad_config, Image("v2")}, scratch);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(Contains(bad.err, "verfiy")) << bad.err;

  EXPECT_EQ(RunPipeguard({"verify-image", "--config", config_path_}, scratch).exit_code, 2);  // no image
  EXPECT_EQ(RunPipeguard({"verify-image", "--bogus", Image("v2")}, scratch).exit_code, 2);
  const BinaryResult no_keys = RunPipeguard({"verify-image", Image("v2")}, scratch);
  EXPECT_EQ(no_keys.exit_code, 2);
  EXPECT_TRUE(Contains(no_keys.err, "no trusted keys")) << no_keys.err;
}

TEST_F(RealRegistryTest, ScanWithImagesVerifyUsesTheRegistry) {
  const std::string pod = registry_->dir() + "/pod.yaml";
  WriteFile(pod,
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: etl\n  namespace: pipelines\n  labels:\n"
            "    pipeguard.io/pipeline: etl\nspec:\n  containers:\n    - name: signed\n      image: " +
                Image("v3") + "\n    - name: unsigned\n      image: " + Image("unsigned") + "\n");
  const BinaryResult scan = RunPipeguard({"scan", "--config", config_path_, "-o", "json", pod}, registry_->dir());
  EXPECT_EQ(scan.exit_code, 1) << scan.err;
  const auto report = nlohmann::json::parse(scan.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << scan.out;
  std::vector<std::string> unsigned_paths;
  for (const auto& violation : report["results"][0]["violations"]) {
    if (violation["rule"] == "unsigned-image") {
      unsigned_paths.push_back(violation["path"]);
      EXPECT_TRUE(Contains(violation["message"].get<std::string>(), "no signature found")) << violation.dump();
      EXPECT_TRUE(Contains(violation["message"].get<std::string>(), digests_["unsigned"])) << violation.dump();
    }
  }
  EXPECT_EQ(unsigned_paths, std::vector<std::string>{"/spec/containers/1/image"});
  EXPECT_FALSE(Contains(scan.err, "cannot check signatures offline")) << scan.err;
}

// --- registry down, registry slow ------------------------------------------------------------------------------

policy::ImagesConfig FailureConfig(const std::string& host, std::chrono::milliseconds deadline) {
  policy::ImagesConfig config;
  config.keys = {
      {"release", "", signatures::testing::SigningKey::Generate(signatures::testing::KeyKind::kP256).public_pem()}};
  config.registries = {{host, "", true, ""}};
  config.deadline = deadline;
  return config;
}

TEST(RegistryFailureTest, RegistryDownFailsClosedUnreachable) {
  std::string host;
  {
    auto fake = FakeRegistry::Start("");
    ASSERT_TRUE(fake.ok()) << fake.status().message();
    host = (*fake)->host();
  }  // stopped: nothing listens on the port any more
  auto service = ImageVerificationService::Create(FailureConfig(host, 4s));
  ASSERT_TRUE(service.ok()) << service.status().message();
  const ImageOutcome outcome = (*service)->Verify(host + "/team/app:v1", std::chrono::steady_clock::now() + 10s);
  EXPECT_FALSE(outcome.verdict.verified);
  EXPECT_EQ(outcome.reason, Reason::kRegistryUnreachable) << outcome.message;
  EXPECT_TRUE(Contains(outcome.verdict.reason, "registry unreachable")) << outcome.verdict.reason;
}

TEST(RegistryFailureTest, RegistrySlowerThanTheDeadlineTimesOut) {
  auto fake = FakeRegistry::Start("");  // answers slow/... after 3 s
  ASSERT_TRUE(fake.ok()) << fake.status().message();
  const std::string digest = (*fake)->AddBlob(R"({"schemaVersion":2,"layers":[]})");
  (*fake)->Tag("v1", digest);
  auto metrics = std::make_shared<CountingMetricsSink>();
  ServiceOptions options;
  options.metrics = metrics;
  auto service = ImageVerificationService::Create(FailureConfig((*fake)->host(), 1s), options);
  ASSERT_TRUE(service.ok()) << service.status().message();
  for (const std::string& image :
       std::vector<std::string>{(*fake)->host() + "/slow/app:v1", (*fake)->host() + "/slow/app@" + digest}) {
    // The server answers after 3 s; without the 1 s deadline in the registry calls the answer would arrive.
    const ImageOutcome outcome = (*service)->Verify(image, std::chrono::steady_clock::now() + 10s);
    EXPECT_FALSE(outcome.verdict.verified);
    EXPECT_EQ(outcome.reason, Reason::kTimedOut) << outcome.message;
    EXPECT_TRUE(Contains(outcome.verdict.reason, "timed out after 1s")) << outcome.verdict.reason;
  }
  EXPECT_EQ(metrics->verifications("timed_out"), 1);  // the by-digest image; the tag never resolved
}

// --- TLS with the test CA and token auth -----------------------------------------------------------------------

TEST(TokenRegistryTest, TlsAndTokenAuthWithTheTestCaAndCredentialsFile) {
  auto started = RealRegistry::Start("--tls --token-auth");
  ASSERT_TRUE(started.ok()) << started.status().message();
  auto& registry = **started;
  auto digest = registry.Push("private/job:v1", "job-1");
  ASSERT_TRUE(digest.ok()) << digest.status().message();
  auto key = registry.Keygen("good");
  ASSERT_TRUE(key.ok()) << key.status().message();
  ASSERT_TRUE(registry.Sign("private/job@" + *digest, "good", "v3-bundle").ok());

  policy::ImagesConfig config;
  config.keys = {{"good", *key, ""}};
  config.registries = {{registry.host(), registry.env("CA_CERT"), false, registry.env("CREDENTIALS_FILE")}};
  auto service = ImageVerificationService::Create(config);
  ASSERT_TRUE(service.ok()) << service.status().message();
  const ImageOutcome outcome =
      (*service)->Verify(registry.host() + "/private/job:v1", std::chrono::steady_clock::now() + 10s);
  EXPECT_TRUE(outcome.verdict.verified) << outcome.message;
  EXPECT_EQ(outcome.verdict.digest, *digest);

  // Without credentials the registry refuses: fail closed with the reason, nothing cached.
  config.registries[0].credentials_file.clear();
  auto anonymous = ImageVerificationService::Create(config);
  ASSERT_TRUE(anonymous.ok()) << anonymous.status().message();
  const ImageOutcome denied =
      (*anonymous)->Verify(registry.host() + "/private/job:v1", std::chrono::steady_clock::now() + 10s);
  EXPECT_FALSE(denied.verdict.verified);
  EXPECT_EQ(denied.reason, Reason::kRegistryDenied) << denied.message;
}

// --- attestations made by the real cosign ---------------------------------------------------------------------
// Images signed by the real cosign and attested with `cosign attest --key` (2.x legacy `.att` and 3.x Sigstore
// bundle referrers), predicates written to cosign's documented vuln schema (as templates/release/
// grype-to-vuln-predicate.jq makes them), a CycloneDX SBOM and a SLSA v1 provenance; `pipeguard verify-image` with
// images.attestations admits only the image whose fresh scan passes.

std::string Rfc3339Utc(std::chrono::system_clock::time_point at) {
  return pipeguard::base::FormatTimestamp(std::chrono::system_clock::to_time_t(at));
}

class RealAttestationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = RealRegistry::Start("");
    ASSERT_TRUE(started.ok()) << started.status().message();
    registry_ = started->release();
    auto good = registry_->Keygen("good");
    ASSERT_TRUE(good.ok()) << good.status().message();
    ASSERT_TRUE(registry_->Keygen("other").ok());
    const std::string dir = registry_->dir();
    const auto now = std::chrono::system_clock::now();
    const auto vuln = [&](std::chrono::system_clock::time_point finished, const std::string& severity) {
      nlohmann::json matches = nlohmann::json::array();
      if (!severity.empty()) {
        matches.push_back(
            {{"vulnerability", {{"id", "CVE-2026-31337"}, {"severity", severity}, {"fix", {{"versions", {"1.2.4"}}}}}},
             {"artifact", {{"name", "openssl"}, {"version", "3.0.1"}}}});
      }
      return nlohmann::json{
          {"invocation", {{"parameters", nlohmann::json::array()}, {"uri", ""}, {"event_id", ""}, {"builder.id", ""}}},
          {"scanner",
           {{"uri", "https://github.com/anchore/grype"},
            {"version", "0.74.0"},
            {"db", {{"uri", ""}, {"version", "5"}}},
            {"result", {{"matches", matches}}}}},
          {"metadata",
           {{"scanStartedOn", Rfc3339Utc(finished - std::chrono::minutes(1))},
            {"scanFinishedOn", Rfc3339Utc(finished)}}}}
          .dump();
    };
    WriteFile(dir + "/vuln-fresh.json", vuln(now - std::chrono::minutes(10), "Low"));
    WriteFile(dir + "/vuln-critical.json", vuln(now - std::chrono::minutes(10), "Critical"));
    WriteFile(dir + "/vuln-stale.json", vuln(now - std::chrono::hours(72), ""));
    WriteFile(
        dir + "/sbom.json",
        R"({"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[{"type":"library","name":"openssl","version":"3.0.1"}]})");
    WriteFile(dir + "/provenance.json",
              R"({"buildDefinition":{"buildType":"https://actions.github.io/buildtypes/workflow/v1",)"
              R"("externalParameters":{"workflow":{"repository":"https://github.com/acme/pipelines",)"
              R"("ref":"refs/tags/v1.2.0","path":".github/workflows/release.yml"}}},)"
              R"("runDetails":{"builder":{"id":"https://github.com/actions/runner/github-hosted"}}})");

    config_path_ = dir + "/attest.yaml";
    WriteFile(config_path_, "images:\n  keys:\n    - name: good\n      path: " + *good +
                                "\n  registries:\n    - host: \"" + registry_->host() +
                                "\"\n      insecure: true\n  deadline: 10s\n"
                                "  attestations:\n"
                                "    provenance:\n"
                                "      builderIds: [https://github.com/actions/runner/github-hosted]\n"
                                "      sourceRepository: https://github.com/acme/pipelines\n"
                                "      sourceRef: {regexp: 'refs/tags/v[0-9.]+'}\n"
                                "    vulnerabilities:\n"
                                "      scanners: [https://github.com/anchore/grype]\n"
                                "      maxAgeHours: 24\n"
                                "      failAt: high\n"
                                "    sbom: true\n");
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(registry_, nullptr); }

  // Pushes, signs and attests the image VARIANT-FORMAT on first use (each ctest entry runs one test in its own
  // process: only what that test needs is made); returns "host/team/app:VARIANT-FORMAT".
  static std::string Prepare(const std::string& name) {
    if (digests_.count(name)) return registry_->host() + "/team/app:" + name;
    const std::string dir = registry_->dir();
    const std::string variant = name.substr(0, name.find('-'));
    const std::string format = name.substr(name.find('-') + 1);
    const auto attest = [&](const std::string& digest, const std::string& key, const std::string& type,
                            const std::string& predicate) {
      auto out =
          RunCommand(ShellQuote(std::string(PIPEGUARD_SOURCE_DIR) + "/scripts/registry/artifacts.sh") + " attest " +
                     ShellQuote(dir) + " " + ShellQuote("team/app@" + digest) + " " + ShellQuote(key) + " " + format +
                     " " + type + " " + ShellQuote(dir + "/" + predicate) + " >&2");
      EXPECT_TRUE(out.ok()) << out.status().message();
    };
    auto digest = registry_->Push("team/app:" + name, name);
    EXPECT_TRUE(digest.ok()) << digest.status().message();
    if (!digest.ok()) return "";
    digests_[name] = *digest;
    EXPECT_TRUE(registry_->Sign("team/app@" + *digest, "good", format).ok());
    attest(*digest, "good", "cyclonedx", "sbom.json");
    attest(*digest, "good", "slsaprovenance1", "provenance.json");
    if (variant == "good") attest(*digest, "good", "vuln", "vuln-fresh.json");
    if (variant == "critical") attest(*digest, "good", "vuln", "vuln-critical.json");
    if (variant == "stale") attest(*digest, "good", "vuln", "vuln-stale.json");
    if (variant == "untrusted") attest(*digest, "other", "vuln", "vuln-fresh.json");
    return registry_->host() + "/team/app:" + name;
  }

  static BinaryResult VerifyImage(const std::string& name) {
    return RunPipeguard({"verify-image", "--config", config_path_, Prepare(name)}, registry_->dir());
  }

  static RealRegistry* registry_;
  static std::map<std::string, std::string> digests_;
  static std::string config_path_;
};
RealRegistry* RealAttestationTest::registry_ = nullptr;
std::map<std::string, std::string> RealAttestationTest::digests_;
std::string RealAttestationTest::config_path_;

class RealAttestationFormatTest : public RealAttestationTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(RealAttestationFormatTest, FreshPassingScanWithSbomAndProvenanceIsAdmitted) {
  const BinaryResult result = VerifyImage("good-" + GetParam());
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(Contains(result.out, "attest:   attestations satisfy the requirements")) << result.out;
  EXPECT_TRUE(Contains(result.out, "https://cosign.sigstore.dev/attestation/vuln/v1")) << result.out;
  EXPECT_TRUE(Contains(result.out, "https://cyclonedx.org/bom")) << result.out;
  EXPECT_TRUE(Contains(result.out, "https://slsa.dev/provenance/v1")) << result.out;
}

TEST_P(RealAttestationFormatTest, NoVulnerabilityAttestationIsDenied) {
  const BinaryResult result = VerifyImage("novuln-" + GetParam());
  EXPECT_EQ(result.exit_code, 1) << result.out;
  EXPECT_TRUE(Contains(result.err,
                       "attestations not satisfied: vulnerability scan: no attestation of type "
                       "https://cosign.sigstore.dev/attestation/vuln/v1"))
      << result.err;
  EXPECT_TRUE(Contains(result.err, digests_["novuln-" + GetParam()])) << result.err;
}

TEST_P(RealAttestationFormatTest, CriticalFindingIsDenied) {
  const BinaryResult result = VerifyImage("critical-" + GetParam());
  EXPECT_EQ(result.exit_code, 1) << result.out;
  EXPECT_TRUE(Contains(result.err, "vulnerability scan: 1 finding at or above high: CVE-2026-31337")) << result.err;
}

TEST_P(RealAttestationFormatTest, StaleScanIsDenied) {
  const BinaryResult result = VerifyImage("stale-" + GetParam());
  EXPECT_EQ(result.exit_code, 1) << result.out;
  EXPECT_TRUE(Contains(result.err, "vulnerability scan: the newest scan finished")) << result.err;
  EXPECT_TRUE(Contains(result.err, "(at most 24 h); scan the image again")) << result.err;
}

TEST_P(RealAttestationFormatTest, AttestationByAnUntrustedKeyIsDenied) {
  const BinaryResult result = VerifyImage("untrusted-" + GetParam());
  EXPECT_EQ(result.exit_code, 1) << result.out;
  EXPECT_TRUE(Contains(result.err, "vulnerability scan: no attestation of type")) << result.err;
  EXPECT_TRUE(Contains(result.err, "not signed by a trusted key")) << result.err;
}

TEST_P(RealAttestationFormatTest, TheServiceCachesTheVerdictWithItsAttestations) {
  std::ifstream file(config_path_);
  std::stringstream text;
  text << file.rdbuf();
  auto config = policy::ParseConfig(text.str(), config_path_);
  ASSERT_TRUE(config.ok()) << config.status().message();
  auto service = ImageVerificationService::Create(config->images);
  ASSERT_TRUE(service.ok()) << service.status().message();
  const std::string image = Prepare("good-" + GetParam());
  const ImageOutcome first = (*service)->Verify(image, std::chrono::steady_clock::now() + 10s);
  EXPECT_TRUE(first.verdict.verified) << first.message;
  const ImageOutcome second = (*service)->Verify(image, std::chrono::steady_clock::now() + 10s);
  EXPECT_EQ(second.source, VerdictSource::kCache);
  EXPECT_EQ(second.attestations, first.attestations);
}

TEST_P(RealAttestationFormatTest, VerifyImageWithAProfileHonoursItsSignersAndAttestations) {
  const std::string image = Prepare("good-" + GetParam());
  const std::string profile = registry_->dir() + "/profile-" + GetParam() + ".yaml";
  const auto write_profile = [&](const std::string& images) {
    WriteFile(profile,
              "apiVersion: pipeguard.io/v1alpha1\nkind: PipelineSecurityProfile\nmetadata: {name: payments, "
              "namespace: etl}\nspec:\n  podSelector: {matchLabels: {pipeguard.io/pipeline: payments}}\n"
              "  serviceAccount: {name: payments-etl}\n  images:\n" +
                  images);
  };
  // The profile's own requirement: provenance from main, which this image (built from a tag) does not have.
  write_profile("    trustedKeys: [good]\n    attestations:\n      provenance: {sourceRef: refs/heads/main}\n");
  const BinaryResult denied =
      RunPipeguard({"verify-image", "--config", config_path_, "--profile", profile, image}, registry_->dir());
  EXPECT_EQ(denied.exit_code, 1) << denied.out;
  EXPECT_TRUE(Contains(denied.err,
                       "attestations not satisfied: profile etl/payments: provenance: source ref "
                       "\"refs/tags/v1.2.0\" is not \"refs/heads/main\""))
      << denied.err;

  // A profile trusting another key: the image's signature (and attestations) by "good" do not count.
  write_profile("    trustedKeys: [other]\n");
  const BinaryResult other =
      RunPipeguard({"verify-image", "--config", config_path_, "--profile", profile, image}, registry_->dir());
  EXPECT_EQ(other.exit_code, 1) << other.out;
  EXPECT_TRUE(Contains(other.err, "not signed by a trusted key")) << other.err;

  write_profile("    trustedKeys: [good]\n    attestations:\n      vulnerabilities: {maxAgeHours: 1, failAt: low}\n");
  const BinaryResult strict =
      RunPipeguard({"verify-image", "--config", config_path_, "--profile", profile, image}, registry_->dir());
  EXPECT_EQ(strict.exit_code, 1) << strict.out;  // the Low finding fails a profile that fails at low
  EXPECT_TRUE(Contains(strict.err, "profile etl/payments: vulnerability scan: 1 finding at or above low"))
      << strict.err;

  write_profile("    trustedKeys: [good]\n    attestations:\n      vulnerabilities: {maxAgeHours: 1}\n");
  const BinaryResult admitted =
      RunPipeguard({"verify-image", "--config", config_path_, "--profile", profile, image}, registry_->dir());
  EXPECT_EQ(admitted.exit_code, 0) << admitted.err;
  EXPECT_TRUE(Contains(admitted.out, "profile etl/payments: vulnerability scan")) << admitted.out;
}

TEST_P(RealAttestationFormatTest, ScanHonoursTheSelectingProfilesAttestations) {
  const std::string image = Prepare("good-" + GetParam());
  const std::string file = registry_->dir() + "/scan-" + GetParam() + ".yaml";
  WriteFile(file,
            "apiVersion: pipeguard.io/v1alpha1\nkind: PipelineSecurityProfile\nmetadata: {name: payments, namespace: "
            "etl}\nspec:\n  podSelector: {matchLabels: {pipeguard.io/pipeline: payments}}\n  serviceAccount: {name: "
            "payments-etl}\n  images:\n    attestations:\n      provenance: {sourceRef: refs/heads/main}\n---\n"
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: etl\n  namespace: etl\n  labels: {pipeguard.io/pipeline: "
            "payments}\nspec:\n  serviceAccountName: payments-etl\n  automountServiceAccountToken: false\n"
            "  containers:\n    - name: main\n      image: " +
                image + "\n");
  const BinaryResult scan = RunPipeguard({"scan", "--config", config_path_, "-o", "json", file}, registry_->dir());
  const auto report = nlohmann::json::parse(scan.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << scan.out << scan.err;
  std::vector<std::string> messages;
  for (const auto& result : report["results"]) {
    for (const auto& violation : result["violations"]) {
      if (violation["rule"] == "unsigned-image") messages.push_back(violation["message"].get<std::string>());
    }
  }
  ASSERT_EQ(messages.size(), 1u) << scan.out;
  EXPECT_TRUE(Contains(messages[0],
                       "is signed, but its attestations do not meet the requirements: attestations not "
                       "satisfied: profile etl/payments: provenance: source ref"))
      << messages[0];
  EXPECT_EQ(scan.exit_code, 1) << scan.err;
}

INSTANTIATE_TEST_SUITE_P(CosignFormats, RealAttestationFormatTest, ::testing::Values("v2-legacy", "v3-bundle"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param == "v2-legacy" ? std::string("V2Legacy") : std::string("V3Bundle");
                         });

}  // namespace
}  // namespace pipeguard::imageverify
