#include "pipeguard/kube/config.h"

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

namespace pipeguard::kube {
namespace fs = std::filesystem;

namespace {

StatusOr<std::string> ReadFile(const fs::path& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::NotFound(what + ": cannot read " + path.string() +
                            " (does the file exist and is it readable by this process?)");
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return Status::Unavailable(what + ": error while reading " + path.string());
  return buf.str();
}

std::string Trim(std::string s) {
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

// Standard base64 (RFC 4648), whitespace ignored, padding optional. Returns false on any other character.
bool Base64Decode(std::string_view in, std::string* out) {
  out->clear();
  uint32_t acc = 0;
  int bits = 0;
  bool padding = false;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    } else if (c == '=') {
      padding = true;
      continue;
    } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      continue;
    } else {
      return false;
    }
    if (padding) return false;  // data after '='
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return bits < 6;  // a lone 6-bit group is not valid base64
}

// A named entry ("clusters", "users", "contexts") in a kubeconfig.
std::optional<YAML::Node> FindNamed(const YAML::Node& list, const std::string& name, const char* inner) {
  if (!list || !list.IsSequence()) return std::nullopt;
  for (const auto& entry : list) {
    if (entry.IsMap() && entry["name"] && entry["name"].IsScalar() && entry["name"].as<std::string>() == name) {
      return entry[inner] ? entry[inner] : YAML::Node(YAML::NodeType::Map);
    }
  }
  return std::nullopt;
}

std::string ScalarOr(const YAML::Node& node, const char* key, const std::string& fallback = "") {
  const YAML::Node v = node[key];
  return v && v.IsScalar() ? v.as<std::string>() : fallback;
}

bool LooksLikePem(const std::string& s, const char* label_part) {
  const size_t begin = s.find("-----BEGIN ");
  return begin != std::string::npos && s.find(label_part, begin) != std::string::npos;
}

// Reads `<field>-data` (base64) or `<field>` (a path, relative to `base`); data wins, like kubectl.
// Sets *found when either is present.
StatusOr<std::string> DataOrFile(const YAML::Node& node, const std::string& field, const fs::path& base,
                                 const std::string& where, bool* found) {
  *found = false;
  const std::string data = ScalarOr(node, (field + "-data").c_str());
  if (!data.empty()) {
    *found = true;
    std::string decoded;
    if (!Base64Decode(data, &decoded)) {
      return Status::InvalidArgument(where + ": " + field +
                                     "-data is not valid base64 (encode the PEM file with "
                                     "`base64 -w0 FILE`)");
    }
    return decoded;
  }
  const std::string path = ScalarOr(node, field.c_str());
  if (path.empty()) return std::string();
  *found = true;
  fs::path p(path);
  if (p.is_relative()) p = base / p;
  return ReadFile(p, where + ": " + field);
}

}  // namespace

FileTokenSource::FileTokenSource(fs::path path, const Clock& clock, std::chrono::seconds max_age)
    : path_(std::move(path)), clock_(clock), max_age_(max_age) {}

StatusOr<std::string> FileTokenSource::Token() {
  std::lock_guard lock(mu_);
  const auto now = clock_.Now();
  std::error_code ec_time, ec_size;
  const auto mtime = fs::last_write_time(path_, ec_time);
  const auto size = fs::file_size(path_, ec_size);
  const bool changed = !ec_time && !ec_size && (mtime != mtime_ || size != size_);
  if (have_token_ && !changed && now - read_at_ < max_age_ && !ec_time) return token_;

  auto text = ReadFile(path_, "bearer token file");
  std::string token = text.ok() ? Trim(*text) : std::string();
  if (!text.ok() || token.empty()) {
    const Status error =
        text.ok() ? Status::InvalidArgument("bearer token file " + path_.string() + " is empty") : text.status();
    if (have_token_ && now - read_at_ < 2 * max_age_) {
      spdlog::warn("kube: re-reading the token file failed, keeping the previous token: {}", error.message());
      return token_;
    }
    return error;
  }
  token_ = std::move(token);
  mtime_ = mtime;
  size_ = size;
  read_at_ = now;
  have_token_ = true;
  return token_;
}

std::string DefaultKubeconfigPath() {
  if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    std::string list(env);
    size_t start = 0;
    while (start <= list.size()) {
      size_t end = list.find(':', start);
      if (end == std::string::npos) end = list.size();
      if (end > start) return list.substr(start, end - start);
      start = end + 1;
    }
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return (fs::path(home) / ".kube" / "config").string();
  }
  return "";
}

StatusOr<ClientConfig> ParseKubeconfig(const std::string& yaml_text, const std::string& path,
                                       const KubeconfigOptions& options) {
  const std::string file = "kubeconfig " + path;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(file + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
  if (!root.IsMap()) return Status::InvalidArgument(file + ": expected a kubeconfig mapping (kind: Config)");
  const fs::path base = fs::path(path).has_parent_path() ? fs::path(path).parent_path() : fs::path(".");

  try {
    std::string context_name = options.context.empty() ? ScalarOr(root, "current-context") : options.context;
    if (context_name.empty()) {
      return Status::InvalidArgument(file +
                                     ": current-context is not set; set it (kubectl config use-context NAME) "
                                     "or name a context explicitly");
    }
    const auto found_context = FindNamed(root["contexts"], context_name, "context");
    if (!found_context) return Status::NotFound(file + ": context \"" + context_name + "\" is not in contexts[]");
    const YAML::Node context = *found_context;
    const std::string cluster_name = ScalarOr(context, "cluster");
    const std::string user_name = ScalarOr(context, "user");
    const std::string ctx_where = file + ": context \"" + context_name + "\"";
    if (cluster_name.empty()) return Status::InvalidArgument(ctx_where + ": context.cluster is required");

    ClientConfig config;
    config.source = file + " (context " + context_name + ")";
    config.default_namespace = ScalarOr(context, "namespace", "default");

    const auto found_cluster = FindNamed(root["clusters"], cluster_name, "cluster");
    const std::string cluster_where = file + ": cluster \"" + cluster_name + "\"";
    if (!found_cluster) return Status::NotFound(ctx_where + ": cluster \"" + cluster_name + "\" is not in clusters[]");
    const YAML::Node cluster = *found_cluster;
    config.server = ScalarOr(cluster, "server");
    if (config.server.empty()) return Status::InvalidArgument(cluster_where + ": server is required");
    if (!config.server.starts_with("https://")) {
      return Status::InvalidArgument(cluster_where + ": server \"" + config.server +
                                     "\" must be an https:// URL (plain HTTP to the API server is not supported)");
    }
    config.tls_server_name = ScalarOr(cluster, "tls-server-name");
    bool has_ca = false;
    auto ca = DataOrFile(cluster, "certificate-authority", base, cluster_where, &has_ca);
    if (!ca.ok()) return ca.status();
    if (has_ca && !LooksLikePem(*ca, "CERTIFICATE")) {
      return Status::InvalidArgument(cluster_where + ": certificate-authority(-data) is not a PEM certificate");
    }
    config.ca_pem = std::move(ca).value();
    const bool insecure = ScalarOr(cluster, "insecure-skip-tls-verify") == "true";
    if (insecure) {
      if (!options.allow_insecure_skip_tls_verify) {
        return Status::InvalidArgument(cluster_where +
                                       ": insecure-skip-tls-verify is true; pipeguard refuses to talk to an "
                                       "unverified API server unless explicitly allowed. Set "
                                       "certificate-authority(-data) instead.");
      }
      if (has_ca) {
        return Status::InvalidArgument(cluster_where +
                                       ": insecure-skip-tls-verify and certificate-authority are both set; choose one");
      }
      config.insecure_skip_tls_verify = true;
    }

    if (!user_name.empty()) {
      const auto found_user = FindNamed(root["users"], user_name, "user");
      const std::string user_where = file + ": user \"" + user_name + "\"";
      if (!found_user) return Status::NotFound(ctx_where + ": user \"" + user_name + "\" is not in users[]");
      const YAML::Node user = *found_user;
      if (user["exec"] || user["auth-provider"]) {
        return Status::InvalidArgument(user_where +
                                       ": exec and auth-provider credential plugins are not supported; "
                                       "use a client certificate, token or tokenFile");
      }
      if (user["username"] || user["password"]) {
        return Status::InvalidArgument(user_where +
                                       ": basic authentication (username/password) is not supported "
                                       "by Kubernetes any more; use a client certificate or token");
      }
      bool has_cert = false, has_key = false;
      auto cert = DataOrFile(user, "client-certificate", base, user_where, &has_cert);
      if (!cert.ok()) return cert.status();
      auto key = DataOrFile(user, "client-key", base, user_where, &has_key);
      if (!key.ok()) return key.status();
      if (has_cert != has_key) {
        return Status::InvalidArgument(user_where + ": " +
                                       (has_cert ? "client-certificate is set without client-key"
                                                 : "client-key is set without client-certificate") +
                                       "; both are needed for a client certificate");
      }
      if (has_cert) {
        if (!LooksLikePem(*cert, "CERTIFICATE")) {
          return Status::InvalidArgument(user_where + ": client-certificate(-data) is not a PEM certificate");
        }
        if (!LooksLikePem(*key, "PRIVATE KEY")) {
          return Status::InvalidArgument(user_where + ": client-key(-data) is not a PEM private key");
        }
        config.client_cert_pem = std::move(cert).value();
        config.client_key_pem = std::move(key).value();
      }
      const std::string token = ScalarOr(user, "token");
      const std::string token_file = ScalarOr(user, "tokenFile");
      if (!token.empty()) {
        config.token = std::make_shared<StaticTokenSource>(token);
      } else if (!token_file.empty()) {
        fs::path p(token_file);
        if (p.is_relative()) p = base / p;
        auto source = std::make_shared<FileTokenSource>(p);
        auto first = source->Token();
        if (!first.ok()) return Status(first.status().code(), user_where + ": tokenFile: " + first.status().message());
        config.token = std::move(source);
      }
    }
    return config;
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(file + ":" + std::to_string(e.mark.line + 1) + ": unexpected structure: " + e.msg);
  }
}

StatusOr<ClientConfig> LoadKubeconfig(const KubeconfigOptions& options) {
  const std::string path = options.path.empty() ? DefaultKubeconfigPath() : options.path;
  if (path.empty()) {
    return Status::NotFound("no kubeconfig: set KUBECONFIG or HOME, or pass the path explicitly");
  }
  auto text = ReadFile(path, "kubeconfig");
  if (!text.ok()) return text.status();
  return ParseKubeconfig(*text, path, options);
}

StatusOr<ClientConfig> LoadInClusterConfig(const InClusterOptions& options) {
  std::string host = options.host, port = options.port;
  if (host.empty()) {
    const char* h = std::getenv("KUBERNETES_SERVICE_HOST");
    host = h != nullptr ? h : "";
  }
  if (port.empty()) {
    const char* p = std::getenv("KUBERNETES_SERVICE_PORT");
    port = p != nullptr ? p : "";
  }
  if (host.empty() || port.empty()) {
    return Status::FailedPrecondition(
        "in-cluster configuration: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set (is this "
        "running in a pod?)");
  }
  if (port.find_first_not_of("0123456789") != std::string::npos) {
    return Status::InvalidArgument("in-cluster configuration: KUBERNETES_SERVICE_PORT \"" + port +
                                   "\" is not a port number");
  }
  ClientConfig config;
  config.source = "in-cluster service account (" + options.token_path + ")";
  const bool ipv6 = host.find(':') != std::string::npos;
  config.server = "https://" + (ipv6 ? "[" + host + "]" : host) + ":" + port;
  auto ca = ReadFile(options.ca_path, "in-cluster CA");
  if (!ca.ok()) return ca.status();
  if (!LooksLikePem(*ca, "CERTIFICATE")) {
    return Status::InvalidArgument("in-cluster CA " + options.ca_path + " is not a PEM certificate");
  }
  config.ca_pem = std::move(ca).value();
  auto token = std::make_shared<FileTokenSource>(
      options.token_path, options.clock != nullptr ? *options.clock : SystemClock(), options.token_max_age);
  auto first = token->Token();
  if (!first.ok()) return Status(first.status().code(), "in-cluster token: " + first.status().message());
  config.token = std::move(token);
  std::error_code ec;
  if (fs::exists(options.namespace_path, ec)) {
    auto ns = ReadFile(options.namespace_path, "in-cluster namespace");
    if (ns.ok() && !Trim(*ns).empty()) config.default_namespace = Trim(*ns);
  }
  return config;
}

StatusOr<ClientConfig> LoadDefaultConfig(const KubeconfigOptions& options) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  if (options.path.empty() && host != nullptr && *host != '\0') return LoadInClusterConfig();
  return LoadKubeconfig(options);
}

}  // namespace pipeguard::kube
