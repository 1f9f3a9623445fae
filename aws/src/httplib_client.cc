// The cpp-httplib implementation of AwsHttpClient.
#include <httplib.h>

#include "pipeguard/aws/http.h"

namespace pipeguard::aws {
namespace {

class HttplibAwsHttpClient : public AwsHttpClient {
 public:
  explicit HttplibAwsHttpClient(HttplibClientOptions options) : options_(std::move(options)) {}

  AwsResult<HttpResponse> Send(const Endpoint& endpoint, const HttpRequest& request,
                               std::chrono::milliseconds timeout) override {
    httplib::Client client(endpoint.Origin());
    if (!client.is_valid()) {
      return LocalError(errc::kInvalidRequest, StatusCode::kInvalidArgument,
                        "cannot make an HTTP client for " + endpoint.Origin());
    }
    const auto sec = static_cast<time_t>(timeout.count() / 1000);
    const auto usec = static_cast<time_t>((timeout.count() % 1000) * 1000);
    client.set_connection_timeout(sec, usec);
    client.set_read_timeout(sec, usec);
    client.set_write_timeout(sec, usec);
    client.set_keep_alive(false);
    client.set_follow_location(false);
    if (endpoint.scheme == "https") {
      client.enable_server_certificate_verification(true);
      if (!options_.ca_file.empty()) client.set_ca_cert_path(options_.ca_file);
    }

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

    auto result = client.send(req);
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
    return out;
  }

 private:
  HttplibClientOptions options_;
};

}  // namespace

std::unique_ptr<AwsHttpClient> MakeHttplibAwsHttpClient(HttplibClientOptions options) {
  return std::make_unique<HttplibAwsHttpClient>(std::move(options));
}

}  // namespace pipeguard::aws
