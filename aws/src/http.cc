#include "pipeguard/aws/http.h"

#include <cctype>

#include "pipeguard/http/url.h"

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

AwsError BadEndpoint(std::string_view why) {
  return LocalError(
      errc::kInvalidRequest, StatusCode::kInvalidArgument,
      "invalid AWS endpoint URL: " + std::string(why) +
          "; an endpoint is scheme://host[:port], e.g. https://iam.amazonaws.com or http://127.0.0.1:5000");
}

http::Url ToUrl(const Endpoint& e) {
  const bool default_port = (e.scheme == "https" && e.port == 443) || (e.scheme == "http" && e.port == 80);
  return http::Url{e.scheme, e.host, e.port, /*explicit_port=*/!default_port, "/"};
}

}  // namespace

const std::string* HttpRequest::FindHeader(std::string_view name) const { return Find(headers, name); }

void HttpRequest::SetHeader(std::string_view name, std::string value) {
  std::erase_if(headers, [&](const auto& h) { return EqualsIgnoreCase(h.first, name); });
  headers.emplace_back(std::string(name), std::move(value));
}

const std::string* HttpResponse::FindHeader(std::string_view name) const { return Find(headers, name); }

AwsResult<Endpoint> Endpoint::Parse(std::string_view url) {
  auto parsed = http::Url::Parse(url);
  if (!parsed.ok()) return BadEndpoint(parsed.status().message());
  if (parsed->target != "/" || url.find('#') != std::string_view::npos) {
    return BadEndpoint("\"" + http::RedactUrl(url) + "\" has a path, query or fragment, which an endpoint cannot have");
  }
  return Endpoint{parsed->scheme, parsed->host, parsed->port};
}

std::string Endpoint::HostHeader() const { return ToUrl(*this).Authority(); }

std::string Endpoint::Origin() const { return ToUrl(*this).Origin(); }

std::string UriEncode(std::string_view s, bool keep_slash) { return http::PercentEncode(s, keep_slash ? "/" : ""); }

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
