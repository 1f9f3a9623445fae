#include "json_text.h"

#include <simdjson.h>

#include <string>
#include <utility>

namespace pipeguard::webhook {

namespace {

using nlohmann::json;

json ToDom(simdjson::dom::element element) {
  using Type = simdjson::dom::element_type;
  switch (element.type()) {
    case Type::OBJECT: {
      json out(json::value_t::object);
      auto& members = out.get_ref<json::object_t&>();
      // insert_or_assign: a later duplicate key replaces the earlier one, as in json::parse.
      for (simdjson::dom::key_value_pair member : simdjson::dom::object(element)) {
        members.insert_or_assign(std::string(member.key), ToDom(member.value));
      }
      return out;
    }
    case Type::ARRAY: {
      json out(json::value_t::array);
      auto& items = out.get_ref<json::array_t&>();
      simdjson::dom::array array(element);
      items.reserve(array.size());
      for (simdjson::dom::element item : array) items.push_back(ToDom(item));
      return out;
    }
    case Type::STRING:
      return json(json::string_t(std::string_view(element)));
    case Type::INT64: {
      // json::parse stores non-negative integers as unsigned and negative ones as signed.
      const int64_t value = int64_t(element);
      if (value >= 0) return json(static_cast<json::number_unsigned_t>(value));
      return json(static_cast<json::number_integer_t>(value));
    }
    case Type::UINT64:
      return json(static_cast<json::number_unsigned_t>(uint64_t(element)));
    case Type::DOUBLE:
      return json(double(element));
    case Type::BOOL:
      return json(bool(element));
    case Type::NULL_VALUE:
      return json(nullptr);
  }
  return json();
}

// Whether `text` may hold the number -0 (outside strings too, as far as a byte scan can tell): json::parse stores it
// as a signed integer, while simdjson's DOM cannot tell it from 0. A false positive only costs the slow path.
bool MayHoldNegativeZero(std::string_view text) {
  for (size_t at = text.find("-0"); at != std::string_view::npos; at = text.find("-0", at + 2)) {
    const size_t after = at + 2;
    if (after == text.size() || std::string_view(",]} \t\r\n").find(text[after]) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

json ParseJsonTextSlowPath(std::string_view text) { return json::parse(text.begin(), text.end()); }

json ParseJsonText(std::string_view text) {
  if (text.size() <= kFastParseMaxBytes && !MayHoldNegativeZero(text)) {
    // One parser per thread: its buffers are sized for the largest text it has parsed, at most kFastParseMaxBytes.
    thread_local simdjson::dom::parser parser(kFastParseMaxBytes);
    simdjson::dom::element root;
    if (parser.parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(root) == simdjson::SUCCESS) {
      return ToDom(root);
    }
  }
  return ParseJsonTextSlowPath(text);
}

}  // namespace pipeguard::webhook
