#include "pipeguard/base/time.h"

#include <ctime>

namespace pipeguard::base {

std::int64_t DaysFromCivil(std::int64_t year, unsigned month, unsigned day) {
  // Howard Hinnant's days_from_civil: shift the year to start in March so the leap day is the last of it.
  year -= month <= 2;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

std::optional<std::int64_t> ParseTimestamp(std::string_view text, TimestampForm form) {
  const bool lenient = form == TimestampForm::kRfc3339OrUtcWithoutZone;
  auto digits = [&](std::size_t at, std::size_t count) -> std::optional<int> {
    if (at + count > text.size()) return std::nullopt;
    int value = 0;
    for (std::size_t i = at; i < at + count; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' || text[13] != ':' || text[16] != ':') return std::nullopt;
  const char separator = text[10];
  if (separator != 'T' && separator != 't' && !(lenient && separator == ' ')) return std::nullopt;
  const auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
  const auto hour = digits(11, 2), minute = digits(14, 2), second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  std::size_t at = 19;
  if (at < text.size() && text[at] == '.') {
    ++at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') ++at;
  }
  std::int64_t offset = 0;
  const std::string_view zone = text.substr(at);
  if (zone == "Z" || zone == "z" || (lenient && zone.empty())) {
    offset = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    const auto offset_hours = digits(at + 1, 2), offset_minutes = digits(at + 4, 2);
    if (!offset_hours || !offset_minutes) return std::nullopt;
    offset = (*offset_hours * 3600 + *offset_minutes * 60) * (zone[0] == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  return DaysFromCivil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day)) * 86400 + *hour * 3600 +
         *minute * 60 + *second - offset;
}

std::string FormatTimestamp(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

}  // namespace pipeguard::base
