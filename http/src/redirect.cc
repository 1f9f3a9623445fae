#include "pipeguard/http/redirect.h"

namespace pipeguard::http {
namespace {

std::string ReencodeDecodedUrl(std::string_view decoded) {
  size_t path_start = 0;
  if (size_t scheme_end = decoded.find("://"); scheme_end != std::string_view::npos) {
    path_start = decoded.find('/', scheme_end + 3);
    if (path_start == std::string_view::npos) path_start = decoded.find('?', scheme_end + 3);
    if (path_start == std::string_view::npos) return std::string(decoded);
  } else if (decoded.substr(0, 2) == "//") {
    path_start = decoded.find_first_of("/?", 2);
    if (path_start == std::string_view::npos) return std::string(decoded);
  }
  std::string out(decoded.substr(0, path_start));  // scheme://authority, never percent-encoded
  std::string_view rest = decoded.substr(path_start);
  size_t query = rest.find('?');
  out += PercentEncode(rest.substr(0, query), "/!$&'()*+,;=:@");
  if (query == std::string_view::npos) return out;
  out.push_back('?');
  std::string_view q = rest.substr(query + 1);
  while (true) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    size_t eq = pair.find('=');
    out += PercentEncode(pair.substr(0, eq));
    if (eq != std::string_view::npos) out += "=" + PercentEncode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    out.push_back('&');
    q = q.substr(amp + 1);
  }
  return out;
}

}  // namespace

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

StatusOr<Url> ResolveLocation(const Url& base, std::string_view decoded_location) {
  std::string reencoded = ReencodeDecodedUrl(decoded_location.substr(0, decoded_location.find('#')));
  std::string_view loc = reencoded;
  for (char c : loc) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Status::InvalidArgument("redirect Location contains spaces or control characters");
    }
  }
  if (loc.empty()) return Status::InvalidArgument("redirect has an empty Location");
  if (loc.find("://") != std::string_view::npos && loc.find("://") < loc.find_first_of("/?")) {
    return Url::Parse(loc);
  }
  if (loc.substr(0, 2) == "//") return Url::Parse(base.scheme + ":" + std::string(loc));
  Url url = base;
  if (loc.front() == '/') {
    url.target = std::string(loc);
  } else if (loc.front() == '?') {
    url.target = base.target.substr(0, base.target.find('?')) + std::string(loc);
  } else {
    std::string path = base.target.substr(0, base.target.find('?'));
    url.target = path.substr(0, path.rfind('/') + 1) + std::string(loc);
  }
  return url;
}

StatusOr<RedirectStep> PlanRedirect(const Url& current, int status, std::string_view location, std::string_view method,
                                    std::string_view credential_origin) {
  if (!IsRedirect(status)) {
    return Status::InvalidArgument("HTTP " + std::to_string(status) + " from " + current.Display() +
                                   " is not a redirect");
  }
  auto next = ResolveLocation(current, location);
  if (!next.ok()) {
    return Status::InvalidArgument(current.Display() + " sent a bad redirect: " + next.status().message());
  }
  if (current.scheme == "https" && next->scheme == "http") {
    return Status::InvalidArgument("redirect from " + current.Display() + " to plain-HTTP " + next->Display() +
                                   " refused (TLS downgrade)");
  }
  RedirectStep step;
  step.method = status == 303 ? "GET" : std::string(method);
  step.credentials_allowed = !credential_origin.empty() && next->Origin() == credential_origin;
  step.next = *std::move(next);
  return step;
}

Status RedirectLimitError(int max_redirects) {
  return Status::InvalidArgument("more than " + std::to_string(max_redirects) + " redirects");
}

}  // namespace pipeguard::http
