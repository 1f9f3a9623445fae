// HTTP messages and the transport interface for AWS calls (DESIGN.md guideline 6).
//
// AwsHttpClient performs exactly one HTTP round trip: no signing, no retries (service_client.h adds both). The
// cpp-httplib implementation speaks HTTPS with certificate verification by default and plain HTTP only when the
// endpoint says http:// (an endpoint override for a local test server such as moto).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pipeguard/aws/error.h"

namespace pipeguard::aws {

// Header and query lists keep order and duplicates (SigV4 signs repeated headers in order).
using Headers = std::vector<std::pair<std::string, std::string>>;
using QueryParams = std::vector<std::pair<std::string, std::string>>;  // decoded names and values

struct HttpRequest {
  std::string method = "POST";
  std::string path = "/";  // decoded path; encoded per segment when sent and signed (see sigv4.h)
  QueryParams query;
  Headers headers;
  std::string body;

  // First value of the header named `name` (case-insensitive), or nullptr.
  const std::string* FindHeader(std::string_view name) const;
  // Replaces every header named `name` (case-insensitive) by one with `value`.
  void SetHeader(std::string_view name, std::string value);
};

struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;
  const std::string* FindHeader(std::string_view name) const;
};

// Where a service is reached: https://sts.us-east-1.amazonaws.com, or an override such as http://127.0.0.1:5000.
struct Endpoint {
  std::string scheme;  // "https" or "http"
  std::string host;    // host name or IP literal (IPv6 without brackets)
  int port = 0;        // explicit or the scheme's default

  // Parses "scheme://host[:port][/]" (no path, query or user info). Errors say what is wrong with the URL.
  static AwsResult<Endpoint> Parse(std::string_view url);
  // The Host header value: host, plus ":port" when it is not the scheme's default.
  std::string HostHeader() const;
  // "scheme://host:port" as cpp-httplib wants it.
  std::string Origin() const;
};

// Encodes `s` the SigV4 way: unreserved characters (A-Z a-z 0-9 - _ . ~) stay, every other byte becomes %XX with
// upper-case hex; '/' stays too when keep_slash is true (paths).
std::string UriEncode(std::string_view s, bool keep_slash = false);
// Decodes %XX escapes and, when plus_is_space, '+' as a space (application/x-www-form-urlencoded). Malformed
// escapes are kept as they are.
std::string UriDecode(std::string_view s, bool plus_is_space = false);
// "a=1&b=2" with names and values UriEncode()d, in the given order (the Query API's form body).
std::string FormEncode(const QueryParams& params);

// One HTTP round trip. Thread-safe implementations may be shared by several service clients.
class AwsHttpClient {
 public:
  virtual ~AwsHttpClient() = default;
  // Sends `request` to `endpoint` within `timeout` (connect, and each read or write). Returns the response,
  // whatever its status, or an AwsError with code errc::kConnectionError (retryable) when no response came.
  virtual AwsResult<HttpResponse> Send(const Endpoint& endpoint, const HttpRequest& request,
                                       std::chrono::milliseconds timeout) = 0;
};

struct HttplibClientOptions {
  std::string ca_file;  // PEM bundle trusted for HTTPS in addition to the system's default trust store
  std::size_t max_response_bytes = 8u << 20;  // larger bodies are an error (AWS responses are small)
};

// The cpp-httplib implementation, on the shared HTTP client core (pipeguard/http/client.h: TLS 1.2 minimum,
// certificate verification always on). An unreadable ca_file makes every Send an InvalidArgument naming it.
// Thread-safe: concurrent Sends use separate connections; after a complete response a connection is kept alive
// for reuse (up to 4 idle per origin), so consecutive calls skip the TCP and TLS handshakes. A reused connection that
// fails before a response is retried once on a fresh connection.
std::unique_ptr<AwsHttpClient> MakeHttplibAwsHttpClient(HttplibClientOptions options = {});

}  // namespace pipeguard::aws
