// WWW-Authenticate parsing and dockerconfigjson credentials (contract in pipeguard/registry/auth.h).
#include "pipeguard/registry/auth.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pipeguard/base/base64.h"

namespace pipeguard::registry {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool IsTokenChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

}  // namespace

std::string AuthChallenge::Param(std::string_view name) const {
  auto it = params.find(Lower(name));
  return it == params.end() ? std::string() : it->second;
}

StatusOr<std::vector<AuthChallenge>> ParseWwwAuthenticate(std::string_view s) {
  const size_t n = s.size();
  size_t i = 0;
  auto error = [&](const std::string& what) {
    return Status::InvalidArgument("WWW-Authenticate header: " + what + " at offset " + std::to_string(i) +
                                   " (expected: scheme key=\"value\", key=value, ...)");
  };
  auto skip_spaces = [&] {
    while (i < n && IsSpace(s[i])) ++i;
  };
  auto read_token = [&] {
    size_t start = i;
    while (i < n && IsTokenChar(s[i])) ++i;
    return s.substr(start, i - start);
  };

  std::vector<AuthChallenge> out;
  while (true) {
    while (i < n && (IsSpace(s[i]) || s[i] == ',')) ++i;
    if (i == n) break;
    std::string_view scheme = read_token();
    if (scheme.empty()) return error(std::string("unexpected character '") + s[i] + "'");
    AuthChallenge challenge;
    challenge.scheme = Lower(scheme);
    // Parameters follow until a token that is not followed by '=' starts the next challenge.
    while (true) {
      size_t param_start = i;
      while (i < n && (IsSpace(s[i]) || s[i] == ',')) ++i;
      if (i == n) break;
      std::string_view name = read_token();
      if (name.empty()) return error(std::string("unexpected character '") + s[i] + "'");
      skip_spaces();
      if (i == n || s[i] != '=') {
        i = param_start;  // the next challenge's scheme
        break;
      }
      ++i;
      skip_spaces();
      std::string value;
      if (i < n && s[i] == '"') {
        ++i;
        bool closed = false;
        while (i < n) {
          char c = s[i++];
          if (c == '\\') {
            if (i == n) break;
            value.push_back(s[i++]);
          } else if (c == '"') {
            closed = true;
            break;
          } else {
            value.push_back(c);
          }
        }
        if (!closed) return error("unterminated quoted string for parameter \"" + std::string(name) + "\"");
      } else {
        // Lenient: unquoted values run to the next comma or space (some servers send bare URLs).
        size_t start = i;
        while (i < n && s[i] != ',' && !IsSpace(s[i])) ++i;
        value = std::string(s.substr(start, i - start));
      }
      challenge.params[Lower(name)] = std::move(value);
      skip_spaces();
      if (i < n && s[i] != ',') return error("expected ',' after parameter \"" + std::string(name) + "\"");
    }
    out.push_back(std::move(challenge));
  }
  if (out.empty()) return Status::InvalidArgument("WWW-Authenticate header is empty");
  return out;
}

std::string BasicCredential::AuthorizationHeader() const {
  return "Basic " + base::Base64Encode(username + ":" + password);
}

std::string NormalizeRegistryHost(std::string_view key) {
  std::string_view k = key;
  for (std::string_view scheme : {"https://", "http://"}) {
    if (k.size() >= scheme.size() && Lower(k.substr(0, scheme.size())) == scheme) k.remove_prefix(scheme.size());
  }
  if (size_t slash = k.find('/'); slash != std::string_view::npos) k = k.substr(0, slash);
  std::string host = Lower(k);
  if (host == "docker.io" || host == "registry-1.docker.io" || host == "index.docker.io") return "index.docker.io";
  return host;
}

StatusOr<DockerConfig> DockerConfig::Parse(std::string_view json, std::string_view source) {
  auto error = [&](const std::string& what) {
    return Status::InvalidArgument("docker config " + std::string(source) + ": " + what);
  };
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return error("is not valid JSON (expected {\"auths\": {\"host\": {\"auth\": ...}}})");
  if (!doc.is_object()) return error("must be a JSON object with an \"auths\" object");
  const nlohmann::json* auths = &doc;  // legacy .dockercfg: the hosts are the top-level keys
  if (doc.contains("auths")) {
    auths = &doc["auths"];
    if (!auths->is_object()) return error("\"auths\" must be an object keyed by registry host");
  }

  DockerConfig config;
  config.source_ = std::string(source);
  for (const auto& item : auths->items()) {
    // Named references rather than a structured binding: clang 14 (scripts/install-deps.sh, the fuzz build) cannot
    // capture structured bindings in the lambda below.
    const std::string& key = item.key();
    const nlohmann::json& entry = item.value();
    if (!entry.is_object()) {
      if (auths == &doc) continue;  // other top-level keys of a config.json (credsStore, ...) are not hosts
      return error("entry \"" + key + "\" must be an object");
    }
    auto string_field = [&](const char* name) -> StatusOr<std::string> {
      if (!entry.contains(name)) return std::string();
      if (!entry[name].is_string()) {
        return error("entry \"" + key + "\": field \"" + name + "\" must be a string");
      }
      return entry[name].get<std::string>();
    };
    auto auth = string_field("auth");
    if (!auth.ok()) return auth.status();
    auto username = string_field("username");
    if (!username.ok()) return username.status();
    auto password = string_field("password");
    if (!password.ok()) return password.status();

    BasicCredential credential;
    if (!auth->empty()) {
      std::optional<std::string> decoded = base::Base64Decode(*auth);
      if (!decoded)
        return error("entry \"" + key + "\": \"auth\" is not valid base64 (expected base64 of user:password)");
      size_t colon = decoded->find(':');
      if (colon == std::string::npos) {
        return error("entry \"" + key + "\": \"auth\" does not decode to user:password");
      }
      credential.username = decoded->substr(0, colon);
      credential.password = decoded->substr(colon + 1);
    } else if (!username->empty() || !password->empty()) {
      credential.username = *username;
      credential.password = *password;
    } else {
      continue;  // identitytoken-only or empty entries carry no basic credentials
    }
    config.entries_[NormalizeRegistryHost(key)] = std::move(credential);
  }
  return config;
}

StatusOr<DockerConfig> DockerConfig::LoadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("docker config " + path + ": cannot be read (does the file exist?)");
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > (1u << 20)) return Status::InvalidArgument("docker config " + path + ": larger than 1 MiB");
  return Parse(text.str(), path);
}

std::optional<BasicCredential> DockerConfig::Find(std::string_view registry_host) const {
  auto it = entries_.find(NormalizeRegistryHost(registry_host));
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

}  // namespace pipeguard::registry
