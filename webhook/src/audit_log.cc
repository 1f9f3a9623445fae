#include "pipeguard/webhook/audit_log.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <set>
#include <shared_mutex>

#include "pipeguard/base/json_writer.h"
#include "pipeguard/base/text.h"

namespace pipeguard::webhook {

using base::TruncateUtf8;

AuditSink FdAuditSink(int fd) {
  // Writers of lines up to PIPE_BUF share the lock: one write(2) of at most PIPE_BUF bytes is never split on a pipe,
  // and on a regular file Linux serialises the offset update, so such lines cannot tear each other. A longer line
  // may be written in pieces and holds the lock alone. The common line is short, so the two event loops do not
  // wait on each other's system call (they did with a mutex around fwrite + fflush).
  auto long_line = std::make_shared<std::shared_mutex>();
  return [fd, long_line](std::string_view line) {
    std::string buffer;
    buffer.reserve(line.size() + 1);
    buffer.append(line);
    buffer.push_back('\n');
    const auto write_all = [&] {
      for (size_t written = 0; written < buffer.size();) {
        const ssize_t n = ::write(fd, buffer.data() + written, buffer.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // the reader is gone or the disk is full: nothing here can help
        written += static_cast<size_t>(n);
      }
    };
    if (buffer.size() <= PIPE_BUF) {
      std::shared_lock lock(*long_line);
      write_all();
    } else {
      std::unique_lock lock(*long_line);
      write_all();
    }
  };
}

AuditSink StdoutAuditSink() { return FdAuditSink(STDOUT_FILENO); }

std::string FormatTimestamp(std::chrono::system_clock::time_point t) {
  const auto since_epoch = std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch());
  const auto whole_seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const std::time_t seconds = static_cast<std::time_t>(whole_seconds.count());
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  // YYYY-MM-DDTHH:MM:SS.mmmZ, written digit by digit: every audit line carries one, and strftime + snprintf cost
  // ten times as much. Years outside 0000-9999 do not occur on a running cluster's clock; they are clamped.
  std::string text = "0000-00-00T00:00:00.000Z";
  const auto put = [&text](size_t at, size_t width, long value) {
    for (size_t i = at + width; i-- > at; value /= 10) text[i] = static_cast<char>('0' + value % 10);
  };
  put(0, 4, std::clamp<long>(utc.tm_year + 1900L, 0, 9999));
  put(5, 2, utc.tm_mon + 1);
  put(8, 2, utc.tm_mday);
  put(11, 2, utc.tm_hour);
  put(14, 2, utc.tm_min);
  put(17, 2, utc.tm_sec);
  put(20, 3, static_cast<long>((since_epoch - whole_seconds).count()));
  return text;
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
