// Internal to pipeguard::manifest: the two parsers behind ParseDocuments and their shared error helpers.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/manifest/documents.h"

namespace pipeguard::manifest::internal {

// 1-based line and byte column of `offset` in `text`.
struct TextPosition {
  int line = 1;
  int column = 1;
};
TextPosition PositionAt(std::string_view text, size_t offset);

// "FILE:LINE:COL: what (how)" as an InvalidArgument status. `hint` may be empty.
Status ErrorAt(const std::string& file, TextPosition at, std::string_view what, std::string_view hint);

// Rejects text that is not UTF-8 (binary files, UTF-16, NUL bytes) with the position of the first bad byte.
Status CheckUtf8Text(std::string_view text, const std::string& file);

// True when the first significant character opens a JSON object or array.
bool LooksLikeJson(std::string_view text);

// Parses a stream of JSON values (one or more, separated by whitespace). Every value must be an object.
// Duplicate keys, nesting deeper than limits.max_depth and non-finite numbers are errors.
StatusOr<std::vector<Document>> ParseJsonStream(std::string_view text, const std::string& file,
                                                const LoadLimits& limits);

// Parses multi-document YAML with Kubernetes' YAML 1.1 scalar resolution (see yaml_documents.cc).
StatusOr<std::vector<Document>> ParseYamlStream(std::string_view text, const std::string& file,
                                                const LoadLimits& limits);

// Describes a JSON value's type for error messages: "a string", "a list", ...
std::string DescribeType(const nlohmann::json& value);

}  // namespace pipeguard::manifest::internal
