// JSON text at a trust boundary: the one nesting-depth guard and the one bounded parse that every component uses
// for bytes it did not write (request bodies, registry and AWS responses, signature bundles, values in objects).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

#include "pipeguard/base/status.h"

namespace pipeguard::base {

// The shape of a JSON text from one byte scan, without parsing: the deepest nesting of arrays and objects outside
// strings, and an upper estimate of the values a DOM of it would hold (containers plus separators, plus one).
// Stops early, with max_depth > depth_limit, once the nesting exceeds `depth_limit`. Linear; never allocates.
struct JsonShape {
  int max_depth = 0;
  size_t values = 0;
};
JsonShape MeasureJson(std::string_view text, int depth_limit);

// Parses `text` when it nests at most `max_depth` levels (checked by MeasureJson before the parser recurses).
// Errors name `what` and never quote the text (it may hold secrets): "<what> nests deeper than N levels", "<what>
// is not valid JSON (byte N)", "<what> has a number too large for a 64-bit floating-point value".
StatusOr<nlohmann::json> ParseJson(std::string_view text, std::string_view what, int max_depth);

}  // namespace pipeguard::base
