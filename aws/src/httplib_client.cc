// The cpp-httplib implementation of AwsHttpClient on the shared HTTP client core (pipeguard/http/client.h): its
// TLS policy, and keep-alive connections reused per origin.
#include <memory>

#include "pipeguard/aws/http.h"
#include "pipeguard/http/client.h"

namespace pipeguard::aws {
namespace {

class HttplibAwsHttpClient : public AwsHttpClient {
 public:
  explicit HttplibAwsHttpClient(HttplibClientOptions options) : options_(std::move(options)) {
    if (options_.ca_file.empty()) return;
    auto trust = http::LoadTrustStore(options_.ca_file, "the AWS client's CA bundle");
    if (trust.ok()) {
      tls_.trust = *trust;
    } else {
      trust_error_ = trust.status().message();  // reported by every Send: the factory cannot fail
    }
  }

  AwsResult<HttpResponse> Send(const Endpoint& endpoint, const HttpRequest& request,
                               std::chrono::milliseconds timeout) override {
    if (!trust_error_.empty()) return LocalError(errc::kInvalidRequest, StatusCode::kInvalidArgument, trust_error_);
    const http::Url url{endpoint.scheme, endpoint.host, endpoint.port, /*explicit_port=*/true, "/"};
    const std::string origin = url.Origin();
    std::unique_ptr<httplib::Client> client = pool_.TakeIdle(origin);
    const bool reused = client != nullptr;
    if (!reused) client = http::NewClient(url, tls_);
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
    http::CappedBody body(options_.max_response_bytes);
    req.content_receiver = body.Receiver();

    auto result = client->send(req);
    if (!result && !body.over_limit() && reused) {
      // The server may have closed the idle connection just as we reused it: once more on a fresh one. (The same
      // as the caller's retry of a connection error, which is retryable, minus the backoff.)
      body.Clear();
      client = http::NewClient(url, tls_);
      set_timeouts(*client);
      result = client->send(req);
    }
    if (body.over_limit()) {
      return LocalError(
          errc::kBadResponse, StatusCode::kInternal,
          "response from " + endpoint.Origin() + " is larger than " + std::to_string(body.limit()) + " bytes");
    }
    if (!result) {
      return LocalError(errc::kConnectionError, StatusCode::kUnavailable,
                        "no response from " + endpoint.Origin() + ": " + httplib::to_string(result.error()),
                        /*retryable=*/true);
    }
    HttpResponse out;
    out.status = result->status;
    for (const auto& [k, v] : result->headers) out.headers.emplace_back(k, v);
    out.body = std::move(body.text());
    pool_.GiveBack(origin, std::move(client));  // only after a complete response
    return out;
  }

 private:
  // At most this many idle connections are kept per origin (the operator runs a few workers).
  static constexpr size_t kMaxIdlePerOrigin = 4;

  HttplibClientOptions options_;
  http::TlsPolicy tls_;
  std::string trust_error_;  // why ca_file could not be loaded
  http::ConnectionPool pool_{kMaxIdlePerOrigin};
};

}  // namespace

std::unique_ptr<AwsHttpClient> MakeHttplibAwsHttpClient(HttplibClientOptions options) {
  return std::make_unique<HttplibAwsHttpClient>(std::move(options));
}

}  // namespace pipeguard::aws
