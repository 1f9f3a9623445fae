#include "pipeguard/imageverify/pinning.h"

#include "pipeguard/registry/registry.h"
#include "pipeguard/signatures/crypto.h"

namespace pipeguard::imageverify {

StatusOr<std::string> Pin(std::string_view image, std::string_view digest) {
  if (!signatures::IsSha256Digest(digest)) {
    return Status::InvalidArgument("cannot pin \"" + std::string(image.substr(0, 300)) +
                                   "\": the digest is not sha256:<64 lowercase hex>");
  }
  auto ref = registry::ImageReference::Parse(image);
  if (!ref.ok()) return ref.status();
  if (const size_t at = image.find('@'); at != std::string_view::npos) {
    if (ref->digest == digest) return std::string(image);
    std::string message = "cannot pin \"";
    message.append(image).append("\" to ").append(digest).append(": it is already pinned to another digest");
    return Status::InvalidArgument(std::move(message));
  }
  // The tag is the text after the last ':' that follows the last '/' (a ':' before it belongs to host:port).
  std::string_view name = image;
  const size_t slash = image.rfind('/');
  const size_t colon = image.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    name = image.substr(0, colon);
  }
  std::string pinned(name);
  pinned.append("@").append(digest);
  return pinned;
}

std::string EscapeJsonPointerToken(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~') {
      out.append("~0");
    } else if (c == '/') {
      out.append("~1");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

nlohmann::json DigestPinPatch(const nlohmann::json& object, const std::vector<policy::ImageRef>& refs,
                              const ImageVerdicts& verdicts) {
  nlohmann::json patch = nlohmann::json::array();
  for (const auto& ref : refs) {
    auto verdict = verdicts.find(ref.image);
    if (verdict == verdicts.end() || !verdict->second.verified) continue;
    if (ref.image.find('@') != std::string::npos) continue;  // already by digest
    auto pinned = Pin(ref.image, verdict->second.digest);
    if (!pinned.ok()) continue;
    // The path must name exactly this image in this object; anything else is left alone rather than guessed.
    try {
      const nlohmann::json::json_pointer pointer(ref.path);
      if (!object.contains(pointer)) continue;
      const nlohmann::json& current = object.at(pointer);
      if (!current.is_string() || current.get_ref<const std::string&>() != ref.image) continue;
    } catch (const nlohmann::json::exception&) {
      continue;  // not a valid JSON pointer
    }
    patch.push_back({{"op", "replace"}, {"path", ref.path}, {"value", *pinned}});
  }
  return patch;
}

nlohmann::json DigestPinPatch(const nlohmann::json& object, const ImageVerdicts& verdicts) {
  return DigestPinPatch(object, policy::CollectImages(object), verdicts);
}

}  // namespace pipeguard::imageverify
