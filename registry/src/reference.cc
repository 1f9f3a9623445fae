// ImageReference parsing (docs: ../shared/reference/cosign-signatures.md §7.1; grammar of
// distribution/reference: [host[:port]/]path[:tag][@sha256:<64 hex>]).
#include <algorithm>
#include <cctype>
#include <string>

#include "pipeguard/registry/http_registry.h"
#include "pipeguard/registry/registry.h"

namespace pipeguard::registry {
namespace {

constexpr std::string_view kDockerHub = "index.docker.io";
constexpr size_t kMaxNameLength = 255;

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
bool IsValidPathComponent(std::string_view c) {
  if (c.empty() || !IsLowerAlnum(c.front()) || !IsLowerAlnum(c.back())) return false;
  size_t i = 0;
  while (i < c.size()) {
    if (IsLowerAlnum(c[i])) {
      ++i;
      continue;
    }
    // A separator run: ".", "_", "__" or "-"+, followed by an alphanumeric.
    size_t start = i;
    if (c[i] == '.') {
      ++i;
    } else if (c[i] == '_') {
      ++i;
      if (i < c.size() && c[i] == '_') ++i;
    } else if (c[i] == '-') {
      while (i < c.size() && c[i] == '-') ++i;
    } else {
      return false;
    }
    if (i == start || i >= c.size() || !IsLowerAlnum(c[i])) return false;
  }
  return true;
}

bool IsValidTag(std::string_view t) {
  if (t.empty() || t.size() > 128) return false;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!word(t.front())) return false;
  return std::all_of(t.begin(), t.end(), [&](char c) { return word(c) || c == '.' || c == '-'; });
}

// host[:port] with a DNS name or IPv4 address, or [IPv6][:port].
bool IsValidHost(std::string_view host) {
  std::string_view name = host;
  std::string_view port;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    std::string_view inner = host.substr(1, close - 1);
    if (!std::all_of(inner.begin(), inner.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.'; })) {
      return false;
    }
    std::string_view rest = host.substr(close + 1);
    if (rest.empty()) return true;
    if (rest.front() != ':') return false;
    port = rest.substr(1);
    name = {};
  } else {
    size_t colon = host.find(':');
    if (colon != std::string_view::npos) {
      name = host.substr(0, colon);
      port = host.substr(colon + 1);
      if (port.empty()) return false;
    }
    if (name.empty() || name.front() == '-' || name.front() == '.' || name.back() == '-' || name.back() == '.') {
      return false;
    }
    if (!std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.'; })) {
      return false;
    }
  }
  if (host.find(':') != std::string_view::npos && !port.empty()) {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
    int value = std::stoi(std::string(port));
    if (value < 1 || value > 65535) return false;
  }
  return true;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

bool IsValidSha256Digest(std::string_view digest) {
  constexpr std::string_view kPrefix = "sha256:";
  if (digest.size() != kPrefix.size() + 64 || digest.substr(0, kPrefix.size()) != kPrefix) return false;
  return std::all_of(digest.begin() + kPrefix.size(), digest.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

StatusOr<ImageReference> ImageReference::Parse(std::string_view image) {
  auto error = [&](const std::string& what) {
    return Status::InvalidArgument("image reference \"" + std::string(image.substr(0, 300)) + "\": " + what);
  };
  if (image.empty()) return error("is empty");
  if (image.size() > 1024) return error("is longer than 1024 characters");
  for (char c : image) {
    if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c))) {
      return error("contains whitespace or control characters");
    }
  }

  ImageReference ref;
  std::string_view rest = image;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    std::string_view digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
    if (digest.find(':') == std::string_view::npos) {
      return error("digest \"" + std::string(digest) + "\" must look like sha256:<64 lowercase hex digits>");
    }
    if (digest.substr(0, digest.find(':')) != "sha256") {
      return error("digest algorithm \"" + std::string(digest.substr(0, digest.find(':'))) +
                   "\" is not supported (only sha256)");
    }
    if (!IsValidSha256Digest(digest)) {
      return error("digest \"" + std::string(digest) + "\" must be sha256: followed by 64 lowercase hex digits");
    }
    ref.digest = std::string(digest);
  }

  // The registry is the first component when it looks like a host (has '.' or ':', or is "localhost").
  std::string_view path = rest;
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    std::string_view first = rest.substr(0, slash);
    if (first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos ||
        first == "localhost" || first.front() == '[') {
      if (!IsValidHost(first)) {
        return error("registry host \"" + std::string(first) + "\" is not a valid host[:port]");
      }
      ref.registry = Lower(first);
      path = rest.substr(slash + 1);
    }
  }
  if (ref.registry.empty() || ref.registry == "docker.io" || ref.registry == "registry-1.docker.io") {
    ref.registry = std::string(kDockerHub);
  }

  // A tag is after the last ':' that follows the last '/'.
  size_t last_slash = path.rfind('/');
  size_t colon = path.rfind(':');
  if (colon != std::string_view::npos && (last_slash == std::string_view::npos || colon > last_slash)) {
    std::string_view tag = path.substr(colon + 1);
    if (!IsValidTag(tag)) {
      return error("tag \"" + std::string(tag) +
                   "\" is invalid (1-128 characters of [A-Za-z0-9_.-], not starting with '.' or '-')");
    }
    ref.tag = std::string(tag);
    path = path.substr(0, colon);
  }

  if (path.empty()) return error("repository name is empty");
  if (path.size() > kMaxNameLength) return error("repository name is longer than 255 characters");
  size_t start = 0;
  while (true) {
    size_t end = path.find('/', start);
    std::string_view component = path.substr(start, end == std::string_view::npos ? end : end - start);
    if (!IsValidPathComponent(component)) {
      if (Lower(component) != component && IsValidPathComponent(Lower(component))) {
        return error("repository name \"" + std::string(path) + "\" must be lowercase");
      }
      return error("repository path component \"" + std::string(component) +
                   "\" is invalid (lowercase letters and digits, separated by '.', '_', '__' or '-')");
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  ref.repository = std::string(path);
  if (ref.registry == kDockerHub && ref.repository.find('/') == std::string::npos) {
    ref.repository = "library/" + ref.repository;
  }
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

std::string ImageReference::String() const {
  if (!digest.empty()) return registry + "/" + repository + "@" + digest;
  return registry + "/" + repository + ":" + tag;
}

ImageReference ImageReference::WithDigest(std::string new_digest) const {
  ImageReference copy = *this;
  copy.digest = std::move(new_digest);
  return copy;
}

}  // namespace pipeguard::registry
