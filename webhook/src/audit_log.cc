#include "pipeguard/webhook/audit_log.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "pipeguard/base/text.h"

namespace pipeguard::webhook {

using base::TruncateUtf8;
using nlohmann::json;

AuditSink StdoutAuditSink() {
  auto mutex = std::make_shared<std::mutex>();
  return [mutex](std::string_view line) {
    std::lock_guard lock(*mutex);
    std::string buffer;
    buffer.reserve(line.size() + 1);
    buffer.append(line);
    buffer.push_back('\n');
    std::fwrite(buffer.data(), 1, buffer.size(), stdout);
    std::fflush(stdout);
  };
}

std::string FormatTimestamp(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[40];
  const size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buffer + n, sizeof buffer - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buffer;
}

std::string FormatAuditLine(const AdmissionRequest& request, const AdmissionReply& reply, std::string_view webhook,
                            double latency_ms, std::chrono::system_clock::time_point now) {
  std::set<std::string> rules;
  json paths = json::array();
  json findings = json::array();
  for (const auto& f : reply.findings) {
    rules.insert(f.rule);
    if (findings.size() == kMaxAuditFindings) continue;
    std::string path = TruncateUtf8(f.path, kMaxAuditStringBytes);
    paths.push_back(path);
    findings.push_back({{"rule", TruncateUtf8(f.rule, kMaxAuditStringBytes)},
                        {"path", std::move(path)},
                        {"severity", f.severity},
                        {"blocking", f.blocking},
                        {"waived", f.waived}});
  }
  rules.insert(reply.unlisted_rules.begin(), reply.unlisted_rules.end());
  const size_t unlisted_findings = reply.findings.size() - findings.size() + reply.unlisted_findings;
  json line = {
      {"ts", FormatTimestamp(now)},
      {"log", "audit"},
      {"webhook", webhook},
      {"uid", request.uid},
      {"user", request.username},
      {"groups", request.groups},
      {"operation", request.operation},
      {"kind", request.kind},
      {"group", request.kind_group},
      {"namespace", request.namespace_},
      {"name", request.name},
      {"dry_run", request.dry_run},
      {"evaluated", reply.evaluated},
      {"governed", reply.governed},
      {"allowed", reply.allowed},
      {"decision", ToString(reply.decision)},
      {"code", reply.code},
      {"mode", reply.mode},
      {"mode_source", reply.mode_source},
      {"profiles", reply.profiles},
      {"rules", rules},
      {"paths", std::move(paths)},
      {"findings", std::move(findings)},
      {"latency_ms", std::round(latency_ms * 1000.0) / 1000.0},
  };
  if (unlisted_findings > 0) line["findings_unlisted"] = unlisted_findings;
  if (!request.sub_resource.empty()) line["sub_resource"] = request.sub_resource;
  if (!reply.not_evaluated_reason.empty()) line["not_evaluated"] = reply.not_evaluated_reason;
  if (reply.break_glass_ticket) line["break_glass_ticket"] = *reply.break_glass_ticket;
  if (!reply.images.empty()) {
    json images = json::array();
    for (const auto& image : reply.images) {
      if (images.size() == kMaxAuditImages) break;
      json entry = {{"image", TruncateUtf8(image.image, kMaxAuditStringBytes)},
                    {"digest", image.digest},
                    {"verified", image.verified},
                    {"source", image.source},
                    {"key", image.key_name},
                    {"reason", TruncateUtf8(image.reason, kMaxAuditStringBytes)}};
      images.push_back(std::move(entry));
    }
    if (reply.images.size() > images.size()) line["images_unlisted"] = reply.images.size() - images.size();
    line["images"] = std::move(images);
  }
  // Error messages are built by pipeguard from value-free parts; denial messages are not repeated here (the
  // findings carry the same rule IDs and paths).
  if (reply.decision == Decision::kError) line["error"] = reply.message;
  return line.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace pipeguard::webhook
