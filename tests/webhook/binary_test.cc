// The pipeguard-webhook executable as a subprocess: flags and exit codes, the port file, audit lines on stdout,
// JSON logs on stderr, and draining on SIGTERM.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "test_support.h"
#include "tls_test_client.h"

extern char** environ;

namespace pipeguard::webhook {
namespace {

using nlohmann::json;
using testing::BuildRequest;
using testing::DataPath;
using testing::MakeReview;
using testing::ReadJson;
using testing::ReadText;
using testing::TempDir;

// The executable sits next to the test binary's directory: <build>/tests/webhook_test, <build>/webhook/...
std::string WebhookBinary() {
  if (const char* override_path = std::getenv("PIPEGUARD_WEBHOOK_BINARY")) return override_path;
  const auto self = std::filesystem::read_symlink("/proc/self/exe");
  return (self.parent_path().parent_path() / "webhook" / "pipeguard-webhook").string();
}

class Process {
 public:
  Process(const std::vector<std::string>& args, const TempDir& dir)
      : stdout_path_(dir.File("stdout")), stderr_path_(dir.File("stderr")) {
    std::vector<std::string> argv_storage = {WebhookBinary()};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, stdout_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    spawned_ = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) == 0;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Process() {
    if (spawned_ && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool spawned() const { return spawned_; }
  void Signal(int sig) { ::kill(pid_, sig); }
  // Exit code, or -1 if the process did not exit within `limit` (or died from a signal).
  int Wait(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }
  std::string Stdout() const { return Read(stdout_path_); }
  std::string Stderr() const { return Read(stderr_path_); }

 private:
  static std::string Read(const std::string& path) {
    try {
      return ReadText(path);
    } catch (...) {
      return "";
    }
  }
  std::string stdout_path_, stderr_path_;
  pid_t pid_ = -1;
  bool spawned_ = false;
  bool exited_ = false;
};

// Polls `condition` every 20 ms for up to `limit`.
bool WaitFor(const std::function<bool()>& condition, std::chrono::seconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

class WebhookBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(WebhookBinary()))
        << WebhookBinary() << " not found: build the pipeguard-webhook target first (or set PIPEGUARD_WEBHOOK_BINARY)";
  }
  // The test configuration and context, a fresh certificate, a free loopback port written to dir_/port.
  std::vector<std::string> ServingArgs() {
    testing::WritePair(dir_.path(), 1);
    return {"--config",   DataPath("config.yaml"), "--context",   DataPath("context"),
            "--tls-cert", dir_.File("cert.pem"),   "--tls-key",   dir_.File("key.pem"),
            "--listen",   "127.0.0.1:0",           "--port-file", dir_.File("port")};
  }
  // The port `webhook` listens on once it wrote its port file; 0 (with a test failure) when it did not.
  int WaitForPort(Process& webhook) {
    EXPECT_TRUE(webhook.spawned());
    if (!WaitFor([&] { return std::filesystem::exists(dir_.File("port")); })) {
      ADD_FAILURE() << "no port file: " << webhook.Stderr();
      return 0;
    }
    return std::stoi(ReadText(dir_.File("port")));
  }

  TempDir dir_;
};

TEST_F(WebhookBinaryTest, UsageErrorsExitTwoWithAMessage) {
  Process missing_tls({"--listen", "127.0.0.1:0"}, dir_);
  ASSERT_TRUE(missing_tls.spawned());
  EXPECT_EQ(missing_tls.Wait(std::chrono::seconds(20)), 2);
  EXPECT_NE(missing_tls.Stderr().find("--tls-cert and --tls-key are required"), std::string::npos);
  EXPECT_NE(missing_tls.Stderr().find("Usage: pipeguard-webhook"), std::string::npos);

  Process unknown({"--tls-cert", "c", "--tls-key", "k", "--verbose"}, dir_);
  EXPECT_EQ(unknown.Wait(std::chrono::seconds(20)), 2);
  EXPECT_NE(unknown.Stderr().find("unknown flag --verbose"), std::string::npos);

  Process help({"--help"}, dir_);
  EXPECT_EQ(help.Wait(std::chrono::seconds(20)), 0);
  EXPECT_NE(help.Stdout().find("--max-body-bytes"), std::string::npos);
}

TEST_F(WebhookBinaryTest, BadInputFilesExitTwoNamingTheFile) {
  testing::WritePair(dir_.path(), 1);
  testing::WriteText(dir_.File("config.yaml"), "mode: sometimes\n");
  Process bad_config({"--tls-cert", dir_.File("cert.pem"), "--tls-key", dir_.File("key.pem"), "--config",
                      dir_.File("config.yaml"), "--listen", "127.0.0.1:0"},
                     dir_);
  EXPECT_EQ(bad_config.Wait(std::chrono::seconds(20)), 2);
  EXPECT_NE(bad_config.Stderr().find("config.yaml"), std::string::npos) << bad_config.Stderr();

  Process bad_cert({"--tls-cert", dir_.File("config.yaml"), "--tls-key", dir_.File("key.pem")}, dir_);
  EXPECT_EQ(bad_cert.Wait(std::chrono::seconds(20)), 2);
  EXPECT_NE(bad_cert.Stderr().find("no PEM certificate"), std::string::npos) << bad_cert.Stderr();
}

TEST_F(WebhookBinaryTest, UnusableKubernetesContextExitsTwoSayingWhy) {
  testing::WritePair(dir_.path(), 1);
  Process missing({"--tls-cert", dir_.File("cert.pem"), "--tls-key", dir_.File("key.pem"), "--kubeconfig",
                   dir_.File("no-such-kubeconfig"), "--listen", "127.0.0.1:0"},
                  dir_);
  EXPECT_EQ(missing.Wait(std::chrono::seconds(20)), 2);
  EXPECT_NE(missing.Stderr().find("--kubeconfig " + dir_.File("no-such-kubeconfig")), std::string::npos)
      << missing.Stderr();

  // Outside a pod there is no service-account token: --in-cluster says so instead of serving without a context.
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  Process outside({"--tls-cert", dir_.File("cert.pem"), "--tls-key", dir_.File("key.pem"), "--in-cluster", "--listen",
                   "127.0.0.1:0"},
                  dir_);
  EXPECT_EQ(outside.Wait(std::chrono::seconds(20)), 2);
  EXPECT_NE(outside.Stderr().find("--in-cluster: "), std::string::npos) << outside.Stderr();
}

TEST_F(WebhookBinaryTest, ServesAuditsAndDrainsInFlightRequestsOnSigterm) {
  Process webhook(ServingArgs(), dir_);
  const int port = WaitForPort(webhook);
  ASSERT_GT(port, 0);

  std::string error;
  auto c = testing::TlsTestConnection::Connect(port, &error);
  ASSERT_NE(c, nullptr) << error;
  const json pod = ReadJson(DataPath("pods/clean_kpo_pod.json"));
  auto first = c->RoundTrip(BuildRequest("POST", "/validate", MakeReview(pod, "etl", "bin-1").dump()));
  ASSERT_TRUE(first);
  EXPECT_EQ(json::parse(first->body)["response"]["allowed"], true);

  // A request in flight when SIGTERM arrives: headers and half the body are sent, the rest after the signal.
  const std::string request = BuildRequest("POST", "/validate", MakeReview(pod, "etl", "bin-in-flight").dump());
  const size_t split = request.size() - 40;
  ASSERT_TRUE(c->SendAll(request.substr(0, split)));
  // Let the server read the head: a request is in flight once its first bytes have been read.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  webhook.Signal(SIGTERM);
  ASSERT_TRUE(WaitFor([&] { return webhook.Stderr().find("draining") != std::string::npos; })) << webhook.Stderr();
  ASSERT_TRUE(c->SendAll(request.substr(split)));
  auto in_flight = c->ReadResponse();
  ASSERT_TRUE(in_flight) << "the in-flight request was dropped";
  EXPECT_EQ(in_flight->status, 200);
  EXPECT_EQ(json::parse(in_flight->body)["response"]["uid"], "bin-in-flight");

  EXPECT_EQ(webhook.Wait(std::chrono::seconds(40)), 0) << webhook.Stderr();
  EXPECT_EQ(testing::TlsTestConnection::Connect(port, &error), nullptr);

  // stdout: exactly the two audit lines; stderr: JSON log lines only.
  std::vector<json> audit;
  std::istringstream out(webhook.Stdout());
  for (std::string line; std::getline(out, line);) audit.push_back(json::parse(line));
  ASSERT_EQ(audit.size(), 2u) << webhook.Stdout();
  EXPECT_EQ(audit[0]["uid"], "bin-1");
  EXPECT_EQ(audit[1]["uid"], "bin-in-flight");
  std::istringstream err(webhook.Stderr());
  for (std::string line; std::getline(err, line);) {
    const json entry = json::parse(line, nullptr, false);
    ASSERT_FALSE(entry.is_discarded()) << line;
    EXPECT_TRUE(entry.contains("level") && entry.contains("msg")) << line;
  }
}

TEST_F(WebhookBinaryTest, IdleSlowAndSilentConnectionsDoNotStarveANewClient) {
  Process webhook(ServingArgs(), dir_);
  const int port = WaitForPort(webhook);
  const json pod = ReadJson(DataPath("pods/clean_kpo_pod.json"));
  const auto validate = [&](const std::string& uid) {
    return BuildRequest("POST", "/validate", MakeReview(pod, "etl", uid).dump());
  };
  std::string error;
  // 300 pooled keep-alive connections (12 API server replicas' worth), 100 slowloris, 100 silent TCP connections:
  // the thread-per-connection core had 16 workers and let none of the new client's bytes in.
  std::vector<std::unique_ptr<testing::TlsTestConnection>> idle, slow;
  for (int i = 0; i < 300; ++i) {
    idle.push_back(testing::TlsTestConnection::Connect(port, &error));
    ASSERT_NE(idle.back(), nullptr) << error;
    ASSERT_TRUE(idle.back()->RoundTrip(BuildRequest("GET", "/healthz", "", "")));
  }
  for (int i = 0; i < 100; ++i) {
    slow.push_back(testing::TlsTestConnection::Connect(port, &error));
    ASSERT_NE(slow.back(), nullptr) << error;
    ASSERT_TRUE(slow.back()->SendAll("POST /validate HTTP/1.1\r\nHost: x\r\n"));
  }
  std::vector<int> silent;
  for (int i = 0; i < 100; ++i) silent.push_back(testing::ConnectPlainTcp(port));

  const auto start = std::chrono::steady_clock::now();
  auto fresh = testing::TlsTestConnection::Connect(port, &error);
  ASSERT_NE(fresh, nullptr) << error;
  auto reply = fresh->RoundTrip(validate("fresh-client"));
  ASSERT_TRUE(reply);
  EXPECT_EQ(json::parse(reply->body)["response"]["uid"], "fresh-client");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  // The defaults cut the slow and silent ones at their 5 s deadlines; the pooled ones stay usable (120 s).
  EXPECT_TRUE(slow.front()->ServerClosed());
  EXPECT_TRUE(testing::PeerClosesWithin(silent.front(), std::chrono::seconds(8)));
  EXPECT_EQ(json::parse(idle.back()->RoundTrip(validate("pooled"))->body)["response"]["uid"], "pooled");
  for (int fd : silent) ::close(fd);
  webhook.Signal(SIGTERM);
  EXPECT_EQ(webhook.Wait(std::chrono::seconds(40)), 0) << webhook.Stderr();
}

TEST_F(WebhookBinaryTest, GuardrailsConfigDeniesProfilesThatBreakThePlatformGuardrails) {
  testing::WritePair(dir_.path(), 1);
  Process webhook({"--config", DataPath("config.yaml"), "--context", DataPath("context"), "--guardrails-config",
                   DataPath("guardrails/operator.yaml"), "--tls-cert", dir_.File("cert.pem"), "--tls-key",
                   dir_.File("key.pem"), "--listen", "127.0.0.1:0", "--port-file", dir_.File("port")},
                  dir_);
  ASSERT_TRUE(webhook.spawned());
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(dir_.File("port")); })) << webhook.Stderr();
  const int port = std::stoi(ReadText(dir_.File("port")));

  std::string error;
  auto c = testing::TlsTestConnection::Connect(port, &error);
  ASSERT_NE(c, nullptr) << error;
  const json breaking = ReadJson(DataPath("guardrails/breaking_profile.json"));
  auto denied = c->RoundTrip(BuildRequest("POST", "/validate", MakeReview(breaking, "etl", "gr-1").dump()));
  ASSERT_TRUE(denied);
  const json denied_response = json::parse(denied->body)["response"];
  EXPECT_EQ(denied_response["allowed"], false);
  const std::string message = denied_response["status"]["message"];
  EXPECT_NE(message.find("profile-guardrail at /spec/aws/additionalStatements/0/actions/0"), std::string::npos)
      << message;
  EXPECT_NE(message.find("profile-guardrail at /spec/network/egress/0/cidr"), std::string::npos) << message;

  const json compliant = ReadJson(DataPath("guardrails/compliant_profile.json"));
  auto allowed = c->RoundTrip(BuildRequest("POST", "/validate", MakeReview(compliant, "etl", "gr-2").dump()));
  ASSERT_TRUE(allowed);
  EXPECT_EQ(json::parse(allowed->body)["response"]["allowed"], true) << allowed->body;

  webhook.Signal(SIGTERM);
  EXPECT_EQ(webhook.Wait(std::chrono::seconds(40)), 0) << webhook.Stderr();
}

TEST_F(WebhookBinaryTest, BadGuardrailsConfigExitsTwoNamingTheFile) {
  testing::WritePair(dir_.path(), 1);
  testing::WriteText(dir_.File("operator.yaml"), "clusterName: dev\nguardrails: {forbiddenActions: [\"iam:*\"]}\n");
  Process webhook({"--guardrails-config", dir_.File("operator.yaml"), "--tls-cert", dir_.File("cert.pem"), "--tls-key",
                   dir_.File("key.pem"), "--listen", "127.0.0.1:0"},
                  dir_);
  EXPECT_EQ(webhook.Wait(std::chrono::seconds(20)), 2);
  EXPECT_NE(webhook.Stderr().find("operator.yaml"), std::string::npos) << webhook.Stderr();
  EXPECT_NE(webhook.Stderr().find("is required"), std::string::npos) << webhook.Stderr();
}

}  // namespace
}  // namespace pipeguard::webhook
