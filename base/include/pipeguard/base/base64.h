// Base64 (RFC 4648): one strict decoder and one encoder for the whole house (registry credentials, ECR tokens,
// signature formats, JSONPatch replies).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pipeguard::base {

// Decodes base64 in the standard ('+', '/') or URL-safe ('-', '_') alphabet, with or without '=' padding.
// Strict: rejects whitespace, characters outside the alphabet, mixed alphabets, wrong padding, a length that
// cannot come from an encoder, and non-zero trailing bits. Returns nullopt on any of these.
std::optional<std::string> Base64Decode(std::string_view text);

// Standard alphabet with padding (what Go's base64.StdEncoding and protojson write).
std::string Base64Encode(std::string_view bytes);

}  // namespace pipeguard::base
