// The admission handlers behind /validate and /mutate, and the pure mapping from an engine verdict to a reply.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pipeguard/policy/context.h"
#include "pipeguard/policy/engine.h"
#include "pipeguard/webhook/admission.h"

namespace pipeguard::webhook {

// Wall-clock time as Unix seconds; injected so break-glass expiry is testable.
using UnixClock = std::function<std::int64_t()>;
UnixClock SystemUnixClock();

// Warnings longer than this are cut (Kubernetes truncates long warnings; keep them readable in kubectl output).
inline constexpr size_t kMaxWarningChars = 120;
// At most this many warnings per reply; the rest are summarised in one more warning.
inline constexpr size_t kMaxWarnings = 10;
// At most this many violations are listed in a denial message; the rest are summarised.
inline constexpr size_t kMaxListedViolations = 20;

// True when the request is evaluated by the policy engine: CREATE or UPDATE of a main resource (or of the
// pods/ephemeralcontainers subresource). DELETE, CONNECT and other subresources (status, binding, exec, ...)
// are allowed without evaluation so that pipeguard never blocks a kubelet status update or a deletion.
bool IsEvaluated(const AdmissionRequest& request);

// Builds the reply for an evaluated request from the engine's verdict: denial message (rule IDs, field paths and
// how to fix), warnings for audit-mode and non-blocking findings, audit annotations. Pure and thread-safe.
AdmissionReply ReplyFromVerdict(const AdmissionRequest& request, const policy::Verdict& verdict);

// The /validate handler: evaluates CREATE and UPDATE with `engine` against `context.Current()`; replies
// Errored(503) while no context snapshot is loaded (fail closed). `engine` and `context` must outlive the
// returned handler. `images` may be empty (image verification off or not available).
AdmissionHandler MakeValidatingHandler(const policy::Engine& engine, const policy::ContextProvider& context,
                                       UnixClock clock = SystemUnixClock(), policy::ImageVerdictLookup images = {});

// The /mutate handler: currently allows every request with no patch (digest pinning arrives with the signature
// verifier).
AdmissionHandler MakeMutatingHandler();

}  // namespace pipeguard::webhook
