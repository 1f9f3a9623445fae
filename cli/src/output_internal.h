// Internal helpers shared by the output renderers.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "pipeguard/policy/types.h"

namespace pipeguard::cli::internal {

// Pretty-printed JSON with a trailing newline; invalid UTF-8 is replaced rather than thrown on.
std::string DumpJson(const nlohmann::json& value);

// Replaces control characters (except newline) so that text from manifests cannot drive a terminal.
std::string SanitizeForTerminal(std::string_view text);

// SARIF result level for a severity: critical/high -> error, medium -> warning, low/info -> note.
std::string_view SarifLevel(policy::Severity severity);

}  // namespace pipeguard::cli::internal
