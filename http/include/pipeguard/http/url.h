// Absolute http(s) URLs as the HTTP clients use them: parsed once, strictly, with no I/O.
//
// Contract:
//   - Parse accepts "scheme://host[:port][/path][?query][#fragment]" with scheme http or https (any case), a host
//     name (letters, digits, '.', '-'), an IPv4 literal or a bracketed IPv6 literal, and a port from 1 to 65535.
//     It refuses user information ("user:pass@host": credentials never travel in a URL), a missing scheme or
//     host, other schemes, ports out of range, and spaces or control characters anywhere. Scheme and host are
//     lowercased; the path and query are kept byte-exact (presigned URLs), the fragment is dropped.
//   - Error messages and Display() never show user information, even from a refused URL.
#pragma once

#include <string>
#include <string_view>

#include "pipeguard/base/status.h"

namespace pipeguard::http {

struct Url {
  std::string scheme;          // "http" or "https"
  std::string host;            // lowercased; an IPv6 literal without its brackets
  int port = 0;                // as written, or the scheme's default (80, 443)
  bool explicit_port = false;  // whether the URL named the port
  std::string target;          // path and query, byte-exact; never empty ("/" at least)

  static StatusOr<Url> Parse(std::string_view text);

  // "host[:port]" with IPv6 in brackets and the port only when the URL named it (the Host header's form).
  std::string Authority() const;
  // "scheme://host:port" with the port always explicit: the key for "same server" decisions and connection reuse.
  std::string Origin() const;
  // "scheme://host[:port]" for messages: no path or query (they may carry signatures), never credentials.
  std::string Display() const;
};

// Percent-encodes `s` the RFC 3986 way: unreserved characters (A-Z a-z 0-9 - . _ ~) and those in `also_raw`
// stay, every other byte becomes %XX with upper-case hex. (SigV4, Kubernetes query values and registry token
// requests all want exactly this.)
std::string PercentEncode(std::string_view s, std::string_view also_raw = "");

// `text` fit for an error message: user information replaced by "***", at most 200 printable ASCII characters.
std::string RedactUrl(std::string_view text);

}  // namespace pipeguard::http
