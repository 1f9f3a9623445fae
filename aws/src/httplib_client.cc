// The cpp-httplib implementation of AwsHttpClient, with keep-alive connections reused per origin.
#include <httplib.h>

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "pipeguard/aws/http.h"

namespace pipeguard::aws {
namespace {

class HttplibAwsHttpClient : public AwsHttpClient {
 public:
  explicit HttplibAwsHttpClient(HttplibClientOptions options) : options_(std::move(options)) {}

  AwsResult<HttpResponse> Send(const Endpoint& endpoint, const HttpRequest& request,
                               std::chrono::milliseconds timeout) override {
    const std::string origin = endpoint.Origin();
    std::unique_ptr<httplib::Client> client = TakeIdle(origin);
    const bool reused = client != nullptr;
    if (!reused) client = NewClient(endpoint);
    if (!client->is_valid()) {
      return LocalError(errc::kInvalidRequest, StatusCode::kInvalidArgument,
                        "cannot make an HTTP client for " + origin);
    }
    const auto sec = static_cast<time_t>(timeout.count() / 1000);
    const auto usec = static_cast<time_t>((timeout.count() % 1000) * 1000);
    auto set_timeouts = [&](httplib::Client& c) {
      c.set_connection_timeout(sec, usec);
      c.set_read_timeout(sec, usec);
      c.set_write_timeout(sec, usec);
    };
    set_timeouts(*client);

    httplib::Request req;
    req.method = request.method;
    req.path = UriEncode(request.path.empty() ? "/" : request.path, /*keep_slash=*/true);
    if (!request.query.empty()) {
      req.path += '?';
      req.path += FormEncode(request.query);
    }
    for (const auto& [k, v] : request.headers) req.headers.emplace(k, v);
    req.body = request.body;
    std::string body;
    std::size_t received = 0;
    bool too_large = false;
    const std::size_t limit = options_.max_response_bytes;
    req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
      received += len;
      if (received > limit) {
        too_large = true;
        return false;
      }
      body.append(data, len);
      return true;
    };

    auto result = client->send(req);
    if (!result && !too_large && reused) {
      // The server may have closed the idle connection just as we reused it: once more on a fresh one. (The same
      // as the caller's retry of a connection error, which is retryable, minus the backoff.)
      body.clear();
      received = 0;
      client = NewClient(endpoint);
      set_timeouts(*client);
      result = client->send(req);
    }
    if (too_large) {
      return LocalError(errc::kBadResponse, StatusCode::kInternal,
                        "response from " + endpoint.Origin() + " is larger than " + std::to_string(limit) + " bytes");
    }
    if (!result) {
      return LocalError(errc::kConnectionError, StatusCode::kUnavailable,
                        "no response from " + endpoint.Origin() + ": " + httplib::to_string(result.error()),
                        /*retryable=*/true);
    }
    HttpResponse out;
    out.status = result->status;
    for (const auto& [k, v] : result->headers) out.headers.emplace_back(k, v);
    out.body = std::move(body);
    GiveBackIdle(origin, std::move(client));
    return out;
  }

 private:
  // At most this many idle connections are kept per origin (the operator runs a few workers).
  static constexpr size_t kMaxIdlePerOrigin = 4;

  std::unique_ptr<httplib::Client> NewClient(const Endpoint& endpoint) const {
    auto client = std::make_unique<httplib::Client>(endpoint.Origin());
    client->set_keep_alive(true);
    client->set_tcp_nodelay(true);  // headers and body are separate writes: no Nagle + delayed-ACK stall
    client->set_follow_location(false);
    if (endpoint.scheme == "https") {
      client->enable_server_certificate_verification(true);
      if (!options_.ca_file.empty()) client->set_ca_cert_path(options_.ca_file);
    }
    return client;
  }

  std::unique_ptr<httplib::Client> TakeIdle(const std::string& origin) {
    std::lock_guard lock(mu_);
    auto it = idle_.find(origin);
    if (it == idle_.end() || it->second.empty()) return nullptr;
    std::unique_ptr<httplib::Client> client = std::move(it->second.back());
    it->second.pop_back();
    return client;
  }

  // Only after a complete response: the connection is then between requests and safe to reuse.
  void GiveBackIdle(const std::string& origin, std::unique_ptr<httplib::Client> client) {
    std::lock_guard lock(mu_);
    auto& idle = idle_[origin];
    if (idle.size() < kMaxIdlePerOrigin) idle.push_back(std::move(client));
  }

  HttplibClientOptions options_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<httplib::Client>>> idle_;  // by origin
};

}  // namespace

std::unique_ptr<AwsHttpClient> MakeHttplibAwsHttpClient(HttplibClientOptions options) {
  return std::make_unique<HttplibAwsHttpClient>(std::move(options));
}

}  // namespace pipeguard::aws
