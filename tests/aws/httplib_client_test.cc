// The cpp-httplib AwsHttpClient against a loopback cpp-httplib server: consecutive calls share one keep-alive
// connection, concurrent calls get their own, and a connection the server closed while idle is replaced without
// the caller seeing an error.
#include <gtest/gtest.h>
#include <httplib.h>

#include <set>
#include <thread>

#include "../http/loopback.h"
#include "pipeguard/aws/http.h"

namespace pipeguard::aws {
namespace {

using namespace std::chrono_literals;

class LoopbackServer {
 public:
  explicit LoopbackServer(time_t keep_alive_seconds) {
    server_.set_keep_alive_timeout(keep_alive_seconds);
    server_.Post("/", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(mu_);
        ports_.insert(req.remote_port);
      }
      if (req.has_param("slow")) std::this_thread::sleep_for(200ms);
      res.set_content("<ok>" + req.body + "</ok>", "text/xml");
    });
    port_ = http::testing::ServeOnLoopback(server_, thread_);
  }
  ~LoopbackServer() {
    server_.stop();
    thread_.join();
  }
  Endpoint endpoint() const { return Endpoint{"http", "127.0.0.1", port_}; }
  size_t Connections() {
    std::lock_guard lock(mu_);
    return ports_.size();
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::set<int> ports_;  // client ports seen: one per TCP connection
};

HttpRequest Post(std::string body, bool slow = false) {
  HttpRequest request;
  request.body = std::move(body);
  if (slow) request.query.emplace_back("slow", "1");
  return request;
}

TEST(HttplibAwsHttpClient, ConsecutiveCallsReuseOneConnection) {
  LoopbackServer server(/*keep_alive_seconds=*/30);
  auto client = MakeHttplibAwsHttpClient();
  for (int i = 0; i < 5; ++i) {
    auto response = client->Send(server.endpoint(), Post("call-" + std::to_string(i)), 5s);
    ASSERT_TRUE(response.ok()) << response.error().ToString();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "<ok>call-" + std::to_string(i) + "</ok>");
  }
  EXPECT_EQ(server.Connections(), 1u);
}

TEST(HttplibAwsHttpClient, ConcurrentCallsUseSeparateConnections) {
  LoopbackServer server(30);
  auto client = MakeHttplibAwsHttpClient();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&, i] {
      auto response = client->Send(server.endpoint(), Post("t" + std::to_string(i), /*slow=*/true), 5s);
      if (response.ok() && response->body == "<ok>t" + std::to_string(i) + "</ok>") ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(server.Connections(), 3u);
}

TEST(HttplibAwsHttpClient, AConnectionTheServerClosedWhileIdleIsReplaced) {
  LoopbackServer server(/*keep_alive_seconds=*/1);
  auto client = MakeHttplibAwsHttpClient();
  ASSERT_TRUE(client->Send(server.endpoint(), Post("first"), 5s).ok());
  std::this_thread::sleep_for(2500ms);  // the server drops the idle connection after 1 s
  auto response = client->Send(server.endpoint(), Post("second"), 5s);
  ASSERT_TRUE(response.ok()) << response.error().ToString();
  EXPECT_EQ(response->body, "<ok>second</ok>");
  EXPECT_EQ(server.Connections(), 2u);
}

TEST(HttplibAwsHttpClient, AnUnreadableCaBundleIsAnErrorNamingTheFile) {
  LoopbackServer server(/*keep_alive_seconds=*/30);
  auto client = MakeHttplibAwsHttpClient({.ca_file = "/nonexistent/aws-ca.pem"});
  auto response = client->Send(server.endpoint(), Post("x"), 5s);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().status_code, StatusCode::kInvalidArgument);
  EXPECT_FALSE(response.error().retryable);
  EXPECT_NE(response.error().message.find("/nonexistent/aws-ca.pem"), std::string::npos) << response.error().message;
  EXPECT_EQ(server.Connections(), 0u);
}

}  // namespace
}  // namespace pipeguard::aws
