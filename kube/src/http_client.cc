#include "pipeguard/kube/http_client.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "pipeguard/http/client.h"
#include "pipeguard/kube/errors.h"
#include "pipeguard/kube/watch_stream.h"

namespace pipeguard::kube {
namespace {

// The last certificate verification failure on this thread (the TLS handshake runs on the requesting thread).
thread_local std::string tls_verify_error;

int RecordVerifyError(int ok, X509_STORE_CTX* ctx) {
  if (ok == 0) tls_verify_error = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  return ok;
}

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyDeleter>;

std::vector<X509Ptr> ReadCertificates(const std::string& pem) {
  std::vector<X509Ptr> certs;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return certs;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) certs.emplace_back(cert);
  BIO_free(bio);
  ERR_clear_error();  // the loop ends with a "no start line" error
  return certs;
}

KeyPtr ReadKey(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return nullptr;
  KeyPtr key(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  ERR_clear_error();
  return key;
}

bool IsIpAddress(const std::string& host) {
  return host.find(':') != std::string::npos || host.find_first_not_of("0123456789.") == std::string::npos;
}

std::string Query(std::initializer_list<std::pair<const char*, std::string>> params) {
  std::string q;
  for (const auto& [key, value] : params) {
    if (value.empty()) continue;
    q += q.empty() ? "?" : "&";
    q += key;
    q += "=";
    q += http::PercentEncode(value);
  }
  return q;
}

class HttpKubeClient final : public KubeClient {
 public:
  HttpKubeClient(const ClientConfig& config, HttpClientOptions options) : config_(config), options_(options) {}

  Status Init() {
    const std::string& where = config_.source;
    auto server = http::Url::Parse(config_.server);
    if (!server.ok()) return Status::InvalidArgument(where + ": server " + server.status().message());
    host_ = server->host;
    port_ = server->port;
    origin_ = server->Origin();
    base_path_ = server->target;
    while (!base_path_.empty() && base_path_.back() == '/') base_path_.pop_back();

    if (!config_.ca_pem.empty()) {
      ca_certs_ = ReadCertificates(config_.ca_pem);
      if (ca_certs_.empty()) return Status::InvalidArgument(where + ": the CA bundle holds no PEM certificate");
    }
    if (!config_.client_cert_pem.empty() || !config_.client_key_pem.empty()) {
      auto chain = ReadCertificates(config_.client_cert_pem);
      if (chain.empty()) return Status::InvalidArgument(where + ": the client certificate is not valid PEM");
      client_key_ = ReadKey(config_.client_key_pem);
      if (!client_key_) return Status::InvalidArgument(where + ": the client key is not a valid PEM private key");
      if (X509_check_private_key(chain.front().get(), client_key_.get()) != 1) {
        ERR_clear_error();
        return Status::InvalidArgument(where + ": the client key does not match the client certificate");
      }
      client_cert_ = std::move(chain.front());
      for (size_t i = 1; i < chain.size(); ++i) client_chain_.push_back(std::move(chain[i]));
    }
    // Build one connection now so configuration errors surface at construction.
    auto probe = NewConnection(options_.read_timeout);
    if (!probe) return Status::InvalidArgument(where + ": could not set up TLS with this configuration");
    Release(std::move(probe));
    return Status::Ok();
  }

  StatusOr<Json> Get(const Resource& resource, std::string_view ns, std::string_view name) override {
    if (Status s = CheckNamespace(resource, ns, "GET"); !s.ok()) return s;
    return DoJson("GET", resource.ObjectPath(ns, name), "", "");
  }

  StatusOr<ListPage> List(const Resource& resource, std::string_view ns, const ListOptions& options) override {
    const std::string path =
        resource.CollectionPath(ns) + Query({{"labelSelector", options.label_selector},
                                             {"fieldSelector", options.field_selector},
                                             {"limit", options.limit > 0 ? std::to_string(options.limit) : ""},
                                             {"continue", options.continue_token},
                                             {"resourceVersion", options.resource_version}});
    auto list = DoJson("GET", path, "", "");
    if (!list.ok()) return list.status();
    ListPage page;
    const Json& meta = list->contains("metadata") ? (*list)["metadata"] : Json::object();
    page.resource_version = meta.value("resourceVersion", "");
    page.continue_token = meta.value("continue", "");
    std::string kind = list->value("kind", "");
    if (kind.size() > 4 && kind.ends_with("List")) kind.resize(kind.size() - 4);
    if (kind.empty()) kind = resource.kind;
    const std::string api_version = list->value("apiVersion", resource.ApiVersion());
    auto items = list->find("items");
    if (items != list->end() && items->is_array()) {
      page.items.reserve(items->size());
      for (auto& item : *items) {
        if (!item.is_object()) continue;
        if (!item.contains("apiVersion")) item["apiVersion"] = api_version;
        if (!item.contains("kind")) item["kind"] = kind;
        page.items.push_back(std::move(item));
      }
    }
    return page;
  }

  Status Watch(const Resource& resource, std::string_view ns, const WatchOptions& options,
               const WatchCallback& callback, std::stop_token stop) override {
    const std::string path =
        resource.CollectionPath(ns) + Query({{"watch", "true"},
                                             {"allowWatchBookmarks", options.allow_bookmarks ? "true" : ""},
                                             {"resourceVersion", options.resource_version},
                                             {"labelSelector", options.label_selector},
                                             {"fieldSelector", options.field_selector},
                                             {"timeoutSeconds", std::to_string(std::max(1, options.timeout_seconds))}});
    const std::string context = "WATCH " + base_path_ + path;
    if (stop.stop_requested()) return Status::Ok();
    auto token = BearerToken(context);
    if (!token.ok()) return token.status();
    auto conn = NewConnection(std::chrono::seconds(std::max(1, options.timeout_seconds)) + std::chrono::seconds(30));
    if (!conn) return MakeApiError(ErrorReason::kUnavailable, 0, context, "could not set up TLS");
    conn->set_keep_alive(false);

    httplib::Request req = BaseRequest("GET", path, *token);
    WatchLineDecoder decoder(options_.max_watch_line_bytes);
    int http_status = 0;
    std::string error_body;
    Status decode_status;
    bool callback_stopped = false;
    req.response_handler = [&](const httplib::Response& r) {
      http_status = r.status;
      return true;
    };
    req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
      if (stop.stop_requested()) return false;
      if (http_status != 200) {
        if (error_body.size() < 64 * 1024) error_body.append(data, std::min<size_t>(n, 64 * 1024));
        return true;
      }
      bool keep_going = true;
      decode_status = decoder.Feed(std::string_view(data, n), callback, &keep_going);
      if (!decode_status.ok()) return false;
      if (!keep_going) {
        callback_stopped = true;
        return false;
      }
      return true;
    };

    // Stopping: shut the socket down from the stopping thread (httplib's stop() is meant for that). The request
    // may not have opened its socket yet when the stop arrives, so keep trying until the request has returned.
    std::atomic<int> phase{0};  // 0 before, 1 during, 2 after the request
    const std::thread::id watch_thread = std::this_thread::get_id();
    httplib::SSLClient* raw = conn.get();
    std::stop_callback on_stop(stop, [&phase, raw, watch_thread] {
      if (std::this_thread::get_id() == watch_thread) return;  // stop requested before the request started
      for (int i = 0; i < 2000 && phase.load() != 2; ++i) {
        if (phase.load() == 1) raw->stop();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
    httplib::Response res;
    httplib::Error error = httplib::Error::Success;
    phase.store(1);
    if (!stop.stop_requested()) {
      tls_verify_error.clear();
      conn->send(req, res, error);
    }
    phase.store(2);

    if (stop.stop_requested() || callback_stopped) return Status::Ok();
    if (!decode_status.ok()) return MakeApiError(ErrorReason::kInvalidResponse, 0, context, decode_status.message());
    if (http_status != 0 && http_status != 200) return StatusFromHttpResponse(http_status, error_body, context);
    if (error != httplib::Error::Success) return TransportError(error, context);
    return Status::Ok();
  }

  StatusOr<Json> Create(const Resource& resource, std::string_view ns, const Json& object) override {
    const std::string n = NamespaceFor(resource, ns, object);
    if (Status s = CheckNamespace(resource, n, "POST"); !s.ok()) return s;
    return DoJson("POST", resource.CollectionPath(n), object.dump(), "application/json");
  }

  StatusOr<Json> Update(const Resource& resource, std::string_view ns, const Json& object,
                        std::string_view subresource) override {
    const std::string n = NamespaceFor(resource, ns, object);
    if (Status s = CheckNamespace(resource, n, "PUT"); !s.ok()) return s;
    const std::string name = NameOf(object);
    if (name.empty()) return Status::InvalidArgument("PUT " + resource.DisplayName() + ": metadata.name is required");
    return DoJson("PUT", resource.ObjectPath(n, name, subresource), object.dump(), "application/json");
  }

  StatusOr<Json> Apply(const Resource& resource, std::string_view ns, std::string_view name, const Json& object,
                       const ApplyOptions& options, std::string_view subresource) override {
    const std::string n = NamespaceFor(resource, ns, object);
    if (Status s = CheckNamespace(resource, n, "PATCH"); !s.ok()) return s;
    if (options.field_manager.empty()) {
      return Status::InvalidArgument("apply " + resource.DisplayName() + " " + std::string(name) +
                                     ": ApplyOptions::field_manager is required");
    }
    const std::string path = resource.ObjectPath(n, name, subresource) +
                             Query({{"fieldManager", options.field_manager}, {"force", options.force ? "true" : ""}});
    // JSON is valid YAML, so the object goes as JSON text with the apply-patch content type.
    return DoJson("PATCH", path, object.dump(), "application/apply-patch+yaml");
  }

  StatusOr<Json> Patch(const Resource& resource, std::string_view ns, std::string_view name, PatchType type,
                       const Json& patch, std::string_view subresource, std::string_view field_manager) override {
    if (Status s = CheckNamespace(resource, ns, "PATCH"); !s.ok()) return s;
    const char* content_type = type == PatchType::kMerge  ? "application/merge-patch+json"
                               : type == PatchType::kJson ? "application/json-patch+json"
                                                          : "application/strategic-merge-patch+json";
    const std::string path =
        resource.ObjectPath(ns, name, subresource) + Query({{"fieldManager", std::string(field_manager)}});
    return DoJson("PATCH", path, patch.dump(), content_type);
  }

  Status Delete(const Resource& resource, std::string_view ns, std::string_view name,
                const DeleteOptions& options) override {
    if (Status s = CheckNamespace(resource, ns, "DELETE"); !s.ok()) return s;
    Json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
    if (!options.propagation_policy.empty()) body["propagationPolicy"] = options.propagation_policy;
    if (!options.precondition_uid.empty()) body["preconditions"]["uid"] = options.precondition_uid;
    if (!options.precondition_resource_version.empty()) {
      body["preconditions"]["resourceVersion"] = options.precondition_resource_version;
    }
    if (options.grace_period_seconds) body["gracePeriodSeconds"] = *options.grace_period_seconds;
    auto result = DoJson("DELETE", resource.ObjectPath(ns, name), body.dump(), "application/json");
    return result.ok() ? Status::Ok() : result.status();
  }

 private:
  static std::string NameOf(const Json& object) {
    auto meta = object.find("metadata");
    if (meta == object.end() || !meta->is_object()) return "";
    return meta->value("name", "");
  }

  static std::string NamespaceFor(const Resource& resource, std::string_view ns, const Json& object) {
    if (!resource.namespaced || !ns.empty()) return std::string(ns);
    auto meta = object.find("metadata");
    return meta != object.end() && meta->is_object() ? meta->value("namespace", "") : "";
  }

  static Status CheckNamespace(const Resource& resource, std::string_view ns, const char* verb) {
    if (resource.namespaced && ns.empty()) {
      return Status::InvalidArgument(std::string(verb) + " " + resource.DisplayName() +
                                     ": a namespace is required for this namespaced resource");
    }
    return Status::Ok();
  }

  StatusOr<std::string> BearerToken(const std::string& context) {
    if (!config_.token) return std::string();
    auto token = config_.token->Token();
    if (!token.ok()) return MakeApiError(ErrorReason::kUnauthorized, 0, context, token.status().message());
    return token;
  }

  httplib::Request BaseRequest(const char* method, const std::string& path, const std::string& token) const {
    httplib::Request req;
    req.method = method;
    req.path = base_path_ + path;
    req.headers.emplace("Accept", "application/json");
    req.headers.emplace("User-Agent", options_.user_agent);
    if (!token.empty()) req.headers.emplace("Authorization", "Bearer " + token);
    return req;
  }

  Status TransportError(httplib::Error error, const std::string& context) const {
    std::string detail;
    switch (error) {
      case httplib::Error::Connection:
        detail = "cannot connect to " + config_.server + " (is the API server running and reachable?)";
        break;
      case httplib::Error::SSLConnection:
      case httplib::Error::SSLServerVerification:
        detail = "TLS handshake with " + config_.server + " failed";
        if (!tls_verify_error.empty()) {
          detail += ": server certificate not trusted (" + tls_verify_error + "); check the CA in " + config_.source;
        } else {
          detail += " (wrong CA, rejected client certificate, or not a TLS server)";
        }
        break;
      case httplib::Error::Read:
        detail = "reading the response failed (connection closed or read timed out)";
        break;
      case httplib::Error::Write:
        detail = "sending the request failed (connection closed or write timed out)";
        break;
      default:
        detail = httplib::to_string(error);
        break;
    }
    return MakeApiError(ErrorReason::kUnavailable, 0, context, detail);
  }

  struct RawResponse {
    int status = 0;
    std::string body;
  };

  StatusOr<RawResponse> Do(const char* method, const std::string& path, const std::string& body,
                           const std::string& content_type) {
    const std::string context = std::string(method) + " " + base_path_ + path;
    auto token = BearerToken(context);
    if (!token.ok()) return token.status();
    httplib::Request req = BaseRequest(method, path, *token);
    if (!content_type.empty()) {
      req.headers.emplace("Content-Type", content_type);
      req.body = body;
    }
    RawResponse out;
    http::CappedBody response_body(options_.max_response_bytes);
    req.response_handler = [&](const httplib::Response& r) {
      out.status = r.status;
      return true;
    };
    req.content_receiver = response_body.Receiver();
    auto conn = Acquire();
    if (!conn) return MakeApiError(ErrorReason::kUnavailable, 0, context, "could not set up TLS");
    httplib::Response res;
    httplib::Error error = httplib::Error::Success;
    tls_verify_error.clear();
    const bool sent = conn->send(req, res, error);
    if (response_body.over_limit()) {
      return MakeApiError(ErrorReason::kInvalidResponse, out.status, context,
                          "response larger than " + std::to_string(options_.max_response_bytes) + " bytes");
    }
    if (!sent || error != httplib::Error::Success) return TransportError(error, context);  // conn dropped
    Release(std::move(conn));
    out.body = std::move(response_body.text());
    if (out.status < 200 || out.status >= 300) return StatusFromHttpResponse(out.status, out.body, context);
    return out;
  }

  StatusOr<Json> DoJson(const char* method, const std::string& path, const std::string& body,
                        const std::string& content_type) {
    auto raw = Do(method, path, body, content_type);
    if (!raw.ok()) return raw.status();
    Json parsed = Json::parse(raw->body, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      return MakeApiError(ErrorReason::kInvalidResponse, raw->status, std::string(method) + " " + base_path_ + path,
                          "the response body is not a JSON object");
    }
    return parsed;
  }

  std::unique_ptr<httplib::SSLClient> NewConnection(std::chrono::seconds read_timeout) const {
    std::unique_ptr<httplib::SSLClient> conn;
    if (client_cert_) {
      conn = std::make_unique<httplib::SSLClient>(host_, port_, client_cert_.get(), client_key_.get());
    } else {
      conn = std::make_unique<httplib::SSLClient>(host_, port_);
    }
    if (!conn->is_valid()) return nullptr;
    SSL_CTX* ctx = conn->ssl_context();
    http::SetMinimumTlsVersion(ctx);
    for (const auto& extra : client_chain_) {
      if (SSL_CTX_add1_chain_cert(ctx, extra.get()) != 1) return nullptr;
    }
    // We verify in OpenSSL's handshake ourselves (httplib's own verification would add the system trust store).
    conn->enable_server_certificate_verification(false);
    if (config_.insecure_skip_tls_verify) {
      SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    } else {
      if (!ca_certs_.empty()) {
        X509_STORE* store = X509_STORE_new();
        for (const auto& cert : ca_certs_) X509_STORE_add_cert(store, cert.get());
        SSL_CTX_set_cert_store(ctx, store);  // takes ownership
      } else {
        SSL_CTX_set_default_verify_paths(ctx);
      }
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, RecordVerifyError);
      X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
      const std::string& name = config_.tls_server_name.empty() ? host_ : config_.tls_server_name;
      const int ok = IsIpAddress(name) ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                                       : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
      if (ok != 1) return nullptr;
    }
    conn->set_connection_timeout(options_.connect_timeout);
    conn->set_read_timeout(read_timeout);
    conn->set_write_timeout(options_.write_timeout);
    http::SetConnectionDefaults(*conn);
    return conn;
  }

  std::unique_ptr<httplib::SSLClient> Acquire() {
    if (auto conn = pool_.TakeIdle(origin_)) return conn;
    return NewConnection(options_.read_timeout);
  }

  void Release(std::unique_ptr<httplib::SSLClient> conn) { pool_.GiveBack(origin_, std::move(conn)); }

  const ClientConfig config_;
  const HttpClientOptions options_;
  std::string host_;
  int port_ = 443;
  std::string base_path_;
  std::vector<X509Ptr> ca_certs_;
  X509Ptr client_cert_;
  std::vector<X509Ptr> client_chain_;
  KeyPtr client_key_;

  std::string origin_;  // the pool's key: one API server per client
  http::BasicConnectionPool<httplib::SSLClient> pool_{options_.max_idle_connections};
};

}  // namespace

StatusOr<std::unique_ptr<KubeClient>> NewHttpKubeClient(const ClientConfig& config, HttpClientOptions options) {
  if (!config.server.starts_with("https://")) {
    return Status::InvalidArgument(config.source + ": server \"" + config.server + "\" must be an https:// URL");
  }
  // Shutting down a TLS connection from another thread (to stop a watch) makes the next SSL write raise SIGPIPE,
  // which would kill the process; like most network servers we ignore it (only if nobody installed a handler).
  static const bool sigpipe_ignored = [] {
    struct sigaction current {};
    if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) std::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)sigpipe_ignored;
  auto client = std::make_unique<HttpKubeClient>(config, options);
  if (Status s = client->Init(); !s.ok()) return s;
  return std::unique_ptr<KubeClient>(std::move(client));
}

}  // namespace pipeguard::kube
