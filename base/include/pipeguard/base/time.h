// Timestamps as Unix seconds: the one parser and the one formatter of RFC 3339 text in the house.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pipeguard::base {

enum class TimestampForm {
  // Exactly RFC 3339: "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" ('t' and 'z' too). What the Kubernetes API,
  // annotations and policy documents carry.
  kRfc3339,
  // RFC 3339, or with a space for the 'T' and no zone (read as UTC): also what log lines ("[2026-12-06
  // 18:00:00.123]") and people on a command line write.
  kRfc3339OrUtcWithoutZone,
};

// Days since 1970-01-01 of a proleptic Gregorian date (negative before it).
std::int64_t DaysFromCivil(std::int64_t year, unsigned month, unsigned day);

// Unix seconds of `text` in `form` (a zone offset is applied; fractions of a second are dropped); nullopt when the
// text is not that form, a field is out of range (month 13, hour 24, ...) or there is anything after it.
std::optional<std::int64_t> ParseTimestamp(std::string_view text, TimestampForm form = TimestampForm::kRfc3339);

// `unix_seconds` as "YYYY-MM-DDTHH:MM:SSZ" (UTC, second precision: metav1.Time and what ParseTimestamp reads back).
std::string FormatTimestamp(std::int64_t unix_seconds);

}  // namespace pipeguard::base
