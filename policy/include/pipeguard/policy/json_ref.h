// A non-owning reference to one JSON value held either by an nlohmann::json DOM or by simdjson's DOM
// (simdjson::dom::element). The engine reads the objects it judges through it, so that the webhook can judge the
// simdjson DOM of a request body without building an nlohmann tree first.
//
// Semantics are nlohmann's parse of the same text, whichever DOM backs the value: of duplicate object keys the LAST
// one is the member (simdjson's DOM keeps every duplicate: lookups and iteration skip the earlier ones), and members
// are iterated in nlohmann's order (sorted by key, bytewise). A JsonRef is cheap to copy (a tag and 16 bytes) and
// valid as long as the DOM it refers to.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>
#include <type_traits>
#include <utility>

namespace simdjson::dom {
class element;
}  // namespace simdjson::dom

namespace pipeguard::policy {

class JsonRef {
 public:
  // What a value is; kAbsent for a JsonRef that refers to nothing (a missing member), kOther for nlohmann values no
  // parse makes (binary, discarded).
  enum class Type : std::uint8_t { kAbsent, kNull, kBoolean, kNumber, kString, kArray, kObject, kOther };

  JsonRef() = default;                                                                         // absent
  JsonRef(const nlohmann::json& value) : backing_(Backing::kNlohmann), type_(TypeOf(value)) {  // NOLINT: implicit
    json_ = &value;
  }
  // `value`, or absent when it is nullptr.
  static JsonRef Of(const nlohmann::json* value) { return value == nullptr ? JsonRef() : JsonRef(*value); }
  // A value of simdjson's DOM; valid as long as the parser that holds the document is not reused or destroyed.
  static JsonRef FromSimdjson(const simdjson::dom::element& element);

  Type type() const { return type_; }  // read once, when the JsonRef is made
  bool present() const { return backing_ != Backing::kAbsent; }
  explicit operator bool() const { return present(); }
  bool is_null() const { return type() == Type::kNull; }
  bool is_boolean() const { return type() == Type::kBoolean; }
  bool is_number() const { return type() == Type::kNumber; }
  bool is_string() const { return type() == Type::kString; }
  bool is_array() const { return type() == Type::kArray; }
  bool is_object() const { return type() == Type::kObject; }

  // The string (a view into the DOM); empty when the value is not a string.
  std::string_view string() const;
  // The boolean; false when the value is not a boolean.
  bool boolean() const;

  // The member `key` of an object (the last of duplicates); absent when there is none or this is not an object.
  JsonRef Find(std::string_view key) const {
    JsonRef found;
    if (type_ == Type::kObject) FindMembers(&key, &found, 1);
    return found;
  }
  // The members `keys` of an object, in the order of `keys` (absent where missing): one pass over the members.
  template <std::size_t N>
  std::array<JsonRef, N> Members(const std::array<std::string_view, N>& keys) const {
    std::array<JsonRef, N> found{};
    FindMembers(keys.data(), found.data(), N);
    return found;
  }

  // Elements of an array; 0 for any other value.
  std::size_t size() const;
  // True for an array without elements or an object without members (and for values that are neither).
  bool empty() const;

  // fn(std::size_t index, JsonRef element) for each element of an array, in order.
  template <typename Fn>
  void ForEachElement(Fn&& fn) const {
    auto call = [](void* f, std::size_t i, JsonRef e) { (*static_cast<std::remove_reference_t<Fn>*>(f))(i, e); };
    VisitElements(const_cast<void*>(static_cast<const void*>(&fn)), call);
  }
  // fn(std::string_view key, JsonRef value) for each member of an object, in nlohmann's order (sorted by key),
  // duplicates once (the last). Keys are views into the DOM.
  template <typename Fn>
  void ForEachMember(Fn&& fn) const {
    auto call = [](void* f, std::string_view k, JsonRef v) { (*static_cast<std::remove_reference_t<Fn>*>(f))(k, v); };
    VisitMembers(const_cast<void*>(static_cast<const void*>(&fn)), call);
  }

  // The nlohmann value this refers to; nullptr when absent or backed by simdjson.
  const nlohmann::json* nlohmann() const { return backing_ == Backing::kNlohmann ? json_ : nullptr; }
  // The value as an nlohmann DOM, exactly as nlohmann::json::parse of the same text gives it (a copy of an nlohmann
  // value; a conversion of a simdjson one, recursing once per level). Absent gives null.
  nlohmann::json ToJson() const;
  // Converts into `out`, which must be null on entry (built in place: no temporary values).
  void ToJson(nlohmann::json& out) const;

 private:
  enum class Backing : std::uint8_t { kAbsent, kNlohmann, kSimdjson };
  static Type TypeOf(const nlohmann::json& value) {
    switch (value.type()) {
      case nlohmann::json::value_t::null:
        return Type::kNull;
      case nlohmann::json::value_t::object:
        return Type::kObject;
      case nlohmann::json::value_t::array:
        return Type::kArray;
      case nlohmann::json::value_t::string:
        return Type::kString;
      case nlohmann::json::value_t::boolean:
        return Type::kBoolean;
      case nlohmann::json::value_t::number_integer:
      case nlohmann::json::value_t::number_unsigned:
      case nlohmann::json::value_t::number_float:
        return Type::kNumber;
      default:
        return Type::kOther;  // binary, discarded: never the result of a parse
    }
  }
  using ElementVisitor = void (*)(void*, std::size_t, JsonRef);
  using MemberVisitor = void (*)(void*, std::string_view, JsonRef);

  void FindMembers(const std::string_view* keys, JsonRef* found, std::size_t n) const;
  void VisitElements(void* fn, ElementVisitor visit) const;
  void VisitMembers(void* fn, MemberVisitor visit) const;

  Backing backing_ = Backing::kAbsent;
  Type type_ = Type::kAbsent;
  union {
    const nlohmann::json* json_ = nullptr;
    alignas(8) unsigned char element_[16];  // a simdjson::dom::element (document pointer, tape index)
  };
};

}  // namespace pipeguard::policy
