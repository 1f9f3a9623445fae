// Standard base64 (RFC 4648 §4, with padding), internal to pipeguard_registry.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pipeguard::registry {

std::string Base64Encode(std::string_view bytes);
// nullopt for characters outside the alphabet or bad padding; whitespace is not accepted. Unpadded input is
// accepted (some tools write it).
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace pipeguard::registry
