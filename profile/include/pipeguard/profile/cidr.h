// IPv4/IPv6 CIDR blocks: parsing and set relations, for NetworkPolicy ipBlocks and egress guardrails. Pure.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pipeguard/base/status.h"

namespace pipeguard::api {

struct Cidr {
  bool ipv6 = false;
  std::array<std::uint8_t, 16> address{};  // IPv4 uses the first 4 bytes; host bits may be set (see HasHostBits)
  int prefix_length = 0;                   // 0..32 or 0..128

  int bits() const { return ipv6 ? 128 : 32; }
  // True when bits beyond the prefix are set, e.g. 10.0.0.1/16 (Kubernetes warns; we reject such input).
  bool HasHostBits() const;
  // The network address with host bits cleared, e.g. "10.0.0.0/16"; IPv6 in RFC 5952 form.
  std::string ToString() const;
};

// Parses "a.b.c.d/n" or an IPv6 "x::y/n". A missing "/n" is an error (say what was meant: /32 or /128).
StatusOr<Cidr> ParseCidr(std::string_view text);

// Set relations between the address ranges; different families never overlap or contain each other.
bool CidrContains(const Cidr& outer, const Cidr& inner);
bool CidrsOverlap(const Cidr& a, const Cidr& b);
// True when every address of `range` lies in at least one of `parts`.
bool CidrCoveredBy(const Cidr& range, const std::vector<Cidr>& parts);

}  // namespace pipeguard::api
