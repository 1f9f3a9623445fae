// Registry authentication building blocks: WWW-Authenticate challenges (RFC 7235) and dockerconfigjson
// credentials (docs: ../shared/reference/cosign-signatures.md §7.3).
//
// All functions are pure and thread-safe. Credentials are secret: nothing here puts a password, an auth string
// or a token into a Status message, and callers must not log them either.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/base/status.h"

namespace pipeguard::registry {

// One challenge of a WWW-Authenticate header, e.g.
//   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push"
// The scheme is lowercased ("bearer", "basic"); parameter names are lowercased; values are unquoted and
// unescaped exactly as sent.
struct AuthChallenge {
  std::string scheme;
  std::map<std::string, std::string> params;

  // The parameter's value, or "" when absent.
  std::string Param(std::string_view name) const;
};

// Parses a WWW-Authenticate header value into its challenges (several may be present, separated by commas;
// quoted strings may contain commas and escaped quotes). InvalidArgument names the offending position.
StatusOr<std::vector<AuthChallenge>> ParseWwwAuthenticate(std::string_view header);

// A username/password pair for one registry (from `.auths[host].auth` or `username`/`password`).
struct BasicCredential {
  std::string username;
  std::string password;  // secret
  // "Basic base64(username:password)", the value of an Authorization header.
  std::string AuthorizationHeader() const;
};

// The `auths` of a Docker config file (~/.docker/config.json or a Kubernetes secret's `.dockerconfigjson`), or
// a legacy `.dockercfg` map of hosts. Immutable once parsed; thread-safe.
class DockerConfig {
 public:
  // `source` (a file path, or "secret ns/name") only appears in error messages. Entries whose `auth` is not
  // base64 of "user:password" are errors naming the registry key (never the value).
  static StatusOr<DockerConfig> Parse(std::string_view json, std::string_view source);
  static StatusOr<DockerConfig> LoadFile(const std::string& path);

  // The credential for a registry host ("host[:port]" as in image references), matching keys like Docker does:
  // scheme and path are ignored ("https://index.docker.io/v1/" is Docker Hub), Docker Hub's aliases
  // (docker.io, index.docker.io, registry-1.docker.io) are one registry, and host names compare case-insensitively.
  std::optional<BasicCredential> Find(std::string_view registry_host) const;

  const std::string& source() const { return source_; }
  size_t size() const { return entries_.size(); }

 private:
  std::string source_;
  std::map<std::string, BasicCredential> entries_;  // keyed by NormalizeRegistryHost(key)
};

// "https://Index.Docker.io/v1/" -> "index.docker.io"; "docker.io" -> "index.docker.io"; "Host:5000/" -> "host:5000".
std::string NormalizeRegistryHost(std::string_view key);

}  // namespace pipeguard::registry
