// Application logging (startup, reloads, errors): JSON lines on standard error through spdlog's default logger.
//
// Each line is {"ts": RFC 3339, "level": ..., "logger": ..., "msg": ...}. Messages must not contain secret values
// (they name files, rules and fields; never object content).
#pragma once

#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string_view>

#include "pipeguard/base/status.h"

namespace pipeguard::webhook {

// Formats spdlog messages as one JSON object per line.
std::unique_ptr<spdlog::formatter> MakeJsonLineFormatter();

// Accepts trace, debug, info, warn (warning), error, critical, off.
StatusOr<spdlog::level::level_enum> ParseLogLevel(std::string_view text);

// Replaces spdlog's default logger with a JSON-lines logger on standard error at `level`.
void InitJsonLogging(spdlog::level::level_enum level);

}  // namespace pipeguard::webhook
