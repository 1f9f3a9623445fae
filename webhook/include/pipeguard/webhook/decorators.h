// Cross-cutting concerns as decorators around one AdmissionHandler (DESIGN.md guideline 5). Each takes the inner
// handler by value, returns a new handler, and is testable alone. The production chain (outermost first) is
//
//   WithMetrics(WithAuditLog(WithPanicGuard(MakeValidatingHandler(...))))
//
// so a panic is turned into an error reply first, then logged once, then counted once.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "pipeguard/webhook/admission.h"
#include "pipeguard/webhook/audit_log.h"
#include "pipeguard/webhook/metrics.h"

namespace pipeguard::webhook {

using SteadyClock = std::function<std::chrono::steady_clock::time_point()>;
using WallClock = std::function<std::chrono::system_clock::time_point()>;
SteadyClock RealSteadyClock();
WallClock RealWallClock();

// Catches every exception thrown by `inner` and returns Errored(uid, 500, ...) instead: the request is not
// admitted, the server keeps running. `on_panic` (optional) receives a value-free description (exception type and,
// for exceptions known to be value-free, their message); the guard also logs it at error level.
AdmissionHandler WithPanicGuard(AdmissionHandler inner, std::function<void(std::string_view)> on_panic = {});

// Counts every reply by decision and rule, observes the latency from request.received_at (or from entry when
// unknown), and holds the in-flight gauge while `inner` runs. `metrics` must outlive the handler. If `inner`
// throws, the request is counted as an error and the exception propagates.
AdmissionHandler WithMetrics(AdmissionHandler inner, WebhookMetrics& metrics, std::string webhook,
                             SteadyClock clock = RealSteadyClock());

// Writes exactly one audit line per reply to `sink` (see audit_log.h), and logs honoured break-glass waivers at
// warning level. A throwing sink is logged and ignored: auditing never changes the decision. If `inner` throws,
// an error line is written and the exception propagates.
AdmissionHandler WithAuditLog(AdmissionHandler inner, AuditSink sink, std::string webhook,
                              SteadyClock steady = RealSteadyClock(), WallClock wall = RealWallClock());

}  // namespace pipeguard::webhook
