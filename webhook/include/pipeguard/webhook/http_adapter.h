// The admission request path below the socket: body bytes in, HTTP status and AdmissionReview bytes out.
//
// The HTTP server calls this for POST /validate and /mutate after its boundary checks (method, content type, body
// size); the fuzz target calls it directly. It never throws.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "pipeguard/webhook/admission.h"

namespace pipeguard::webhook {

struct HttpReply {
  int status = 200;
  std::string body;             // always an admission.k8s.io/v1 AdmissionReview with a response
  std::string rejected_reason;  // non-empty when the request was refused before the handler ran: "malformed"
                                // (HTTP 400) or "internal" (HTTP 500: a failure outside the handler)
};

// Parses `body`; on a malformed body or a non-AdmissionReview replies HTTP 400 with an AdmissionReview error
// response (echoing the uid when it was readable). Otherwise runs `handler` with request.received_at set to
// `received_at` (or now when defaulted) and `deadline` (AdmissionRequest::deadline; default: none) and replies
// HTTP 200 with the handler's reply. Anything thrown is caught and becomes HTTP 500 with an AdmissionReview error
// response, except imageverify::WouldBlock (under a NonBlockingScope), which propagates to the caller.
HttpReply ServeAdmission(std::string_view body, const AdmissionHandler& handler,
                         std::chrono::steady_clock::time_point received_at = {}, const ParseLimits& limits = {},
                         std::chrono::steady_clock::time_point deadline = {});

// An AdmissionReview error response for requests refused before parsing (413, 415, ...): uid as given (may be
// empty), allowed false, status code and message.
std::string AdmissionErrorBody(std::string_view uid, int code, std::string_view message);

}  // namespace pipeguard::webhook
