// Digest pinning for the mutating webhook (/mutate): verified tag references become `name@sha256:...`, so that the
// image that runs is the image that was verified.
//
// Form: the name exactly as the user wrote it (registry, port and repository untouched, no Docker Hub expansion),
// the tag dropped, the verified digest appended: "python:3.11" -> "python@sha256:...",
// "127.0.0.1:5000/team/app:v1" -> "127.0.0.1:5000/team/app@sha256:...". Kubernetes also accepts
// "name:tag@sha256:...", but runtimes ignore the tag then, and a tag that no longer matches the digest misleads
// people reading the pod; the digest alone says exactly what runs.
//
// Pure functions, thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/imageverify/service.h"
#include "pipeguard/policy/engine.h"

namespace pipeguard::imageverify {

// `image` pinned to `digest`. An image that already carries a digest is returned unchanged when it is the same
// digest. InvalidArgument: a malformed image reference, a digest that is not sha256:<64 lowercase hex>, or an
// image already pinned to a different digest.
StatusOr<std::string> Pin(std::string_view image, std::string_view digest);

// RFC 6902 JSON Patch operations (a JSON array, possibly empty) pinning the images of `object`:
// {"op":"replace","path":ref.path,"value":Pin(ref.image, digest)} for each ref in `refs` (normally
// policy::CollectImages(object)) whose verdict is verified with a digest. Untouched: unverified images, images
// without a verdict, images already given by digest, and refs whose path (a JSON pointer, already escaped per
// RFC 6901 by CollectImages) does not resolve in `object` to exactly ref.image. Call it only when
// images.pinDigests is on.
nlohmann::json DigestPinPatch(const nlohmann::json& object, const std::vector<policy::ImageRef>& refs,
                              const ImageVerdicts& verdicts);
// DigestPinPatch(object, policy::CollectImages(object), verdicts).
nlohmann::json DigestPinPatch(const nlohmann::json& object, const ImageVerdicts& verdicts);

// RFC 6901 escaping of one reference token: "~" -> "~0", "/" -> "~1".
std::string EscapeJsonPointerToken(std::string_view token);

}  // namespace pipeguard::imageverify
