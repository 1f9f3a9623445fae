// The audit log: one JSON line per admission reply (DESIGN.md guideline 12), on standard output by default.
//
// A line carries who asked (uid, user, groups), what (operation, kind, namespace, name), and the outcome
// (evaluated, governed, allowed, decision, mode, mode_source, profiles, rules, paths, latency). It never carries the
// object or any value from it other than names: rule IDs and JSON pointers are value-free by construction.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "pipeguard/webhook/admission.h"

namespace pipeguard::webhook {

// Receives one complete JSON line (without the trailing newline). Must be thread-safe.
using AuditSink = std::function<void(std::string_view line)>;

// Writes each line plus "\n" to file descriptor `fd`, bypassing stdio, with lines from concurrent callers never
// interleaved: a line of up to PIPE_BUF bytes (with its newline) goes out in one write(2) and such lines do not wait
// for each other; a longer one is written while no other line is. Write errors are dropped (the reader is gone).
AuditSink FdAuditSink(int fd);
// FdAuditSink(STDOUT_FILENO): the audit log on standard output.
AuditSink StdoutAuditSink();

// Bounds that keep an audit line small whatever the object holds: at most this many findings and images are
// listed (the rest are counted in "findings_unlisted" / "images_unlisted"), and each path, image reference and
// reason is cut to this many bytes.
inline constexpr size_t kMaxAuditFindings = 100;
inline constexpr size_t kMaxAuditImages = 100;
inline constexpr size_t kMaxAuditStringBytes = 512;

// Formats the audit line for `reply` to `request` handled by `webhook` ("validate" or "mutate"). "findings" lists
// at most kMaxAuditFindings; "findings_unlisted" (present when not 0) counts the rest, including the violations the
// engine counted but did not list (AdmissionReply::unlisted_findings).
std::string FormatAuditLine(const AdmissionRequest& request, const AdmissionReply& reply, std::string_view webhook,
                            double latency_ms, std::chrono::system_clock::time_point now);

// RFC 3339 UTC timestamp with milliseconds, e.g. 2025-01-31T12:00:00.123Z.
std::string FormatTimestamp(std::chrono::system_clock::time_point t);

}  // namespace pipeguard::webhook
