#include "pipeguard/profile/cidr.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace pipeguard::api {
namespace {

// True when the first `bits` bits of a and b agree.
bool PrefixEqual(const std::array<std::uint8_t, 16>& a, const std::array<std::uint8_t, 16>& b, int bits) {
  int full = bits / 8;
  if (std::memcmp(a.data(), b.data(), static_cast<size_t>(full)) != 0) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const std::uint8_t mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

Cidr Half(const Cidr& c, int which) {
  Cidr h = c;
  h.prefix_length = c.prefix_length + 1;
  const int bit = c.prefix_length;  // index of the new prefix bit
  const std::uint8_t mask = static_cast<std::uint8_t>(0x80 >> (bit % 8));
  if (which) {
    h.address[bit / 8] |= mask;
  } else {
    h.address[bit / 8] &= static_cast<std::uint8_t>(~mask);
  }
  return h;
}

}  // namespace

bool Cidr::HasHostBits() const {
  for (int bit = prefix_length; bit < bits(); ++bit) {
    if (address[bit / 8] & (0x80 >> (bit % 8))) return true;
  }
  return false;
}

std::string Cidr::ToString() const {
  std::array<std::uint8_t, 16> network{};
  for (int bit = 0; bit < prefix_length; ++bit) {
    network[bit / 8] |= static_cast<std::uint8_t>(address[bit / 8] & (0x80 >> (bit % 8)));
  }
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(ipv6 ? AF_INET6 : AF_INET, network.data(), buffer, sizeof(buffer));
  std::string out(buffer);
  out.append("/").append(std::to_string(prefix_length));
  return out;
}

StatusOr<Cidr> ParseCidr(std::string_view text) {
  const auto slash = text.find('/');
  const std::string shown(text.substr(0, 64));
  if (slash == std::string_view::npos) {
    return Status::InvalidArgument("\"" + shown + "\" is not a CIDR: add the prefix length, e.g. /32 for one IPv4 " +
                                   "address or /128 for one IPv6 address");
  }
  const std::string address(text.substr(0, slash));
  const std::string_view length = text.substr(slash + 1);
  Cidr c;
  c.ipv6 = address.find(':') != std::string::npos;
  if (inet_pton(c.ipv6 ? AF_INET6 : AF_INET, address.c_str(), c.address.data()) != 1) {
    return Status::InvalidArgument("\"" + shown + "\" is not a CIDR: the address is not a valid IPv" +
                                   (c.ipv6 ? "6" : "4") + " address");
  }
  int n = -1;
  auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), n);
  if (ec != std::errc() || end != length.data() + length.size() || length.empty() || n < 0 || n > c.bits() ||
      (length.size() > 1 && length[0] == '0')) {
    return Status::InvalidArgument("\"" + shown + "\" is not a CIDR: the prefix length must be 0.." +
                                   std::to_string(c.bits()));
  }
  c.prefix_length = n;
  return c;
}

bool CidrContains(const Cidr& outer, const Cidr& inner) {
  return outer.ipv6 == inner.ipv6 && outer.prefix_length <= inner.prefix_length &&
         PrefixEqual(outer.address, inner.address, outer.prefix_length);
}

bool CidrsOverlap(const Cidr& a, const Cidr& b) { return CidrContains(a, b) || CidrContains(b, a); }

bool CidrCoveredBy(const Cidr& range, const std::vector<Cidr>& parts) {
  // Split `range` in halves while some part overlaps it without containing it; each level only descends where a
  // part's boundary lies, so the work is bounded by parts.size() * bits.
  bool overlapped = false;
  for (const auto& p : parts) {
    if (CidrContains(p, range)) return true;
    if (CidrsOverlap(p, range)) overlapped = true;
  }
  if (!overlapped || range.prefix_length >= range.bits()) return false;
  return CidrCoveredBy(Half(range, 0), parts) && CidrCoveredBy(Half(range, 1), parts);
}

}  // namespace pipeguard::api
