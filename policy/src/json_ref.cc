#include "pipeguard/policy/json_ref.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <tuple>
#include <vector>

namespace pipeguard::policy {

namespace {

using nlohmann::json;
using Element = simdjson::dom::element;

static_assert(std::is_trivially_copyable_v<Element> && sizeof(Element) == 16 && alignof(Element) <= 8,
              "JsonRef stores a simdjson::dom::element in 16 bytes");

// Objects the rules read are small: scanning their members beats a tree search per key (and stops once every key
// is found: nlohmann's keys are unique).
constexpr std::size_t kScannedObjectSize = 8;

// Converts `element` into `out`, which is null on entry, as json::parse builds it (duplicate keys: the last wins;
// non-negative integers unsigned). Values are built in place.
void ToDom(Element element, json& out) {
  using T = simdjson::dom::element_type;
  switch (element.type()) {
    case T::OBJECT: {
      out = json::value_t::object;
      auto& members = out.get_ref<json::object_t&>();
      for (simdjson::dom::key_value_pair member : simdjson::dom::object(element)) {
        auto [at, inserted] =
            members.emplace(std::piecewise_construct, std::forward_as_tuple(member.key.data(), member.key.size()),
                            std::forward_as_tuple());
        if (!inserted) at->second = nullptr;  // a later duplicate replaces the earlier one
        ToDom(member.value, at->second);
      }
      return;
    }
    case T::ARRAY: {
      out = json::value_t::array;
      auto& items = out.get_ref<json::array_t&>();
      simdjson::dom::array array(element);
      items.reserve(array.size());
      for (Element item : array) ToDom(item, items.emplace_back());
      return;
    }
    case T::STRING:
      out = std::string_view(element);
      return;
    case T::INT64: {
      const int64_t value = int64_t(element);
      if (value >= 0) {
        out = static_cast<json::number_unsigned_t>(value);
      } else {
        out = static_cast<json::number_integer_t>(value);
      }
      return;
    }
    case T::UINT64:
      out = static_cast<json::number_unsigned_t>(uint64_t(element));
      return;
    case T::DOUBLE:
      out = double(element);
      return;
    case T::BOOL:
      out = bool(element);
      return;
    case T::NULL_VALUE:
      return;
  }
}

// a == b for two strings of `n` bytes each. Keys the walk looks up are short: up to 16 bytes are compared with two
// (possibly overlapping) loads of each string instead of a call to memcmp.
inline bool SameBytes(const char* a, const char* b, std::size_t n) {
  if (n >= 8) {
    if (n > 16) return std::memcmp(a, b, n) == 0;
    std::uint64_t a0, a1, b0, b1;
    std::memcpy(&a0, a, 8);
    std::memcpy(&b0, b, 8);
    std::memcpy(&a1, a + n - 8, 8);
    std::memcpy(&b1, b + n - 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  if (n >= 4) {
    std::uint32_t a0, a1, b0, b1;
    std::memcpy(&a0, a, 4);
    std::memcpy(&b0, b, 4);
    std::memcpy(&a1, a + n - 4, 4);
    std::memcpy(&b1, b + n - 4, 4);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  // 0 to 3 bytes: the first, middle and last byte cover them all.
  return n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
}

inline bool SameKey(std::string_view a, std::string_view b) {
  return a.size() == b.size() && SameBytes(a.data(), b.data(), a.size());
}

// JsonRef's type of each simdjson element type (a char: '{', '[', '"', 'l', 'u', 'd', 't', 'n'); one table load
// instead of a switch for every value the walk meets. Other codes do not occur.
constexpr std::array<JsonRef::Type, 256> kTypeOfElement = [] {
  using T = simdjson::dom::element_type;
  std::array<JsonRef::Type, 256> table{};  // kAbsent
  auto set = [&](T type, JsonRef::Type to) { table[static_cast<unsigned char>(type)] = to; };
  set(T::NULL_VALUE, JsonRef::Type::kNull);
  set(T::OBJECT, JsonRef::Type::kObject);
  set(T::ARRAY, JsonRef::Type::kArray);
  set(T::STRING, JsonRef::Type::kString);
  set(T::BOOL, JsonRef::Type::kBoolean);
  set(T::INT64, JsonRef::Type::kNumber);
  set(T::UINT64, JsonRef::Type::kNumber);
  set(T::DOUBLE, JsonRef::Type::kNumber);
  return table;
}();

inline JsonRef::Type TypeOfElement(simdjson::dom::element_type type) {
  return kTypeOfElement[static_cast<unsigned char>(type)];
}

Element ElementOf(const unsigned char* storage) {
  Element e;
  std::memcpy(static_cast<void*>(&e), storage, sizeof e);
  return e;
}

}  // namespace

JsonRef JsonRef::FromSimdjson(const simdjson::dom::element& element) {
  JsonRef ref;
  ref.backing_ = Backing::kSimdjson;
  std::memcpy(ref.element_, static_cast<const void*>(&element), sizeof element);
  ref.type_ = TypeOfElement(element.type());
  return ref;
}

std::string_view JsonRef::string() const {
  if (type_ != Type::kString) return {};
  if (backing_ == Backing::kNlohmann) {
    return json_->is_string() ? std::string_view(json_->get_ref<const std::string&>()) : std::string_view();
  }
  if (backing_ == Backing::kSimdjson) {
    std::string_view s;
    if (ElementOf(element_).get_string().get(s) == simdjson::SUCCESS) return s;
  }
  return {};
}

bool JsonRef::boolean() const {
  if (backing_ == Backing::kNlohmann) return json_->is_boolean() && json_->get<bool>();
  if (backing_ == Backing::kSimdjson) {
    bool b = false;
    return ElementOf(element_).get_bool().get(b) == simdjson::SUCCESS && b;
  }
  return false;
}

void JsonRef::FindMembers(const std::string_view* keys, JsonRef* found, std::size_t n) const {
  if (type_ != Type::kObject) return;
  if (backing_ == Backing::kNlohmann) {
    if (!json_->is_object()) return;
    const auto& members = json_->get_ref<const json::object_t&>();
    if (members.size() > kScannedObjectSize) {
      for (std::size_t k = 0; k < n; ++k) {
        const auto it = members.find(keys[k]);
        if (it != members.end()) found[k] = JsonRef(it->second);
      }
      return;
    }
    std::size_t hits = 0;
    for (const auto& [name, value] : members) {
      for (std::size_t k = 0; k < n; ++k) {
        if (SameKey(name, keys[k])) {
          found[k] = JsonRef(value);
          if (++hits == n) return;
          break;
        }
      }
    }
    return;
  }
  if (backing_ != Backing::kSimdjson) return;
  simdjson::dom::object object;
  if (ElementOf(element_).get_object().get(object) != simdjson::SUCCESS) return;
  // Every member is visited: a later duplicate of a key replaces the earlier one, as in json::parse. The value is
  // read only for a key that matches.
  for (auto it = object.begin(), end = object.end(); it != end; ++it) {
    const std::string_view key = it.key();
    for (std::size_t k = 0; k < n; ++k) {
      if (SameKey(key, keys[k])) {
        found[k] = FromSimdjson(it.value());
        break;
      }
    }
  }
}

std::size_t JsonRef::size() const {
  if (backing_ == Backing::kNlohmann) return json_->is_array() ? json_->size() : 0;
  if (backing_ == Backing::kSimdjson) {
    simdjson::dom::array array;
    if (ElementOf(element_).get_array().get(array) == simdjson::SUCCESS) return array.size();
  }
  return 0;
}

bool JsonRef::empty() const {
  if (backing_ == Backing::kNlohmann) return json_->is_structured() ? json_->empty() : true;
  if (backing_ == Backing::kSimdjson) {
    const Element e = ElementOf(element_);
    simdjson::dom::array array;
    if (e.get_array().get(array) == simdjson::SUCCESS) return array.begin() == array.end();
    simdjson::dom::object object;
    if (e.get_object().get(object) == simdjson::SUCCESS) return !(object.begin() != object.end());
  }
  return true;
}

void JsonRef::VisitElements(void* fn, ElementVisitor visit) const {
  if (type_ != Type::kArray) return;
  if (backing_ == Backing::kNlohmann) {
    if (!json_->is_array()) return;
    std::size_t i = 0;
    for (const json& item : *json_) visit(fn, i++, JsonRef(item));
    return;
  }
  if (backing_ != Backing::kSimdjson) return;
  simdjson::dom::array array;
  if (ElementOf(element_).get_array().get(array) != simdjson::SUCCESS) return;
  std::size_t i = 0;
  for (Element item : array) visit(fn, i++, FromSimdjson(item));
}

void JsonRef::VisitMembers(void* fn, MemberVisitor visit) const {
  if (type_ != Type::kObject) return;
  if (backing_ == Backing::kNlohmann) {
    if (!json_->is_object()) return;
    for (const auto& [name, value] : json_->get_ref<const json::object_t&>()) visit(fn, name, JsonRef(value));
    return;
  }
  if (backing_ != Backing::kSimdjson) return;
  simdjson::dom::object object;
  if (ElementOf(element_).get_object().get(object) != simdjson::SUCCESS) return;
  // nlohmann's order: sorted by key, each key once (its last occurrence). Objects written in that order (no
  // duplicates) are visited as they are; others are sorted first.
  bool sorted = true;
  std::string_view previous;
  bool first = true;
  for (simdjson::dom::key_value_pair member : object) {
    if (!first && !(previous < member.key)) {
      sorted = false;
      break;
    }
    previous = member.key;
    first = false;
  }
  if (sorted) {
    for (simdjson::dom::key_value_pair member : object) visit(fn, member.key, FromSimdjson(member.value));
    return;
  }
  std::vector<std::pair<std::string_view, Element>> members;
  for (simdjson::dom::key_value_pair member : object) members.emplace_back(member.key, member.value);
  std::stable_sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (i + 1 < members.size() && members[i + 1].first == members[i].first) continue;  // a later duplicate wins
    visit(fn, members[i].first, FromSimdjson(members[i].second));
  }
}

json JsonRef::ToJson() const {
  json out;
  ToJson(out);
  return out;
}

void JsonRef::ToJson(json& out) const {
  if (backing_ == Backing::kNlohmann) {
    out = *json_;
  } else if (backing_ == Backing::kSimdjson) {
    ToDom(ElementOf(element_), out);
  }
}

}  // namespace pipeguard::policy
