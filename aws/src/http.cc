#include "pipeguard/aws/http.h"

#include <cctype>
#include <charconv>

namespace pipeguard::aws {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

const std::string* Find(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return &v;
  }
  return nullptr;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

AwsError BadEndpoint(std::string_view url, std::string_view why) {
  return LocalError(errc::kInvalidRequest, StatusCode::kInvalidArgument,
                    "invalid AWS endpoint URL '" + std::string(url) + "': " + std::string(why) +
                        " (expected scheme://host[:port], e.g. https://iam.amazonaws.com or http://127.0.0.1:5000)");
}

}  // namespace

const std::string* HttpRequest::FindHeader(std::string_view name) const { return Find(headers, name); }

void HttpRequest::SetHeader(std::string_view name, std::string value) {
  std::erase_if(headers, [&](const auto& h) { return EqualsIgnoreCase(h.first, name); });
  headers.emplace_back(std::string(name), std::move(value));
}

const std::string* HttpResponse::FindHeader(std::string_view name) const { return Find(headers, name); }

AwsResult<Endpoint> Endpoint::Parse(std::string_view url) {
  Endpoint e;
  auto sep = url.find("://");
  if (sep == std::string_view::npos) return BadEndpoint(url, "no scheme");
  e.scheme = std::string(url.substr(0, sep));
  if (e.scheme != "https" && e.scheme != "http") return BadEndpoint(url, "the scheme must be https or http");
  std::string_view rest = url.substr(sep + 3);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@") != std::string_view::npos) {
    return BadEndpoint(url, "a path, query or user info is not allowed");
  }
  std::string_view host = rest, port;
  if (!rest.empty() && rest.front() == '[') {  // [IPv6]:port
    auto close = rest.find(']');
    if (close == std::string_view::npos) return BadEndpoint(url, "unterminated IPv6 literal");
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return BadEndpoint(url, "junk after the IPv6 literal");
      port = after.substr(1);
    }
  } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty()) return BadEndpoint(url, "no host");
  e.host = std::string(host);
  e.port = e.scheme == "https" ? 443 : 80;
  if (!port.empty()) {
    int p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || ptr != port.data() + port.size() || p < 1 || p > 65535) {
      return BadEndpoint(url, "the port must be a number from 1 to 65535");
    }
    e.port = p;
  }
  return e;
}

std::string Endpoint::HostHeader() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  bool default_port = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
  if (!default_port) {
    h += ':';
    h += std::to_string(port);
  }
  return h;
}

std::string Endpoint::Origin() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return scheme + "://" + h + ":" + std::to_string(port);
}

std::string UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string UriDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string FormEncode(const QueryParams& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out.push_back('&');
    out += UriEncode(k);
    out.push_back('=');
    out += UriEncode(v);
  }
  return out;
}

}  // namespace pipeguard::aws
