#include "pipeguard/webhook/decorators.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <new>
#include <nlohmann/json.hpp>
#include <typeinfo>
#include <utility>

#include "pipeguard/imageverify/blocking.h"

namespace pipeguard::webhook {

namespace {

double MillisecondsSince(std::chrono::steady_clock::time_point start, std::chrono::steady_clock::time_point end) {
  return std::chrono::duration<double, std::milli>(end - start).count();
}

std::chrono::steady_clock::time_point StartOf(const AdmissionRequest& request, const SteadyClock& clock) {
  return request.received_at != std::chrono::steady_clock::time_point{} ? request.received_at : clock();
}

// A description of the exception in flight that cannot carry request content. nlohmann's type, range and
// iterator errors name JSON types, keys and indexes; a parse error (not expected here) quotes input bytes, and
// an arbitrary std::exception might say anything, so for those only the type is reported.
std::string DescribeCurrentException() {
  try {
    throw;
  } catch (const nlohmann::json::parse_error&) {
    return "nlohmann::json::parse_error";
  } catch (const nlohmann::json::exception& e) {
    return std::string("nlohmann::json::exception: ") + e.what();
  } catch (const std::bad_alloc&) {
    return "std::bad_alloc";
  } catch (const std::exception& e) {
    return std::string("exception of type ") + typeid(e).name();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace

SteadyClock RealSteadyClock() {
  return [] { return std::chrono::steady_clock::now(); };
}
WallClock RealWallClock() {
  return [] { return std::chrono::system_clock::now(); };
}

AdmissionHandler WithPanicGuard(AdmissionHandler inner, std::function<void(std::string_view)> on_panic) {
  return [inner = std::move(inner), on_panic = std::move(on_panic)](const AdmissionRequest& request) {
    try {
      return inner(request);
    } catch (const imageverify::WouldBlock&) {
      throw;  // not a failure: the server runs the review again where it may wait
    } catch (...) {
      const std::string what = DescribeCurrentException();
      try {
        spdlog::error("admission handler failed for uid {}: {}; replying with an error (request not admitted)",
                      request.uid, what);
        if (on_panic) on_panic(what);
      } catch (...) {
        // Logging must not turn a handled failure into an unhandled one.
      }
      return Errored(request.uid, 500,
                     "pipeguard failed to evaluate this request (internal error; uid " + request.uid +
                         " in the webhook log); it was not admitted. Retry, and report the failure if it persists.");
    }
  };
}

AdmissionHandler WithMetrics(AdmissionHandler inner, WebhookMetrics& metrics, std::string webhook, SteadyClock clock) {
  return [inner = std::move(inner), &metrics, webhook = std::move(webhook),
          clock = std::move(clock)](const AdmissionRequest& request) {
    const auto start = StartOf(request, clock);
    ScopedInFlight in_flight(metrics);
    try {
      AdmissionReply reply = inner(request);
      metrics.RecordAdmission(webhook, reply, MillisecondsSince(start, clock()) / 1000.0);
      return reply;
    } catch (const imageverify::WouldBlock&) {
      throw;  // recorded when the review runs again
    } catch (...) {
      metrics.RecordAdmission(webhook, Errored(request.uid, 500, ""), MillisecondsSince(start, clock()) / 1000.0);
      throw;
    }
  };
}

AdmissionHandler WithAuditLog(AdmissionHandler inner, AuditSink sink, std::string webhook, SteadyClock steady,
                              WallClock wall) {
  return [inner = std::move(inner), sink = std::move(sink), webhook = std::move(webhook), steady = std::move(steady),
          wall = std::move(wall)](const AdmissionRequest& request) {
    const auto start = StartOf(request, steady);
    auto write = [&](const AdmissionReply& reply) {
      try {
        sink(FormatAuditLine(request, reply, webhook, MillisecondsSince(start, steady()), wall()));
      } catch (...) {
        try {
          spdlog::error("audit log write failed for uid {}", request.uid);
        } catch (...) {
        }
      }
    };
    AdmissionReply reply;
    try {
      reply = inner(request);
    } catch (const imageverify::WouldBlock&) {
      throw;  // audited when the review runs again
    } catch (...) {
      write(Errored(request.uid, 500, "internal error (exception escaped the handler)"));
      throw;
    }
    write(reply);
    if (reply.break_glass_ticket) {
      spdlog::warn("break-glass waiver honoured: uid {} user {} {} {}/{} ticket {}", request.uid, request.username,
                   request.kind, request.namespace_, request.name, *reply.break_glass_ticket);
    }
    return reply;
  };
}

}  // namespace pipeguard::webhook
