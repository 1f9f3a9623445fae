// JSON helpers for hostile inputs (private header): bounded-depth parsing at a single boundary, and protojson
// field access (lowerCamelCase or the original snake_case names; int64 as string or number).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "pipeguard/base/status.h"

namespace pipeguard::signatures {

// Nesting deeper than this is rejected; real cosign documents nest fewer than 10 levels.
inline constexpr int kMaxJsonDepth = 32;

// Parses `text` as one JSON value. Errors (InvalidArgument) name `what` and give the parser's position.
StatusOr<nlohmann::json> ParseJson(std::string_view text, std::string_view what);

// The member `camel` (or `snake`, if given) of an object, or nullptr when absent or `object` is not an object.
const nlohmann::json* Member(const nlohmann::json& object, std::string_view camel, std::string_view snake = {});

// The member as a string, or nullopt when absent or not a string.
std::optional<std::string> StringMember(const nlohmann::json& object, std::string_view camel,
                                        std::string_view snake = {});

// The member as a signed 64-bit integer given as a JSON number or a decimal string (protojson int64), or nullopt.
std::optional<int64_t> Int64Member(const nlohmann::json& object, std::string_view camel, std::string_view snake = {});

// Int64Member for a protobuf int64 field of a protojson document (bundles, trusted roots): proto3's JSON mapping
// omits a field holding the default value, so an absent member is 0 (e.g. the first entry of a log, logIndex 0);
// a member that is present but not an integer is nullopt.
std::optional<int64_t> ProtoInt64Member(const nlohmann::json& object, std::string_view camel,
                                        std::string_view snake = {});

}  // namespace pipeguard::signatures
