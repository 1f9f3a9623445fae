// End to end: the real pipeguard-webhook binary against the REAL registry (Debian's docker-registry started by
// scripts/registry/start.sh), an image pushed by skopeo and signed by the real cosign 3.x CLI (Sigstore bundle),
// and an unsigned image: /validate allows the signed one and denies the unsigned one; /mutate pins the signed tag.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "test_registries.h"
#include "test_support.h"
#include "tls_test_client.h"

extern char** environ;

namespace pipeguard::webhook {
namespace {

using nlohmann::json;
using registry::testing::RealRegistry;
using testing::BuildRequest;
using testing::DataPath;
using testing::MakeReview;
using testing::ReadJson;
using testing::ReadText;
using testing::TempDir;

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string WebhookBinary() {
  if (const char* override_path = std::getenv("PIPEGUARD_WEBHOOK_BINARY")) return override_path;
  const auto self = std::filesystem::read_symlink("/proc/self/exe");
  return (self.parent_path().parent_path() / "webhook" / "pipeguard-webhook").string();
}

std::string Base64Decode(const std::string& text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return "";
  size_t size = static_cast<size_t>(n);
  for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) --size;
  out.resize(size);
  return out;
}

// The webhook as a child process with stdout and stderr in files; killed on destruction.
class WebhookProcess {
 public:
  WebhookProcess(const std::vector<std::string>& args, const TempDir& dir) : dir_(dir) {
    std::vector<std::string> storage = {WebhookBinary()};
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, dir.File("stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, dir.File("stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    spawned_ = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) == 0;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~WebhookProcess() {
    if (spawned_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool spawned() const { return spawned_; }
  std::string Stdout() const { return Read("stdout"); }
  std::string Stderr() const { return Read("stderr"); }

 private:
  std::string Read(const std::string& name) const {
    try {
      return ReadText(dir_.File(name));
    } catch (...) {
      return "";
    }
  }
  const TempDir& dir_;
  pid_t pid_ = -1;
  bool spawned_ = false;
};

TEST(WebhookRealRegistryTest, SignedImageIsAllowedAndPinnedUnsignedIsDenied) {
  ASSERT_TRUE(std::filesystem::exists(WebhookBinary())) << WebhookBinary() << " not found";
  auto started = RealRegistry::Start("");
  ASSERT_TRUE(started.ok()) << started.status().message();
  RealRegistry& registry = **started;
  auto key = registry.Keygen("good");
  ASSERT_TRUE(key.ok()) << key.status().message();
  auto signed_digest = registry.Push("team/app:v3", "v3");
  ASSERT_TRUE(signed_digest.ok()) << signed_digest.status().message();
  auto unsigned_digest = registry.Push("team/app:unsigned", "unsigned");
  ASSERT_TRUE(unsigned_digest.ok()) << unsigned_digest.status().message();
  const Status signed_status = registry.Sign("team/app@" + *signed_digest, "good", "v3-bundle");
  ASSERT_TRUE(signed_status.ok()) << signed_status.message();

  TempDir dir;
  testing::WritePair(dir.path(), 1);
  testing::WriteText(dir.File("config.yaml"),
                     "mode: enforce\nimages:\n  verify: true\n  pinDigests: true\n"
                     "  deadline: 4s\n  allowedRegistries:\n    - \"" +
                         registry.host() + "/\"\n  keys:\n    - name: good\n      path: " + *key +
                         "\n  registries:\n    - host: \"" + registry.host() + "\"\n      insecure: true\n");
  WebhookProcess webhook(
      {"--config", dir.File("config.yaml"), "--context", DataPath("context"), "--tls-cert", dir.File("cert.pem"),
       "--tls-key", dir.File("key.pem"), "--listen", "127.0.0.1:0", "--port-file", dir.File("port")},
      dir);
  ASSERT_TRUE(webhook.spawned());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!std::filesystem::exists(dir.File("port")) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(std::filesystem::exists(dir.File("port"))) << webhook.Stderr();
  const int port = std::stoi(ReadText(dir.File("port")));

  std::string error;
  auto connection = testing::TlsTestConnection::Connect(port, &error);
  ASSERT_NE(connection, nullptr) << error;
  json pod = ReadJson(DataPath("pods/clean_kpo_pod.json"));
  const std::string signed_image = registry.host() + "/team/app:v3";
  pod["spec"]["containers"][0]["image"] = signed_image;

  // /mutate first, with nothing cached, as the API server calls it (mutating webhooks run before validating
  // ones): the review must leave its event loop for the handler pool to reach the registry, and still pin.
  auto mutated = connection->RoundTrip(BuildRequest("POST", "/mutate", MakeReview(pod, "etl", "e2e-2").dump()));
  ASSERT_TRUE(mutated);
  const json mutated_review = json::parse(mutated->body);
  EXPECT_EQ(mutated_review["response"]["allowed"], true);
  ASSERT_EQ(mutated_review["response"]["patchType"], "JSONPatch") << mutated->body;
  const json patched = pod.patch(json::parse(Base64Decode(mutated_review["response"]["patch"].get<std::string>())));
  EXPECT_EQ(patched["spec"]["containers"][0]["image"], registry.host() + "/team/app@" + *signed_digest);

  auto validated = connection->RoundTrip(BuildRequest("POST", "/validate", MakeReview(pod, "etl", "e2e-1").dump()));
  ASSERT_TRUE(validated);
  const json validated_review = json::parse(validated->body);
  EXPECT_EQ(validated_review["response"]["allowed"], true) << validated->body << webhook.Stderr();

  pod["spec"]["containers"][0]["image"] = registry.host() + "/team/app:unsigned";
  auto denied = connection->RoundTrip(BuildRequest("POST", "/validate", MakeReview(pod, "etl", "e2e-3").dump()));
  ASSERT_TRUE(denied);
  const json denied_review = json::parse(denied->body);
  EXPECT_EQ(denied_review["response"]["allowed"], false);
  const std::string message = denied_review["response"]["status"]["message"];
  EXPECT_TRUE(Contains(message, "unsigned-image")) << message;
  EXPECT_TRUE(Contains(message, *unsigned_digest)) << message;

  // The audit lines on stdout carry the verification outcome; stderr holds JSON log lines only.
  auto metrics = connection->RoundTrip(BuildRequest("GET", "/metrics", "", ""));
  ASSERT_TRUE(metrics);
  EXPECT_TRUE(Contains(metrics->body, "pipeguard_imageverify_verifications_total{result=\"verified\"} 1"))
      << metrics->body;
  std::istringstream out(webhook.Stdout());
  int audit_with_images = 0;
  for (std::string line; std::getline(out, line);) {
    const json entry = json::parse(line, nullptr, false);
    ASSERT_FALSE(entry.is_discarded()) << line;
    if (entry.contains("images")) ++audit_with_images;
  }
  EXPECT_EQ(audit_with_images, 3) << webhook.Stdout();
  std::istringstream err(webhook.Stderr());
  for (std::string line; std::getline(err, line);) {
    EXPECT_FALSE(json::parse(line, nullptr, false).is_discarded()) << line;
  }
}

}  // namespace
}  // namespace pipeguard::webhook
