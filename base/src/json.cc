#include "pipeguard/base/json.h"

#include <cstring>
#include <string>

namespace pipeguard::base {

JsonShape MeasureJson(std::string_view text, int depth_limit) {
  const char* const data = text.data();
  const size_t size = text.size();
  int depth = 0, max_depth = 0;
  size_t values = 1;
  size_t i = 0;
  while (i < size) {
    switch (data[i]) {
      case '"': {
        // Kubernetes objects are mostly string bytes: jump from quote to quote. A quote closes the string unless an
        // odd run of backslashes precedes it (each backslash is walked once, so this stays linear).
        size_t from = i + 1;
        for (;;) {
          const void* quote = std::memchr(data + from, '"', size - from);
          if (quote == nullptr) return {max_depth, values};  // unterminated: the rest is string
          const size_t at = static_cast<size_t>(static_cast<const char*>(quote) - data);
          size_t backslashes = 0;
          while (data[at - backslashes - 1] == '\\') ++backslashes;  // stops at the opening quote at the latest
          from = at + 1;
          if (backslashes % 2 == 0) break;
        }
        i = from;
        continue;
      }
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
    ++i;
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
