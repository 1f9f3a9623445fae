// Where the API server is and how to authenticate: from a kubeconfig file or from the in-cluster service account.
//
// Errors name the file and the field and say how to fix it ("kubeconfig /x/config: user \"dev\": client-key-data is
// not valid base64"). Secret material (keys, tokens) is held in memory only and never appears in messages or logs.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "pipeguard/base/status.h"
#include "pipeguard/kube/clock.h"

namespace pipeguard::kube {

// Supplies the bearer token for each request. Thread-safe.
class TokenSource {
 public:
  virtual ~TokenSource() = default;
  // The current token. An error means no usable token (e.g. the file vanished); the request then fails with it.
  virtual StatusOr<std::string> Token() = 0;
};

class StaticTokenSource final : public TokenSource {
 public:
  explicit StaticTokenSource(std::string token) : token_(std::move(token)) {}
  StatusOr<std::string> Token() override { return token_; }

 private:
  const std::string token_;
};

// Reads a token file (a projected service-account token, kubeconfig tokenFile) and re-reads it when its
// modification time or size changes, and at least every `max_age` (kubelet rotates projected tokens by atomically
// swapping a symlink, which can keep the mtime). If a re-read fails after a successful one, the last good token is
// kept (and the failure is logged without the token) until `max_age` has passed twice.
class FileTokenSource final : public TokenSource {
 public:
  FileTokenSource(std::filesystem::path path, const Clock& clock = SystemClock(),
                  std::chrono::seconds max_age = std::chrono::seconds(60));
  StatusOr<std::string> Token() override;
  const std::filesystem::path& path() const { return path_; }

 private:
  const std::filesystem::path path_;
  const Clock& clock_;
  const std::chrono::seconds max_age_;
  std::mutex mu_;
  std::string token_;
  std::filesystem::file_time_type mtime_{};
  uintmax_t size_ = 0;
  std::chrono::system_clock::time_point read_at_{};
  bool have_token_ = false;
};

// Everything HttpKubeClient needs. Copyable; the token source is shared.
struct ClientConfig {
  std::string server;                     // "https://host:port[/path]"
  std::string ca_pem;                     // PEM bundle to trust; empty: the system trust store
  std::string tls_server_name;            // verify the server certificate for this name instead of the URL host
  bool insecure_skip_tls_verify = false;  // only ever true when the loader was told to allow it
  std::string client_cert_pem;            // with client_key_pem: mTLS client certificate (chain allowed)
  std::string client_key_pem;             // secret
  std::shared_ptr<TokenSource> token;     // bearer token, or null
  std::string default_namespace = "default";
  std::string source;  // "kubeconfig /path (context x)" or "in-cluster": for messages
};

struct KubeconfigOptions {
  std::string path;                             // empty: the first file in $KUBECONFIG, else $HOME/.kube/config
  std::string context;                          // empty: current-context
  bool allow_insecure_skip_tls_verify = false;  // otherwise insecure-skip-tls-verify: true is an error
};

// The path LoadKubeconfig uses when options.path is empty ("" when neither KUBECONFIG nor HOME is set).
std::string DefaultKubeconfigPath();

// Reads and parses a kubeconfig file; relative paths inside it are resolved against the file's directory.
StatusOr<ClientConfig> LoadKubeconfig(const KubeconfigOptions& options = {});

// Parses kubeconfig text. `path` names the file in messages and anchors relative paths (its parent directory).
StatusOr<ClientConfig> ParseKubeconfig(const std::string& yaml_text, const std::string& path,
                                       const KubeconfigOptions& options = {});

struct InClusterOptions {
  // Empty: from the environment variables KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT.
  std::string host;
  std::string port;
  std::string token_path = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string ca_path = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::string namespace_path = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
  const Clock* clock = nullptr;  // for the token source; null: SystemClock()
  std::chrono::seconds token_max_age{60};
};

// In-cluster configuration: the service account token (re-read on rotation), its CA and namespace.
StatusOr<ClientConfig> LoadInClusterConfig(const InClusterOptions& options = {});

// In-cluster when KUBERNETES_SERVICE_HOST is set, otherwise the kubeconfig (options.path or the default).
StatusOr<ClientConfig> LoadDefaultConfig(const KubeconfigOptions& options = {});

}  // namespace pipeguard::kube
