// The redirect rules every client that follows redirects obeys, written once (no I/O). Only the registry client
// follows redirects today (blob downloads are sent to storage); the Kubernetes and AWS clients never do
// (client.h).
//
// Contract for one hop (PlanRedirect):
//   - only 301, 302, 303, 307 and 308 are redirects;
//   - the Location is resolved against the URL that answered (RFC 3986 §5: absolute, scheme-relative,
//     absolute-path, query-only and relative-path forms); an empty Location, one with spaces or control characters,
//     or one that http::Url refuses (user information, other schemes, bad ports) is an error;
//   - HTTPS never downgrades to plain HTTP;
//   - 303 turns the method into GET; every other redirect keeps the method;
//   - credentials (Authorization) may go only to the origin they were issued for: `credentials_allowed` is true
//     only when the next URL has exactly that origin (scheme, host and port);
//   - the caller counts hops and stops at its limit (RedirectLimitError gives the message).
// Error messages show origins only (Url::Display), never paths or queries, which may carry signatures.
#pragma once

#include <string>
#include <string_view>

#include "pipeguard/base/status.h"
#include "pipeguard/http/url.h"

namespace pipeguard::http {

bool IsRedirect(int status);

struct RedirectStep {
  Url next;
  std::string method;
  bool credentials_allowed = false;
};

// One hop: `current` answered `status` with `location` (the Location header as cpp-httplib delivers it, see
// ResolveLocation); `method` is the request's method and `credential_origin` the origin (Url::Origin) the caller's
// credentials belong to (empty: the caller has none).
StatusOr<RedirectStep> PlanRedirect(const Url& current, int status, std::string_view location, std::string_view method,
                                    std::string_view credential_origin);

// Resolves a Location header against the URL that produced it. cpp-httplib percent-decodes header values while
// parsing, so the bytes the server sent are re-encoded the way presigned URLs write them (every byte outside the
// RFC 3986 unreserved set in query keys and values, outside unreserved, sub-delims, ':', '@' and '/' in the path),
// which restores S3/GCS/Azure/CloudFront signatures exactly.
StatusOr<Url> ResolveLocation(const Url& base, std::string_view decoded_location);

// "more than N redirects".
Status RedirectLimitError(int max_redirects);

}  // namespace pipeguard::http
