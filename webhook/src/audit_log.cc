#include "pipeguard/webhook/audit_log.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <set>

#include "pipeguard/base/json_writer.h"
#include "pipeguard/base/text.h"

namespace pipeguard::webhook {

using base::TruncateUtf8;

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
  std::set<std::string_view> rules(reply.unlisted_rules.begin(), reply.unlisted_rules.end());
  for (const auto& f : reply.findings) rules.insert(f.rule);
  const size_t listed = std::min(reply.findings.size(), kMaxAuditFindings);
  const size_t unlisted_findings = reply.findings.size() - listed + reply.unlisted_findings;

  std::string line;
  line.reserve(512 + 160 * listed);
  base::JsonWriter out(line);
  out.BeginObject()
      .Member("ts", FormatTimestamp(now))
      .Member("log", "audit")
      .Member("webhook", webhook)
      .Member("uid", request.uid)
      .Member("user", request.username);
  out.Key("groups").StringArray(request.groups);
  out.Member("operation", request.operation)
      .Member("kind", request.kind)
      .Member("group", request.kind_group)
      .Member("namespace", request.namespace_)
      .Member("name", request.name)
      .Member("dry_run", request.dry_run)
      .Member("evaluated", reply.evaluated)
      .Member("governed", reply.governed)
      .Member("allowed", reply.allowed)
      .Member("decision", ToString(reply.decision))
      .Member("code", reply.code)
      .Member("mode", reply.mode)
      .Member("mode_source", reply.mode_source);
  out.Key("profiles").StringArray(reply.profiles);
  out.Key("rules").BeginArray();
  for (std::string_view rule : rules) out.String(TruncateUtf8(rule, kMaxAuditStringBytes));
  out.EndArray();
  out.Key("paths").BeginArray();
  for (size_t i = 0; i < listed; ++i) out.String(TruncateUtf8(reply.findings[i].path, kMaxAuditStringBytes));
  out.EndArray();
  out.Key("findings").BeginArray();
  for (size_t i = 0; i < listed; ++i) {
    const ReplyFinding& f = reply.findings[i];
    out.BeginObject()
        .Member("rule", TruncateUtf8(f.rule, kMaxAuditStringBytes))
        .Member("path", TruncateUtf8(f.path, kMaxAuditStringBytes))
        .Member("severity", f.severity)
        .Member("blocking", f.blocking)
        .Member("waived", f.waived)
        .EndObject();
  }
  out.EndArray();
  out.Member("latency_ms", std::round(latency_ms * 1000.0) / 1000.0);
  if (unlisted_findings > 0) out.Member("findings_unlisted", uint64_t{unlisted_findings});
  if (!request.sub_resource.empty()) out.Member("sub_resource", request.sub_resource);
  if (!reply.not_evaluated_reason.empty()) out.Member("not_evaluated", reply.not_evaluated_reason);
  if (reply.break_glass_ticket) out.Member("break_glass_ticket", *reply.break_glass_ticket);
  if (!reply.images.empty()) {
    const size_t images = std::min(reply.images.size(), kMaxAuditImages);
    out.Key("images").BeginArray();
    for (size_t i = 0; i < images; ++i) {
      const ReplyImage& image = reply.images[i];
      out.BeginObject()
          .Member("image", TruncateUtf8(image.image, kMaxAuditStringBytes))
          .Member("digest", image.digest)
          .Member("verified", image.verified)
          .Member("source", image.source)
          .Member("key", image.key_name)
          .Member("reason", TruncateUtf8(image.reason, kMaxAuditStringBytes))
          .EndObject();
    }
    out.EndArray();
    if (reply.images.size() > images) out.Member("images_unlisted", uint64_t{reply.images.size() - images});
  }
  // Error messages are built by pipeguard from value-free parts; denial messages are not repeated here (the
  // findings carry the same rule IDs and paths).
  if (reply.decision == Decision::kError) out.Member("error", reply.message);
  out.EndObject();
  return line;
}

}  // namespace pipeguard::webhook
