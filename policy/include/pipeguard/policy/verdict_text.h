// One presentation of a verdict for every entrance: the webhook's denial message, warnings, audit annotations and
// audit line, and the reports of `pipeguard scan`, take their words from here, so a verdict reads the same wherever
// it is seen (the reason a break-glass request was refused, where the mode came from).
//
// Pure functions of a Verdict; thread-safe. Value-free: they quote only rule IDs, JSON pointers, severities, mode
// sources, profile IDs and violation messages, which never carry a secret value (types.h), and each piece is
// bounded so that a reply or a report line stays small whatever the object holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pipeguard/policy/types.h"

namespace pipeguard::policy {

// What one listed violation does to its request.
enum class Disposition : std::uint8_t {
  kDenies,     // blocking and not waived, in enforce mode: the request is denied
  kWouldDeny,  // blocking and not waived, in audit mode: allowed, reported
  kWarns,      // below the blocking severity (or a break-glass finding): allowed, reported
  kWaived,     // waived by an honoured break-glass request
};
Disposition DispositionOf(const Verdict& verdict, const Violation& violation);
// The token in reports and tags: "deny", "would-deny", "warn", "waived".
std::string_view ToString(Disposition disposition);
// The words before a finding in warnings and notes: "denied", "audit (would deny)", "warning", "break-glass waived".
std::string_view Describe(Disposition disposition);

// Bounds of FindingLine's pieces, in bytes (cut on a UTF-8 boundary, marked with "...").
inline constexpr std::size_t kMaxFindingPathBytes = 256;
inline constexpr std::size_t kMaxFindingMessageBytes = 400;
// Bound of the profile list in ModeContext, in bytes.
inline constexpr std::size_t kMaxProfileListBytes = 256;

// One finding: "<rule> at <path>: <message>", e.g. "break-glass at /metadata/annotations/pipeguard.io~1break-glass-
// rules: break-glass not honoured: the expiry is more than 168h ahead (see docs/break-glass.md)". The path and the
// message are each bounded (kMaxFindingPathBytes, kMaxFindingMessageBytes); without a path (the whole object) it is
// "<rule>: <message>".
std::string FindingLine(const Violation& violation);

// The mode with where it came from: "<mode> from <source>", e.g. "enforce from config", "audit from namespace etl",
// "enforce from profile etl/loader" (Verdict::mode_source); just "<mode>" when the source is unknown.
std::string ModeLine(const Verdict& verdict);

// "mode <ModeLine>", then "; profile <ns>/<name>, ..." when profiles select the object (the list bounded by
// kMaxProfileListBytes), e.g. "mode enforce from profile etl/loader; profile etl/loader".
std::string ModeContext(const Verdict& verdict);

// Why a verdict denies, counting every denial (listed or not): "<n> violation(s) (<ModeContext>)", e.g.
// "2 violations (mode enforce from config; profile etl/a, etl/b)".
std::string DenialSummary(const Verdict& verdict);

}  // namespace pipeguard::policy
