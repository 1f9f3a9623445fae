#include "pipeguard/base/json.h"

#include <string>

namespace pipeguard::base {

JsonShape MeasureJson(std::string_view text, int depth_limit) {
  int depth = 0, max_depth = 0;
  size_t values = 1;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '{':
      case '[':
        ++values;
        if (++depth > max_depth) {
          max_depth = depth;
          if (max_depth > depth_limit) return {max_depth, values};
        }
        break;
      case '}':
      case ']':
        --depth;
        break;
      case ',':
        ++values;
        break;
      default:
        break;
    }
  }
  return {max_depth, values};
}

StatusOr<nlohmann::json> ParseJson(std::string_view text, std::string_view what, int max_depth) {
  if (MeasureJson(text, max_depth).max_depth > max_depth) {
    return Status::InvalidArgument(std::string(what) + " nests deeper than " + std::to_string(max_depth) + " levels");
  }
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() quotes the bytes around the error: report the offset only.
    return Status::InvalidArgument(std::string(what) + " is not valid JSON (byte " + std::to_string(e.byte) + ")");
  } catch (const nlohmann::json::out_of_range&) {
    return Status::InvalidArgument(std::string(what) + " has a number too large for a 64-bit floating-point value");
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string(what) + " could not be read as JSON (error " + std::to_string(e.id) +
                                   ")");
  }
}

}  // namespace pipeguard::base
