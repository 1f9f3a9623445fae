#include "pipeguard/http/url.h"

#include <cctype>
#include <charconv>

namespace pipeguard::http {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Status Bad(std::string_view text, std::string_view why) {
  return Status::InvalidArgument("URL \"" + RedactUrl(text) + "\" " + std::string(why) +
                                 " (expected http(s)://host[:port][/path], without user information)");
}

bool IsHostNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-'; }

}  // namespace

std::string PercentEncode(std::string_view s, std::string_view also_raw) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~' || also_raw.find(ch) != std::string_view::npos) {
      out.push_back(ch);
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

std::string RedactUrl(std::string_view text) {
  std::string redacted(text);
  size_t start = redacted.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  size_t end = redacted.find_first_of("/?#", start);
  size_t at = redacted.rfind('@', end == std::string::npos ? redacted.size() : end);
  if (at != std::string::npos && at >= start) redacted.replace(start, at - start, "***");
  std::string out;
  for (char c : redacted) {
    if (out.size() >= 200) {
      out += "...";
      break;
    }
    out.push_back(c > 0x20 && c < 0x7f ? c : '?');
  }
  return out;
}

StatusOr<Url> Url::Parse(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return Bad(text, "contains spaces or control characters");
  }
  const size_t sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0 || text.substr(0, sep).find_first_of("/?#") != std::string_view::npos) {
    return Bad(text, "has no scheme");
  }
  Url url;
  url.scheme = Lower(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https") return Bad(text, "has a scheme other than http or https");
  std::string_view rest = text.substr(sep + 3);
  const size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  if (authority.find('@') != std::string_view::npos) return Bad(text, "carries user information");
  if (authority.empty()) return Bad(text, "has no host");

  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Bad(text, "has an unterminated IPv6 literal");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') return Bad(text, "has characters after its IPv6 literal");
    if (host.empty() || host.find(':') == std::string_view::npos ||
        host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos) {
      return Bad(text, "has an invalid IPv6 literal");
    }
    has_port = !after.empty();
    if (has_port) port = after.substr(1);
  } else {
    const size_t colon = authority.find(':');
    if (colon != authority.rfind(':')) return Bad(text, "has an IPv6 literal without brackets, or two ports");
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      has_port = true;
    }
    if (host.empty()) return Bad(text, "has no host");
    for (char c : host) {
      if (!IsHostNameChar(c)) return Bad(text, "has an invalid host");
    }
  }
  url.host = Lower(host);
  url.port = url.scheme == "https" ? 443 : 80;
  if (has_port) {
    int value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || value < 1 || value > 65535) {
      return Bad(text, "has a port that is not a number from 1 to 65535");
    }
    url.port = value;
    url.explicit_port = true;
  }
  std::string_view target = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  target = target.substr(0, target.find('#'));
  url.target = target.empty() || target.front() != '/' ? "/" + std::string(target) : std::string(target);
  return url;
}

std::string Url::Authority() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (explicit_port) out += ":" + std::to_string(port);
  return out;
}

std::string Url::Origin() const {
  std::string bracketed = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return scheme + "://" + bracketed + ":" + std::to_string(port);
}

std::string Url::Display() const { return scheme + "://" + Authority(); }

}  // namespace pipeguard::http
