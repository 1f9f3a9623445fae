#include "pipeguard/webhook/http_adapter.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "json_text.h"
#include "pipeguard/imageverify/blocking.h"

namespace pipeguard::webhook {

std::string AdmissionErrorBody(std::string_view uid, int code, std::string_view message) {
  return SerializeAdmissionReview(Errored(std::string(uid), code, std::string(message)));
}

HttpReply ServeAdmission(std::string_view body, const AdmissionHandler& handler,
                         std::chrono::steady_clock::time_point received_at, const ParseLimits& limits,
                         std::chrono::steady_clock::time_point deadline) {
  std::string uid;
  try {
    auto request = ParseAdmissionReview(body, &uid, limits);
    if (!request.ok()) {
      spdlog::debug("rejected a malformed admission request (uid \"{}\"): {}", uid, request.status().message());
      return {400, AdmissionErrorBody(uid, 400, request.status().message()), "malformed"};
    }
    request->received_at =
        received_at != std::chrono::steady_clock::time_point{} ? received_at : std::chrono::steady_clock::now();
    request->deadline = deadline;
    const AdmissionReply reply = handler(*request);
    // The request's DOMs came from ParseAdmissionReview under limits.max_depth: released level by level, not by
    // nlohmann's destructor (see ReleaseJsonDom).
    request->object.Release();
    ReleaseJsonDom(request->old_object);
    return {200, SerializeAdmissionReview(reply), ""};
  } catch (const imageverify::WouldBlock&) {
    throw;  // the caller runs the review again where it may wait
  } catch (...) {
    // Only reached when a handler is not guarded or serialisation fails (e.g. out of memory).
    try {
      spdlog::error("admission request (uid \"{}\") failed outside the handler; replying 500", uid);
      return {500,
              AdmissionErrorBody(uid, 500,
                                 "pipeguard failed to process this request (internal error); it was not admitted"),
              "internal"};
    } catch (...) {
      return {500, "", "internal"};
    }
  }
}

}  // namespace pipeguard::webhook
