// RFC 6901 JSON pointers for violation paths.
#pragma once

#include <string>
#include <string_view>

namespace pipeguard::policy {

// Appends "/" + the escaped token ("~" -> "~0", "/" -> "~1") to `pointer`.
void AppendPointerToken(std::string& pointer, std::string_view token);
void AppendPointerIndex(std::string& pointer, size_t index);

// Builds base + "/" + escaped token.
std::string PointerChild(std::string_view base, std::string_view token);
std::string PointerChild(std::string_view base, size_t index);

}  // namespace pipeguard::policy
