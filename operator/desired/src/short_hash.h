// Short stable hashes for the names of owned objects (internal).
#pragma once

#include <string>
#include <string_view>

namespace pipeguard::desired::internal {

// The first 12 lowercase hex digits of SHA-256(s).
std::string ShortHash(std::string_view s);

}  // namespace pipeguard::desired::internal
