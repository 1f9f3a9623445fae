#include "pipeguard/policy/json_pointer.h"

namespace pipeguard::policy {

void AppendPointerToken(std::string& pointer, std::string_view token) {
  pointer.push_back('/');
  for (char c : token) {
    if (c == '~') {
      pointer += "~0";
    } else if (c == '/') {
      pointer += "~1";
    } else {
      pointer.push_back(c);
    }
  }
}

void AppendPointerIndex(std::string& pointer, size_t index) {
  pointer.push_back('/');
  pointer += std::to_string(index);
}

std::string PointerChild(std::string_view base, std::string_view token) {
  std::string out(base);
  AppendPointerToken(out, token);
  return out;
}

std::string PointerChild(std::string_view base, size_t index) {
  std::string out(base);
  AppendPointerIndex(out, index);
  return out;
}

LazyPointer::LazyPointer(std::string pointer) {
  if (!pointer.empty()) base_ = std::make_shared<const std::string>(std::move(pointer));
}

std::string LazyPointer::str() const {
  std::string out = base_ != nullptr ? *base_ : std::string();
  if (index_ != kNoIndex) AppendPointerIndex(out, index_);
  out += suffix_;
  return out;
}

}  // namespace pipeguard::policy
