// RFC 6901 JSON pointers for violation paths.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace pipeguard::policy {

// Appends "/" + the escaped token ("~" -> "~0", "/" -> "~1") to `pointer`.
void AppendPointerToken(std::string& pointer, std::string_view token);
void AppendPointerIndex(std::string& pointer, size_t index);

// Builds base + "/" + escaped token.
std::string PointerChild(std::string_view base, std::string_view token);
std::string PointerChild(std::string_view base, size_t index);

// A JSON pointer spelled out only when asked (str()): `base`, then "/" + `index` when one is given, then `suffix`.
// Extraction names every env var and argument this way, and only the few that a finding or malformation names
// are ever spelled out; the values of one list share their base. Copying shares the base (it stays alive).
class LazyPointer {
 public:
  static constexpr size_t kNoIndex = static_cast<size_t>(-1);

  LazyPointer() = default;
  // A pointer spelled out already (implicit: entries from config files and tests are named this way).
  LazyPointer(std::string pointer);                                        // NOLINT(google-explicit-constructor)
  LazyPointer(const char* pointer) : LazyPointer(std::string(pointer)) {}  // NOLINT(google-explicit-constructor)
  // `suffix` must be static (a literal, e.g. "/value").
  LazyPointer(std::shared_ptr<const std::string> base, size_t index, std::string_view suffix = {})
      : base_(std::move(base)), index_(index), suffix_(suffix) {}

  std::string str() const;

 private:
  std::shared_ptr<const std::string> base_;  // null: ""
  size_t index_ = kNoIndex;
  std::string_view suffix_;
};

}  // namespace pipeguard::policy
