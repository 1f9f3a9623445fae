#include "pipeguard/webhook/logging.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <string>

#include "pipeguard/webhook/audit_log.h"

namespace pipeguard::webhook {

namespace {

class JsonLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto level = spdlog::level::to_string_view(msg.level);
    const nlohmann::json line = {
        {"ts", FormatTimestamp(std::chrono::time_point_cast<std::chrono::system_clock::duration>(msg.time))},
        {"level", std::string(level.data(), level.size())},
        {"logger", std::string(msg.logger_name.data(), msg.logger_name.size())},
        {"msg", std::string(msg.payload.data(), msg.payload.size())},
    };
    const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonLineFormatter>(); }
};

}  // namespace

std::unique_ptr<spdlog::formatter> MakeJsonLineFormatter() { return std::make_unique<JsonLineFormatter>(); }

StatusOr<spdlog::level::level_enum> ParseLogLevel(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "trace") return spdlog::level::trace;
  if (lower == "debug") return spdlog::level::debug;
  if (lower == "info") return spdlog::level::info;
  if (lower == "warn" || lower == "warning") return spdlog::level::warn;
  if (lower == "error") return spdlog::level::err;
  if (lower == "critical") return spdlog::level::critical;
  if (lower == "off") return spdlog::level::off;
  return Status::InvalidArgument("unknown log level \"" + std::string(text) +
                                 "\" (use trace, debug, info, warn, error, critical or off)");
}

void InitJsonLogging(spdlog::level::level_enum level) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("pipeguard-webhook", std::move(sink));
  logger->set_formatter(MakeJsonLineFormatter());
  logger->set_level(level);
  logger->flush_on(spdlog::level::trace);  // every line reaches the container log at once
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace pipeguard::webhook
