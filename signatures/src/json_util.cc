#include "json_util.h"

#include <charconv>
#include <cstdint>

#include "pipeguard/base/json.h"

namespace pipeguard::signatures {

StatusOr<nlohmann::json> ParseJson(std::string_view text, std::string_view what) {
  return base::ParseJson(text, what, kMaxJsonDepth);
}

const nlohmann::json* Member(const nlohmann::json& object, std::string_view camel, std::string_view snake) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(camel);
  if (it != object.end()) return &*it;
  if (!snake.empty()) {
    it = object.find(snake);
    if (it != object.end()) return &*it;
  }
  return nullptr;
}

std::optional<std::string> StringMember(const nlohmann::json& object, std::string_view camel, std::string_view snake) {
  const nlohmann::json* value = Member(object, camel, snake);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return value->get<std::string>();
}

std::optional<int64_t> Int64Member(const nlohmann::json& object, std::string_view camel, std::string_view snake) {
  const nlohmann::json* value = Member(object, camel, snake);
  if (value == nullptr) return std::nullopt;
  if (value->is_number_unsigned()) {
    const uint64_t unsigned_value = value->get<uint64_t>();
    if (unsigned_value > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(unsigned_value);
  }
  if (value->is_number_integer()) return value->get<int64_t>();
  if (value->is_string()) {
    const std::string& text = value->get_ref<const std::string&>();
    int64_t parsed = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return parsed;
  }
  return std::nullopt;
}

std::optional<int64_t> ProtoInt64Member(const nlohmann::json& object, std::string_view camel, std::string_view snake) {
  if (Member(object, camel, snake) == nullptr) return 0;
  return Int64Member(object, camel, snake);
}

}  // namespace pipeguard::signatures
