// HttpRegistry: the OCI distribution client (contract in pipeguard/registry/http_registry.h).
//
// Layers, bottom up:
//   Exchange          one HTTP request on one httplib client: timeouts from the deadline, size-limited streaming
//                     body, transport errors mapped to Status.
//   SendToEndpoint    a request to a registry host: a concurrency slot, a pooled keep-alive client, the
//                     deadline watchdog.
//   Call              authentication (challenge handling, token cache), retries with backoff, redirects.
//   Registry methods  paths, Accept headers, digest verification, error decoding.
#include "pipeguard/registry/http_registry.h"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <unordered_map>

#include "pipeguard/base/json.h"
#include "pipeguard/http/client.h"
#include "pipeguard/http/redirect.h"
#include "pipeguard/registry/auth.h"

namespace pipeguard::registry {

using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view kAcceptAnyManifest =
    "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";
constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
constexpr size_t kMaxErrorBodyBytes = 64u << 10;
constexpr size_t kMaxTokenBodyBytes = 64u << 10;
constexpr int kMaxJsonDepth = 64;
constexpr size_t kMaxCachedTokensPerRegistry = 1024;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// Printable ASCII only, at most `max` characters: registry-supplied text is untrusted.
std::string Sanitize(std::string_view s, size_t max = 200) {
  std::string out;
  for (char c : s) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  return out;
}

// A registry's JSON, nested at most kMaxJsonDepth levels (hostile registries); nullopt when it is not that.
std::optional<nlohmann::json> ParseJson(std::string_view text) {
  auto doc = base::ParseJson(text, "registry response", kMaxJsonDepth);
  if (!doc.ok()) return std::nullopt;
  return std::move(doc).value();
}

// "CODE: message; CODE: message" from a distribution error body, or a sanitized prefix of a non-JSON body.
std::string DecodeRegistryErrors(std::string_view body) {
  if (body.empty()) return "";
  if (auto doc = ParseJson(body); doc && doc->is_object() && doc->contains("errors") && (*doc)["errors"].is_array()) {
    std::string out;
    int count = 0;
    for (const auto& e : (*doc)["errors"]) {
      if (!e.is_object()) continue;
      if (count++ == 3) {
        out += "; ...";
        break;
      }
      std::string code = e.contains("code") && e["code"].is_string() ? e["code"].get<std::string>() : "UNKNOWN";
      std::string message = e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "";
      if (!out.empty()) out += "; ";
      out += Sanitize(code, 64);
      if (!message.empty()) out += ": " + Sanitize(message);
    }
    if (!out.empty()) return out;
  }
  return Sanitize(Trim(body.substr(0, 400)), 120);
}

std::string ContentTypeWithoutParameters(const httplib::Headers& headers) {
  auto it = headers.find("Content-Type");
  if (it == headers.end()) return "";
  std::string_view v = it->second;
  return Lower(Trim(v.substr(0, v.find(';'))));
}

std::string HeaderValue(const httplib::Headers& headers, const char* name) {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

bool IsRetryable(int status) { return status == 429 || status == 502 || status == 503 || status == 504; }

using http::Url;

// The next-page URL of an RFC 8288 Link header (`<url>; rel="next"`), or "" when there is none.
std::string NextLink(const httplib::Headers& headers) {
  auto [begin, end] = headers.equal_range("Link");
  for (auto it = begin; it != end; ++it) {
    std::string_view v = it->second;
    while (!v.empty()) {
      size_t open = v.find('<');
      size_t close = v.find('>', open == std::string_view::npos ? 0 : open);
      if (open == std::string_view::npos || close == std::string_view::npos) break;
      std::string_view link = v.substr(open + 1, close - open - 1);
      size_t next_link = v.find('<', close);
      std::string params =
          Lower(v.substr(close + 1, next_link == std::string_view::npos ? v.npos : next_link - close - 1));
      if (params.find("rel=\"next\"") != std::string::npos || params.find("rel=next") != std::string::npos) {
        return std::string(link);
      }
      if (next_link == std::string_view::npos) break;
      v = v.substr(next_link);
    }
  }
  return "";
}

// System CAs plus `ca_file` (when given).
StatusOr<http::TrustStore> MakeTrustStore(const std::string& ca_file, const std::string& registry) {
  return http::LoadTrustStore(ca_file,
                              ca_file.empty() ? "registry " + registry : "images.registries[" + registry + "].caFile");
}

// A counting semaphore whose acquisition gives up at a deadline.
class Semaphore {
 public:
  explicit Semaphore(int count) : available_(count) {}
  bool AcquireUntil(Deadline deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_until(lock, deadline, [&] { return available_ > 0; })) return false;
    --available_;
    return true;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++available_;
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int available_;
};

// Stops (closes the socket of) httplib clients whose request outlives its deadline, so that a server that drips
// bytes cannot hold a caller past it. Thread-safe; one thread per HttpRegistry.
class DeadlineWatchdog {
 public:
  DeadlineWatchdog() : thread_([this] { Run(); }) {}
  ~DeadlineWatchdog() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  // Watches `client` until Unwatch(id); after Unwatch returns the watchdog no longer touches it.
  uint64_t Watch(httplib::Client* client, Deadline deadline) {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t id = ++next_id_;
    entries_[id] = {client, deadline, false};
    cv_.notify_all();
    return id;
  }
  // True when the watchdog stopped the client (the client must then be discarded).
  bool Unwatch(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(id);
    bool fired = it != entries_.end() && it->second.fired;
    if (it != entries_.end()) entries_.erase(it);
    return fired;
  }

 private:
  struct Entry {
    httplib::Client* client;
    Deadline deadline;
    bool fired;
  };
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      Deadline next = Deadline::max();
      auto now = Clock::now();
      for (auto& [id, e] : entries_) {
        if (e.fired) continue;
        if (e.deadline <= now) {
          e.fired = true;
          e.client->stop();
        } else {
          next = std::min(next, e.deadline);
        }
      }
      if (next == Deadline::max()) {
        cv_.wait(lock);
      } else {
        cv_.wait_until(lock, next);
      }
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint64_t, Entry> entries_;
  uint64_t next_id_ = 0;
  bool stopping_ = false;
  std::thread thread_;  // last: starts after the members it uses
};

struct HttpResult {
  int status = 0;
  httplib::Headers headers;
  std::string body;
  int attempts = 1;
};

struct CachedToken {
  std::string token;  // secret
  Clock::time_point valid_until;
};

// Everything known about one registry host. Immutable fields are set at creation; the rest is under `mu`.
struct Endpoint {
  explicit Endpoint(int slot_count) : slots(slot_count), idle(static_cast<size_t>(slot_count)) {}
  std::string host;  // "host[:port]" as in image references
  std::string scheme;
  bool insecure = false;
  http::TrustStore trust;
  std::optional<BasicCredential> credential;  // from credentials_file
  std::string credential_source;              // the file, for messages
  std::optional<EcrRegistry> ecr;
  Semaphore slots;

  http::ConnectionPool idle;  // one origin; as many idle clients as there are slots

  std::mutex mu;
  std::optional<AuthChallenge> challenge;     // the last challenge the registry sent
  std::map<std::string, CachedToken> tokens;  // by scope set

  // scheme://host + target; an error when the host does not make a URL (e.g. from a malformed image reference).
  StatusOr<Url> UrlFor(const std::string& target) const {
    auto url = Url::Parse(scheme + "://" + host);
    if (!url.ok()) return Status::InvalidArgument("registry host \"" + host + "\": " + url.status().message());
    url->target = target;
    return url;
  }
};

}  // namespace

std::string Sha256Digest(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned int i = 0; i < len; ++i) out += {kHex[md[i] >> 4], kHex[md[i] & 15]};
  return out;
}

class HttpRegistry::Impl {
 public:
  Impl(HttpRegistryOptions options, http::TrustStore system_trust)
      : options_(std::move(options)),
        system_trust_(std::move(system_trust)),
        rng_(options_.random_seed != 0 ? options_.random_seed : std::random_device{}()) {}

  Status AddConfiguredEndpoint(const policy::RegistryConfig& config) {
    std::string host = NormalizeRegistryHost(config.host);
    std::string where = "images.registries[" + config.host + "]";
    if (host.empty() || host.find('/') != std::string::npos) {
      return Status::InvalidArgument(where + ": host must be \"host[:port]\" as in image references");
    }
    if (endpoints_.count(host)) return Status::InvalidArgument(where + ": registry is configured twice");
    if (config.insecure && !config.ca_file.empty()) {
      return Status::InvalidArgument(where + ": insecure (plain HTTP) and caFile (TLS) exclude each other");
    }
    auto ep = std::make_unique<Endpoint>(options_.max_concurrent_requests_per_registry);
    ep->host = host;
    ep->insecure = config.insecure;
    ep->scheme = config.insecure ? "http" : "https";
    if (config.ca_file.empty()) {
      ep->trust = system_trust_;
    } else {
      auto store = MakeTrustStore(config.ca_file, config.host);
      if (!store.ok()) return store.status();
      ep->trust = *store;
    }
    if (!config.credentials_file.empty()) {
      auto docker_config = DockerConfig::LoadFile(config.credentials_file);
      if (!docker_config.ok()) return Status::InvalidArgument(where + ": " + docker_config.status().message());
      ep->credential = docker_config->Find(host);
      if (!ep->credential) {
        return Status::InvalidArgument(where + ": credentialsFile " + config.credentials_file + " has no entry for \"" +
                                       host + "\" (its auths keys must name this host)");
      }
      ep->credential_source = config.credentials_file;
    }
    ep->ecr = MatchEcrHost(host);
    if (config.insecure) {
      spdlog::warn(
          "registry {} is configured insecure: true: it is reached over plain HTTP without TLS; this is "
          "meant for loopback test registries only",
          host);
    }
    endpoints_[host] = std::move(ep);
    return Status::Ok();
  }

  Endpoint& EndpointFor(std::string_view registry_host) {
    std::string host = NormalizeRegistryHost(registry_host);
    std::lock_guard<std::mutex> lock(endpoints_mu_);
    auto it = endpoints_.find(host);
    if (it != endpoints_.end()) return *it->second;
    auto ep = std::make_unique<Endpoint>(options_.max_concurrent_requests_per_registry);
    ep->host = host;
    ep->scheme = "https";
    ep->trust = system_trust_;
    ep->ecr = MatchEcrHost(host);
    return *(endpoints_[host] = std::move(ep));
  }

  // --- Transport ----------------------------------------------------------------------------------------------

  // A client with the shared TLS policy: verified against `trust`, redirects left to Call, targets byte-exact.
  std::unique_ptr<httplib::Client> MakeClient(const Url& url, const http::TrustStore& trust, bool warn_insecure) {
    if (url.scheme == "http" && warn_insecure) {
      spdlog::warn(
          "opening a plain-HTTP (insecure: true) connection client to registry {}; no TLS protects this "
          "traffic (loopback test registries only)",
          url.Authority());
    }
    return http::NewClient(url, http::TlsPolicy{trust, /*verify_peer=*/true});
  }

  // One request on `client`. 2xx bodies above `body_limit` are an InvalidArgument; other bodies are cut at
  // kMaxErrorBodyBytes. Sets *clean to whether the client may be reused.
  StatusOr<HttpResult> Exchange(httplib::Client& client, const Url& url, const std::string& method,
                                const httplib::Headers& headers, size_t body_limit, Deadline deadline,
                                const std::string& what, bool* clean) {
    *clean = false;
    auto remaining = deadline - Clock::now();
    if (remaining <= Clock::duration::zero()) {
      return Status::DeadlineExceeded(what + ": the deadline passed before " + url.Display() + " was asked");
    }
    auto timeout = std::chrono::duration_cast<std::chrono::microseconds>(remaining);
    client.set_connection_timeout(timeout);
    client.set_read_timeout(timeout);
    client.set_write_timeout(timeout);

    httplib::Request req;
    req.method = method;
    req.path = url.target;
    req.headers = headers;
    HttpResult out;
    enum class Abort { kNone, kTooLarge, kDeadline, kErrorBodyCut } abort = Abort::kNone;
    bool success_status = false;
    http::CappedBody body(body_limit);
    req.response_handler = [&](const httplib::Response& res) {
      success_status = res.status >= 200 && res.status < 300;
      body.set_limit(success_status ? body_limit : kMaxErrorBodyBytes);
      if (success_status && res.has_header("Content-Length")) {
        std::string length = res.get_header_value("Content-Length");
        if (length.size() > 18 || std::strtoull(length.c_str(), nullptr, 10) > body_limit) {
          abort = Abort::kTooLarge;
          return false;
        }
      }
      return true;
    };
    req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
      if (Clock::now() >= deadline) {
        abort = Abort::kDeadline;
        return false;
      }
      if (!body.Append(data, len)) {
        abort = success_status ? Abort::kTooLarge : Abort::kErrorBodyCut;
        return false;
      }
      return true;
    };

    httplib::Response res;
    httplib::Error error = httplib::Error::Success;
    uint64_t watch = watchdog_.Watch(&client, deadline);
    bool ok = client.send(req, res, error);
    bool stopped_by_watchdog = watchdog_.Unwatch(watch);

    if (abort == Abort::kTooLarge) {
      return Status::InvalidArgument(what + ": the body from " + url.Display() + " exceeds the limit of " +
                                     std::to_string(body_limit) + " bytes");
    }
    if (abort == Abort::kDeadline || stopped_by_watchdog ||
        (!ok && Clock::now() + std::chrono::milliseconds(2) >= deadline && error != httplib::Error::Connection)) {
      return Status::DeadlineExceeded(what + ": " + url.Display() + " did not answer within the deadline");
    }
    if (!ok && abort != Abort::kErrorBodyCut) {
      switch (error) {
        case httplib::Error::Connection:
        case httplib::Error::ConnectionTimeout:
          if (Clock::now() + std::chrono::milliseconds(2) >= deadline) {
            return Status::DeadlineExceeded(what + ": could not connect to " + url.Display() + " within the deadline");
          }
          return Status::Unavailable(what + ": cannot connect to " + url.Display() +
                                     " (connection refused or host unreachable)");
        case httplib::Error::SSLServerVerification:
          return Status::Unavailable(what + ": the TLS certificate of " + url.Display() +
                                     " is not trusted or does not name the host; if the registry uses a private CA, "
                                     "set caFile for it in images.registries");
        case httplib::Error::SSLConnection:
          return Status::Unavailable(what + ": TLS handshake with " + url.Display() +
                                     " failed (a plain-HTTP registry needs insecure: true, loopback only)");
        case httplib::Error::SSLLoadingCerts:
          return Status::Unavailable(what + ": cannot load the CA certificates to verify " + url.Display());
        default:
          return Status::Unavailable(what + ": request to " + url.Display() + " failed (" + httplib::to_string(error) +
                                     ")");
      }
    }
    *clean = ok;
    out.status = res.status;
    out.body = std::move(body.text());
    out.headers = std::move(res.headers);
    return out;
  }

  // A request to the registry host itself: takes a concurrency slot and a pooled client for its duration.
  StatusOr<HttpResult> SendToEndpoint(Endpoint& ep, const std::string& method, const std::string& target,
                                      const httplib::Headers& headers, size_t body_limit, Deadline deadline,
                                      const std::string& what) {
    if (!ep.slots.AcquireUntil(deadline)) {
      return Status::DeadlineExceeded(
          what + ": no free connection slot to registry " + ep.host + " before the deadline (" +
          std::to_string(options_.max_concurrent_requests_per_registry) + " requests already in flight)");
    }
    struct SlotGuard {
      Endpoint& ep;
      ~SlotGuard() { ep.slots.Release(); }
    } guard{ep};

    auto url = ep.UrlFor(target);
    if (!url.ok()) return Status(url.status().code(), what + ": " + url.status().message());
    const std::string origin = url->Origin();
    for (int round = 0;; ++round) {
      std::unique_ptr<httplib::Client> client = round == 0 ? ep.idle.TakeIdle(origin) : nullptr;
      bool reused = client != nullptr;
      if (!client) client = MakeClient(*url, ep.trust, ep.insecure);
      bool clean = false;
      auto result = Exchange(*client, *url, method, headers, body_limit, deadline, what, &clean);
      if (clean) ep.idle.GiveBack(origin, std::move(client));
      // A kept-alive connection the server closed meanwhile fails at once: try once more on a fresh one.
      if (!result.ok() && reused && result.status().code() == StatusCode::kUnavailable) continue;
      return result;
    }
  }

  // --- Authentication -----------------------------------------------------------------------------------------

  static std::string ScopeKey(const std::vector<std::string>& scopes) {
    std::string key;
    for (const auto& s : scopes) key += s + " ";
    return key;
  }

  // The Authorization header for a request needing `scopes`, from what the registry asked for last ("" when
  // anonymous). May fetch a bearer token or an ECR token.
  StatusOr<std::string> AuthorizationFor(Endpoint& ep, const std::vector<std::string>& scopes, Deadline deadline,
                                         const std::string& what) {
    if (ep.ecr && options_.ecr_token_source) {
      auto auth = options_.ecr_token_source->GetAuthorization(*ep.ecr, deadline);
      if (!auth.ok()) {
        return Status(auth.status().code(), what + ": no ECR token for " + ep.host + ": " + auth.status().message());
      }
      return "Basic " + auth->authorization_token;
    }
    std::optional<AuthChallenge> challenge;
    {
      std::lock_guard<std::mutex> lock(ep.mu);
      challenge = ep.challenge;
      if (challenge && challenge->scheme == "bearer") {
        auto it = ep.tokens.find(ScopeKey(scopes));
        if (it != ep.tokens.end() && options_.token_clock() < it->second.valid_until) {
          return "Bearer " + it->second.token;
        }
      }
    }
    if (!challenge) return std::string();
    if (challenge->scheme == "basic") return ep.credential ? ep.credential->AuthorizationHeader() : std::string();
    auto token = FetchToken(ep, *challenge, scopes, deadline, what);
    if (!token.ok()) return token.status();
    return "Bearer " + *token;
  }

  // GET realm?service=...&scope=... with the registry's Basic credentials (when it has some).
  StatusOr<std::string> FetchToken(Endpoint& ep, const AuthChallenge& challenge, const std::vector<std::string>& scopes,
                                   Deadline deadline, const std::string& what) {
    auto realm = Url::Parse(challenge.Param("realm"));
    if (!realm.ok()) {
      return Status::Unavailable(what + ": registry " + ep.host +
                                 " sent a Bearer challenge with a bad realm: " + realm.status().message());
    }
    if (realm->scheme == "http" && !ep.insecure) {
      return Status::PermissionDenied(what + ": registry " + ep.host + " asks for a token from plain-HTTP realm " +
                                      realm->Display() + "; refusing to send credentials without TLS");
    }
    std::string target = realm->target + (realm->target.find('?') == std::string::npos ? "?" : "&");
    target += "service=" + http::PercentEncode(challenge.Param("service"));
    for (const auto& scope : scopes) target += "&scope=" + http::PercentEncode(scope);
    Url url = *realm;
    url.target = std::move(target);

    httplib::Headers headers{{"Accept", "application/json"}, {"User-Agent", options_.user_agent}};
    if (ep.credential) headers.emplace("Authorization", ep.credential->AuthorizationHeader());
    auto client = MakeClient(url, ep.trust, /*warn_insecure=*/false);
    bool clean = false;
    auto result = Exchange(*client, url, "GET", headers, kMaxTokenBodyBytes, deadline, what, &clean);
    if (!result.ok()) return result.status();
    if (result->status == 401 || result->status == 403) {
      if (ep.credential) {
        return Status::PermissionDenied(what + ": the token service " + realm->Display() + " of registry " + ep.host +
                                        " refused the credentials from " + ep.credential_source);
      }
      return Status::PermissionDenied(what + ": registry " + ep.host +
                                      " requires authentication (its token service refused anonymous access); set "
                                      "credentialsFile for it in images.registries");
    }
    if (result->status != 200) {
      return Status::Unavailable(what + ": the token service " + realm->Display() + " of registry " + ep.host +
                                 " answered HTTP " + std::to_string(result->status) + " " +
                                 DecodeRegistryErrors(result->body));
    }
    auto doc = ParseJson(result->body);
    std::string token;
    if (doc && doc->is_object()) {
      for (const char* field : {"token", "access_token"}) {
        if (doc->contains(field) && (*doc)[field].is_string() && !(*doc)[field].get<std::string>().empty()) {
          token = (*doc)[field].get<std::string>();
          break;
        }
      }
    }
    if (token.empty()) {
      return Status::Unavailable(what + ": the token service " + realm->Display() +
                                 " answered without a token (expected JSON with \"token\" or \"access_token\")");
    }
    int64_t expires_in = 60;
    if (doc->contains("expires_in") && (*doc)["expires_in"].is_number_integer()) {
      expires_in = std::clamp<int64_t>((*doc)["expires_in"].get<int64_t>(), 1, 24 * 3600);
    }
    auto lifetime = std::chrono::seconds(expires_in);
    auto margin = std::min<std::chrono::seconds>(options_.token_expiry_margin, lifetime / 2);
    {
      std::lock_guard<std::mutex> lock(ep.mu);
      auto now = options_.token_clock();
      if (ep.tokens.size() >= kMaxCachedTokensPerRegistry) {
        std::erase_if(ep.tokens, [&](const auto& entry) { return entry.second.valid_until <= now; });
        if (ep.tokens.size() >= kMaxCachedTokensPerRegistry) ep.tokens.clear();
      }
      ep.tokens[ScopeKey(scopes)] = {token, now + lifetime - margin};
    }
    return token;
  }

  // Reacts to a 401: records the challenge, drops a rejected token, widens the scopes when the registry asks
  // for more. Errors when retrying cannot help.
  Status HandleUnauthorized(Endpoint& ep, const HttpResult& result, const std::string& sent_authorization,
                            std::vector<std::string>* scopes, const std::string& what) {
    if (ep.ecr && options_.ecr_token_source) {
      options_.ecr_token_source->Invalidate(*ep.ecr);
      return Status::Ok();
    }
    std::vector<AuthChallenge> challenges;
    auto [begin, end] = result.headers.equal_range("WWW-Authenticate");
    for (auto it = begin; it != end; ++it) {
      auto parsed = ParseWwwAuthenticate(it->second);
      if (parsed.ok()) challenges.insert(challenges.end(), parsed->begin(), parsed->end());
    }
    const AuthChallenge* bearer = nullptr;
    const AuthChallenge* basic = nullptr;
    for (const auto& c : challenges) {
      if (c.scheme == "bearer" && !c.Param("realm").empty() && !bearer) bearer = &c;
      if (c.scheme == "basic" && !basic) basic = &c;
    }
    if (bearer) {
      std::lock_guard<std::mutex> lock(ep.mu);
      ep.challenge = *bearer;
      ep.tokens.erase(ScopeKey(*scopes));
      std::string scope = bearer->Param("scope");
      // The challenge's scope may hold several space-separated scopes.
      size_t start = 0;
      while (start < scope.size()) {
        size_t end_pos = scope.find(' ', start);
        std::string s = scope.substr(start, end_pos == std::string::npos ? end_pos : end_pos - start);
        if (!s.empty() && std::find(scopes->begin(), scopes->end(), s) == scopes->end()) scopes->push_back(s);
        if (end_pos == std::string::npos) break;
        start = end_pos + 1;
      }
      return Status::Ok();
    }
    if (basic) {
      if (!ep.credential) {
        return Status::PermissionDenied(what + ": registry " + ep.host +
                                        " requires credentials (Basic); set credentialsFile for it in "
                                        "images.registries");
      }
      if (sent_authorization.rfind("Basic ", 0) == 0) {
        return Status::PermissionDenied(what + ": registry " + ep.host + " refused the credentials from " +
                                        ep.credential_source);
      }
      std::lock_guard<std::mutex> lock(ep.mu);
      ep.challenge = *basic;
      return Status::Ok();
    }
    return Status::PermissionDenied(what + ": registry " + ep.host +
                                    " answered 401 Unauthorized without a usable WWW-Authenticate challenge");
  }

  // --- Requests -----------------------------------------------------------------------------------------------

  struct CallSpec {
    std::string method = "GET";
    std::string target;  // "/v2/..."
    std::string accept;
    size_t body_limit = 0;
    std::string repository;  // for the pull scope
    bool follow_redirects = false;
    std::string what;  // for messages: "manifest x of registry/repo"
  };

  // Authenticates, retries 429/5xx, follows redirects (when asked); returns the final answer, whatever its status.
  StatusOr<HttpResult> Call(Endpoint& ep, const CallSpec& spec, Deadline deadline) {
    std::vector<std::string> scopes{"repository:" + spec.repository + ":pull"};
    int auth_rounds = 0;
    int attempt = 1;
    while (true) {
      auto authorization = AuthorizationFor(ep, scopes, deadline, spec.what);
      if (!authorization.ok()) return authorization.status();
      httplib::Headers headers{
          {"Accept", spec.accept}, {"User-Agent", options_.user_agent}, {"Accept-Encoding", "identity"}};
      if (!authorization->empty()) headers.emplace("Authorization", *authorization);
      auto result = SendToEndpoint(ep, spec.method, spec.target, headers, spec.body_limit, deadline, spec.what);
      if (!result.ok()) return result.status();
      result->attempts = attempt;
      if (result->status == 401 && auth_rounds < 2) {
        ++auth_rounds;
        if (Status s = HandleUnauthorized(ep, *result, *authorization, &scopes, spec.what); !s.ok()) return s;
        continue;
      }
      if (IsRetryable(result->status) && attempt < options_.max_attempts) {
        auto wait = Backoff(attempt, HeaderValue(result->headers, "Retry-After"));
        if (Clock::now() + wait >= deadline) return result;  // no time left to retry: report this answer
        std::this_thread::sleep_for(wait);
        ++attempt;
        continue;
      }
      if (spec.follow_redirects && http::IsRedirect(result->status)) {
        return FollowRedirects(ep, spec, std::move(*result), *authorization, deadline);
      }
      return result;
    }
  }

  std::chrono::milliseconds Backoff(int attempt, const std::string& retry_after) {
    auto base = options_.initial_backoff * (1 << std::min(attempt - 1, 16));
    base = std::min<std::chrono::milliseconds>(base, options_.max_backoff);
    double factor;
    {
      std::lock_guard<std::mutex> lock(rng_mu_);
      factor = std::uniform_real_distribution<double>(0.5, 1.5)(rng_);
    }
    auto wait = std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(base.count()) * factor));
    if (!retry_after.empty() && retry_after.size() < 6 &&
        std::all_of(retry_after.begin(), retry_after.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      wait = std::max<std::chrono::milliseconds>(wait, std::chrono::seconds(std::stoi(retry_after)));
    }
    return wait;
  }

  // Follows 301/302/303/307/308 from `first`. The Authorization header goes only to the registry's own origin;
  // HTTPS never downgrades to HTTP; targets stay byte-exact.
  StatusOr<HttpResult> FollowRedirects(Endpoint& ep, const CallSpec& spec, HttpResult first,
                                       const std::string& authorization, Deadline deadline) {
    auto start = ep.UrlFor(spec.target);
    if (!start.ok()) return Status(start.status().code(), spec.what + ": " + start.status().message());
    Url current = *start;
    const std::string registry_origin = current.Origin();
    HttpResult result = std::move(first);
    for (int hop = 0; hop < options_.limits.max_redirects; ++hop) {
      auto step = http::PlanRedirect(current, result.status, HeaderValue(result.headers, "Location"), spec.method,
                                     authorization.empty() ? std::string_view() : registry_origin);
      if (!step.ok())
        return Status::InvalidArgument(spec.what + ": registry " + ep.host + ": " + step.status().message());
      httplib::Headers headers{
          {"Accept", spec.accept}, {"User-Agent", options_.user_agent}, {"Accept-Encoding", "identity"}};
      StatusOr<HttpResult> answer = Status::Internal("unset");
      if (step->next.Origin() == registry_origin) {
        if (step->credentials_allowed) headers.emplace("Authorization", authorization);
        answer = SendToEndpoint(ep, step->method, step->next.target, headers, spec.body_limit, deadline, spec.what);
      } else {
        auto client = MakeClient(step->next, ep.trust, /*warn_insecure=*/false);
        bool clean = false;
        answer = Exchange(*client, step->next, step->method, headers, spec.body_limit, deadline, spec.what, &clean);
      }
      if (!answer.ok()) return answer.status();
      if (!http::IsRedirect(answer->status)) {
        if (answer->status < 200 || answer->status >= 300) {
          return Status(answer->status == 404 ? StatusCode::kNotFound : StatusCode::kUnavailable,
                        spec.what + ": the redirect target " + step->next.Display() + " answered HTTP " +
                            std::to_string(answer->status) + " " + DecodeRegistryErrors(answer->body));
        }
        return answer;
      }
      result = std::move(*answer);
      current = std::move(step->next);
    }
    return Status::InvalidArgument(spec.what + ": " +
                                   http::RedirectLimitError(options_.limits.max_redirects).message());
  }

  // The Status for a non-2xx answer.
  Status ErrorFor(const Endpoint& ep, const HttpResult& result, const std::string& what) {
    std::string detail = DecodeRegistryErrors(result.body);
    std::string suffix = detail.empty() ? "" : " (" + detail + ")";
    std::string http = "HTTP " + std::to_string(result.status);
    switch (result.status) {
      case 401:
        if (ep.credential) {
          return Status::PermissionDenied(what + ": registry " + ep.host + " refused the credentials from " +
                                          ep.credential_source + suffix);
        }
        return Status::PermissionDenied(what + ": registry " + ep.host +
                                        " refused anonymous access; set credentialsFile for it in images.registries" +
                                        suffix);
      case 403:
        return Status::PermissionDenied(what + ": registry " + ep.host + " denied access" + suffix);
      case 404:
        return Status::NotFound(what + ": not found on registry " + ep.host + suffix);
      default:
        break;
    }
    if (IsRetryable(result.status) || result.status >= 500) {
      return Status::Unavailable(what + ": registry " + ep.host + " answered " + http + suffix + " after " +
                                 std::to_string(result.attempts) + " attempt(s)");
    }
    return Status::InvalidArgument(what + ": registry " + ep.host + " answered " + http + suffix);
  }

  HttpRegistryOptions options_;
  http::TrustStore system_trust_;
  std::mutex endpoints_mu_;
  std::unordered_map<std::string, std::unique_ptr<Endpoint>> endpoints_;  // never erased: references stay valid
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
  DeadlineWatchdog watchdog_;
};

// --- Public API -----------------------------------------------------------------------------------------------

StatusOr<std::unique_ptr<HttpRegistry>> HttpRegistry::Create(HttpRegistryOptions options) {
  if (options.max_concurrent_requests_per_registry < 1) {
    return Status::InvalidArgument("registry client: max_concurrent_requests_per_registry must be at least 1");
  }
  if (options.max_attempts < 1) return Status::InvalidArgument("registry client: max_attempts must be at least 1");
  if (!options.token_clock) return Status::InvalidArgument("registry client: token_clock must be set");
  if (options.limits.max_redirects < 0 || options.limits.max_referrer_pages < 1) {
    return Status::InvalidArgument("registry client: max_redirects must be >= 0 and max_referrer_pages >= 1");
  }
  auto system_trust = MakeTrustStore("", "(default)");
  if (!system_trust.ok()) return system_trust.status();
  std::vector<policy::RegistryConfig> configs = options.registries;
  auto impl = std::make_unique<Impl>(std::move(options), *system_trust);
  for (const auto& config : configs) {
    if (Status s = impl->AddConfiguredEndpoint(config); !s.ok()) return s;
  }
  return std::unique_ptr<HttpRegistry>(new HttpRegistry(std::move(impl)));
}

HttpRegistry::HttpRegistry(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpRegistry::~HttpRegistry() = default;

namespace {

Status CheckDigestArgument(std::string_view digest, const std::string& what) {
  if (!IsValidSha256Digest(digest)) {
    return Status::InvalidArgument(what + ": \"" + Sanitize(digest, 80) +
                                   "\" is not a digest (expected sha256: and 64 lowercase hex digits)");
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::string> HttpRegistry::ResolveDigest(const ImageReference& ref, Deadline deadline) {
  if (!ref.digest.empty()) {
    if (Status s = CheckDigestArgument(ref.digest, ref.String()); !s.ok()) return s;
    return ref.digest;
  }
  Endpoint& ep = impl_->EndpointFor(ref.registry);
  Impl::CallSpec spec;
  spec.method = "HEAD";
  spec.target = "/v2/" + ref.repository + "/manifests/" + ref.tag;
  spec.accept = std::string(kAcceptAnyManifest);
  spec.repository = ref.repository;
  spec.what = "resolving " + ref.String();
  auto result = impl_->Call(ep, spec, deadline);
  if (!result.ok()) return result.status();
  if (result->status == 404) {
    return Status::NotFound(spec.what + ": tag \"" + ref.tag + "\" does not exist in repository " + ref.repository +
                            " on registry " + ep.host);
  }
  if (result->status != 200) return impl_->ErrorFor(ep, *result, spec.what);
  std::string digest = HeaderValue(result->headers, "Docker-Content-Digest");
  if (IsValidSha256Digest(digest)) return digest;
  // No (usable) Docker-Content-Digest: fetch the manifest and hash it.
  auto manifest = GetManifest(ref, ref.tag, deadline);
  if (!manifest.ok()) return manifest.status();
  return manifest->digest;
}

StatusOr<Manifest> HttpRegistry::GetManifest(const ImageReference& ref, std::string_view tag_or_digest,
                                             Deadline deadline) {
  std::string what = "manifest " + ref.registry + "/" + ref.repository +
                     (tag_or_digest.find(':') != std::string_view::npos ? "@" : ":") + Sanitize(tag_or_digest, 140);
  bool by_digest = tag_or_digest.find(':') != std::string_view::npos;
  if (by_digest) {
    if (Status s = CheckDigestArgument(tag_or_digest, what); !s.ok()) return s;
  } else {
    auto check = ImageReference::Parse("x/y:" + std::string(tag_or_digest));
    if (!check.ok() || tag_or_digest.empty()) {
      return Status::InvalidArgument(what + ": \"" + Sanitize(tag_or_digest, 140) + "\" is not a valid tag or digest");
    }
  }
  Endpoint& ep = impl_->EndpointFor(ref.registry);
  Impl::CallSpec spec;
  spec.target = "/v2/" + ref.repository + "/manifests/" + std::string(tag_or_digest);
  spec.accept = std::string(kAcceptAnyManifest);
  spec.body_limit = impl_->options_.limits.max_manifest_bytes;
  spec.repository = ref.repository;
  spec.what = what;
  auto result = impl_->Call(ep, spec, deadline);
  if (!result.ok()) return result.status();
  if (result->status != 200) return impl_->ErrorFor(ep, *result, what);

  Manifest manifest;
  manifest.digest = Sha256Digest(result->body);
  if (by_digest && manifest.digest != tag_or_digest) {
    return Status::InvalidArgument(what + ": the body served by " + ep.host + " hashes to " + manifest.digest +
                                   ", not the requested digest (altered by the registry or a proxy)");
  }
  std::string header_digest = HeaderValue(result->headers, "Docker-Content-Digest");
  if (!by_digest && IsValidSha256Digest(header_digest) && header_digest != manifest.digest) {
    return Status::InvalidArgument(what + ": registry " + ep.host + " says its digest is " + header_digest +
                                   " but the body hashes to " + manifest.digest);
  }
  auto doc = ParseJson(result->body);
  if (!doc || !doc->is_object()) {
    return Status::InvalidArgument(what + ": the manifest is not a JSON object (or nests deeper than " +
                                   std::to_string(kMaxJsonDepth) + " levels)");
  }
  std::string body_type = doc->contains("mediaType") && (*doc)["mediaType"].is_string()
                              ? (*doc)["mediaType"].get<std::string>()
                              : std::string();
  std::string content_type = ContentTypeWithoutParameters(result->headers);
  bool generic = content_type.empty() || content_type == "application/json" ||
                 content_type == "application/octet-stream" || content_type == "text/plain";
  if (!generic && !body_type.empty() && body_type != content_type) {
    return Status::InvalidArgument(what + ": Content-Type " + Sanitize(content_type, 100) +
                                   " contradicts the manifest's mediaType " + Sanitize(body_type, 100));
  }
  manifest.media_type = generic ? body_type : content_type;
  if (manifest.media_type.empty()) {
    return Status::InvalidArgument(what + ": neither Content-Type nor the manifest's mediaType names its type");
  }
  manifest.body = std::move(result->body);
  return manifest;
}

StatusOr<std::string> HttpRegistry::GetBlob(const ImageReference& ref, std::string_view digest, size_t max_bytes,
                                            Deadline deadline) {
  std::string what = "blob " + Sanitize(digest, 80) + " of " + ref.registry + "/" + ref.repository;
  if (Status s = CheckDigestArgument(digest, what); !s.ok()) return s;
  Endpoint& ep = impl_->EndpointFor(ref.registry);
  Impl::CallSpec spec;
  spec.target = "/v2/" + ref.repository + "/blobs/" + std::string(digest);
  spec.accept = "*/*";
  spec.body_limit = max_bytes;
  spec.repository = ref.repository;
  spec.follow_redirects = true;
  spec.what = what;
  auto result = impl_->Call(ep, spec, deadline);
  if (!result.ok()) return result.status();
  if (result->status != 200) return impl_->ErrorFor(ep, *result, what);
  std::string actual = Sha256Digest(result->body);
  if (actual != digest) {
    return Status::InvalidArgument(what + ": the body hashes to " + actual +
                                   ", not the requested digest (altered by the registry, its storage or a proxy)");
  }
  return std::move(result->body);
}

StatusOr<std::optional<std::string>> HttpRegistry::GetReferrers(const ImageReference& ref, std::string_view digest,
                                                                Deadline deadline) {
  std::string what = "referrers of " + ref.registry + "/" + ref.repository + "@" + Sanitize(digest, 80);
  if (Status s = CheckDigestArgument(digest, what); !s.ok()) return s;
  Endpoint& ep = impl_->EndpointFor(ref.registry);
  auto first_page = ep.UrlFor("/v2/" + ref.repository + "/referrers/" + std::string(digest));
  if (!first_page.ok()) return Status(first_page.status().code(), what + ": " + first_page.status().message());
  Url base = *first_page;
  const std::string origin = base.Origin();
  nlohmann::json merged = nlohmann::json::array();
  const auto& limits = impl_->options_.limits;
  for (int page = 1;; ++page) {
    Impl::CallSpec spec;
    spec.target = base.target;
    spec.accept = std::string(kOciIndex);
    spec.body_limit = limits.max_manifest_bytes;
    spec.repository = ref.repository;
    spec.what = what + (page > 1 ? " (page " + std::to_string(page) + ")" : "");
    auto result = impl_->Call(ep, spec, deadline);
    if (!result.ok()) return result.status();
    if (result->status == 404 && page == 1) return std::optional<std::string>();  // no referrers API
    if (result->status != 200) return impl_->ErrorFor(ep, *result, spec.what);
    auto doc = ParseJson(result->body);
    if (!doc || !doc->is_object() || !doc->contains("manifests") || !(*doc)["manifests"].is_array()) {
      return Status::InvalidArgument(spec.what + ": registry " + ep.host +
                                     " answered with something that is not an OCI index with a manifests array");
    }
    for (auto& descriptor : (*doc)["manifests"]) merged.push_back(std::move(descriptor));
    std::string next = NextLink(result->headers);
    if (next.empty()) break;
    if (page >= limits.max_referrer_pages) {
      return Status::InvalidArgument(what + ": registry " + ep.host + " returns more than " +
                                     std::to_string(limits.max_referrer_pages) + " pages of referrers");
    }
    auto next_url = http::ResolveLocation(base, next);
    if (!next_url.ok() || next_url->Origin() != origin) {
      return Status::InvalidArgument(what + ": the next-page Link of registry " + ep.host +
                                     " is malformed or points to another host");
    }
    base = *next_url;
  }
  nlohmann::json index = {{"schemaVersion", 2}, {"mediaType", kOciIndex}, {"manifests", std::move(merged)}};
  return std::optional<std::string>(index.dump());
}

}  // namespace pipeguard::registry
