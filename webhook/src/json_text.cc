#include "json_text.h"

#include <simdjson.h>

#include <string>
#include <tuple>
#include <utility>

namespace pipeguard::webhook {

namespace {

using nlohmann::json;

// Converts `element` into `out`, which is null on entry. Values are built in place (no temporary DOM values to move
// and destroy).
void ToDom(simdjson::dom::element element, json& out) {
  using Type = simdjson::dom::element_type;
  switch (element.type()) {
    case Type::OBJECT: {
      out = json::value_t::object;
      auto& members = out.get_ref<json::object_t&>();
      for (simdjson::dom::key_value_pair member : simdjson::dom::object(element)) {
        // The key is constructed in the node itself (no temporary string to move from and destroy).
        auto [at, inserted] =
            members.emplace(std::piecewise_construct, std::forward_as_tuple(member.key.data(), member.key.size()),
                            std::forward_as_tuple());
        // A later duplicate key replaces the earlier one, as in json::parse.
        if (!inserted) at->second = nullptr;
        ToDom(member.value, at->second);
      }
      return;
    }
    case Type::ARRAY: {
      out = json::value_t::array;
      auto& items = out.get_ref<json::array_t&>();
      simdjson::dom::array array(element);
      items.reserve(array.size());
      for (simdjson::dom::element item : array) ToDom(item, items.emplace_back());
      return;
    }
    case Type::STRING:
      out = std::string_view(element);  // the DOM string is built from the view: no temporary string
      return;
    case Type::INT64: {
      // json::parse stores non-negative integers as unsigned and negative ones as signed.
      const int64_t value = int64_t(element);
      if (value >= 0) {
        out = static_cast<json::number_unsigned_t>(value);
      } else {
        out = static_cast<json::number_integer_t>(value);
      }
      return;
    }
    case Type::UINT64:
      out = static_cast<json::number_unsigned_t>(uint64_t(element));
      return;
    case Type::DOUBLE:
      out = double(element);
      return;
    case Type::BOOL:
      out = bool(element);
      return;
    case Type::NULL_VALUE:
      return;
  }
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

void ReleaseJsonDom(json& value) {
  if (value.is_object()) {
    auto& members = value.get_ref<json::object_t&>();
    for (auto& member : members) {
      if (member.second.is_structured()) ReleaseJsonDom(member.second);
    }
    members.clear();
  } else if (value.is_array()) {
    auto& items = value.get_ref<json::array_t&>();
    for (json& item : items) {
      if (item.is_structured()) ReleaseJsonDom(item);
    }
    items.clear();
  }
  value = nullptr;
}

json ParseJsonTextSlowPath(std::string_view text) { return json::parse(text.begin(), text.end()); }

json ParseJsonText(std::string_view text) {
  if (text.size() <= kFastParseMaxBytes && !MayHoldNegativeZero(text)) {
    // One parser per thread: its buffers are sized for the largest text it has parsed, at most kFastParseMaxBytes.
    thread_local simdjson::dom::parser parser(kFastParseMaxBytes);
    simdjson::dom::element root;
    if (parser.parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(root) == simdjson::SUCCESS) {
      json out;
      ToDom(root, out);
      return out;
    }
  }
  return ParseJsonTextSlowPath(text);
}

}  // namespace pipeguard::webhook
