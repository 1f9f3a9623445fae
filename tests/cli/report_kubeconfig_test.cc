// `pipeguard report --kubeconfig` against a loopback API server that answers as a real one does while a CRD's
// storage initialises (429) or while it is overloaded: retried like kubectl, a bounded number of times.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli_test_support.h"
#include "pipeguard/base/base64.h"
#include "test_certificate.h"

namespace pipeguard::cli {
namespace {

using ::testing::HasSubstr;
using testing::RunInProcess;

constexpr char kPolicyReports[] = "/apis/wgpolicyk8s.io/v1alpha2/policyreports";

// A loopback HTTPS API server that lists nothing, after answering the first `throttled` lists of policyreports with
// 429 "storage is (re)initializing" (the API server's answer right after a CRD is created).
class ThrottlingApiServer {
 public:
  explicit ThrottlingApiServer(int throttled)
      : throttled_(throttled),
        server_(pipeguard::testing::Certificate().cert.get(), pipeguard::testing::Certificate().key.get()) {
    server_.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
      int seen = 0;
      {
        std::lock_guard lock(mu_);
        seen = ++requests_[req.path];
      }
      if (req.path == kPolicyReports && seen <= throttled_) {
        res.status = 429;
        res.set_content(nlohmann::json{{"kind", "Status"},
                                       {"apiVersion", "v1"},
                                       {"status", "Failure"},
                                       {"message", "storage is (re)initializing"},
                                       {"reason", "TooManyRequests"},
                                       {"code", 429}}
                            .dump(),
                        "application/json");
        return;
      }
      res.set_content(R"({"kind":"List","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[]})",
                      "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~ThrottlingApiServer() {
    server_.stop();
    thread_.join();
  }

  int Requests(const std::string& path) {
    std::lock_guard lock(mu_);
    return requests_[path];
  }

  // A kubeconfig for this server (its CA, a bearer token) in `dir`.
  std::string WriteKubeconfig(const std::filesystem::path& dir) const {
    const std::string path = (dir / "kubeconfig").string();
    std::ofstream(path) << "apiVersion: v1\nkind: Config\nclusters:\n- name: loopback\n  cluster:\n"
                        << "    server: https://127.0.0.1:" << port_ << "\n"
                        << "    certificate-authority-data: "
                        << base::Base64Encode(pipeguard::testing::Certificate().Pem()) << "\n"
                        << "users:\n- name: auditor\n  user:\n    token: test-token\n"
                        << "contexts:\n- name: loopback\n  context: {cluster: loopback, user: auditor}\n"
                        << "current-context: loopback\n";
    return path;
  }

 private:
  const int throttled_;
  httplib::SSLServer server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::map<std::string, int> requests_;
};

class ReportFromCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("pipeguard-report-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(ReportFromCluster, RidesOutACrdWhoseStorageIsStillInitialising) {
  ThrottlingApiServer server(/*throttled=*/2);
  const auto result = RunInProcess({"report", "--kubeconfig", server.WriteKubeconfig(dir_), "-o", "json"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(server.Requests(kPolicyReports), 3);                   // two 429s, then the list
  EXPECT_EQ(server.Requests("/apis/events.k8s.io/v1/events"), 1);  // and the rest listed once
  const auto report = nlohmann::json::parse(result.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << result.out;
  EXPECT_TRUE(report.contains("denials")) << result.out;
}

TEST_F(ReportFromCluster, GivesUpAfterFiveRetriesAndSaysWhatFailed) {
  ThrottlingApiServer server(/*throttled=*/1000);
  const auto result = RunInProcess({"report", "--kubeconfig", server.WriteKubeconfig(dir_), "-o", "json"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_EQ(server.Requests(kPolicyReports), 6);  // the list and five retries, no more
  EXPECT_THAT(result.err, HasSubstr("--kubeconfig: listing"));
  EXPECT_THAT(result.err, HasSubstr("policyreports"));
  EXPECT_THAT(result.err, HasSubstr("storage is (re)initializing"));
}

}  // namespace
}  // namespace pipeguard::cli
