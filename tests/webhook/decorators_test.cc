// Each decorator alone, around a fake handler, with injected clocks.
#include "pipeguard/webhook/decorators.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <climits>
#include <stdexcept>
#include <thread>

#include "test_support.h"

namespace pipeguard::webhook {
namespace {

using nlohmann::json;

AdmissionRequest Request(std::string uid = "d-1") {
  AdmissionRequest request;
  request.uid = std::move(uid);
  request.operation = "CREATE";
  request.kind = "Pod";
  request.namespace_ = "etl";
  request.name = "p";
  request.username = "alice";
  request.groups = {"team-data"};
  return request;
}

AdmissionReply DeniedWithFindings(const AdmissionRequest& request) {
  AdmissionReply reply = Denied(request.uid, "no");
  reply.evaluated = reply.governed = true;
  reply.mode = "enforce";
  reply.mode_source = "config";
  reply.findings = {{"plaintext-secret", "/spec/containers/0/env/1/value", "high", true, false},
                    {"plaintext-secret", "/spec/containers/0/env/2/value", "high", true, false},
                    {"untrusted-registry", "/spec/containers/0/image", "high", true, false}};
  return reply;
}

// A clock that advances by `step` on every call.
SteadyClock SteppingClock(std::chrono::microseconds step) {
  auto now = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::time_point{} +
                                                                     std::chrono::hours(1));
  return [now, step] { return *now += step; };
}

// Value of the series in Prometheus text `metrics` whose line starts with `series` (name plus labels).
double SeriesValue(const std::string& metrics, const std::string& series) {
  size_t pos = 0;
  while ((pos = metrics.find(series, pos)) != std::string::npos) {
    if (pos == 0 || metrics[pos - 1] == '\n') {
      const size_t space = metrics.find(' ', pos + series.size());
      return std::stod(metrics.substr(space + 1, metrics.find('\n', space) - space - 1));
    }
    ++pos;
  }
  return -1;
}

TEST(FormatTimestamp, WritesUtcMillisecondsInFixedWidth) {
  using std::chrono::milliseconds;
  const auto at = [](int64_t ms) { return std::chrono::system_clock::time_point(milliseconds(ms)); };
  EXPECT_EQ(FormatTimestamp(at(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(at(1709164800007)), "2024-02-29T00:00:00.007Z");  // leap day, 7 ms
  EXPECT_EQ(FormatTimestamp(at(1798761599999)), "2026-12-31T23:59:59.999Z");  // the last millisecond of a year
  EXPECT_EQ(FormatTimestamp(at(1796119200450)), "2026-12-01T10:00:00.450Z");
  // Sub-millisecond parts are cut, never rounded up into the next second.
  EXPECT_EQ(FormatTimestamp(std::chrono::system_clock::time_point(std::chrono::microseconds(1999999))),
            "1970-01-01T00:00:01.999Z");
}

TEST(WithPanicGuard, TurnsExceptionsIntoErrorRepliesWithTheUid) {
  std::vector<std::string> panics;
  AdmissionHandler guarded = WithPanicGuard(
      [](const AdmissionRequest&) -> AdmissionReply { throw std::runtime_error("secret: hunter2-value"); },
      [&](std::string_view what) { panics.emplace_back(what); });
  testing::CapturedLogs logs;
  const AdmissionReply reply = guarded(Request("boom-1"));
  EXPECT_FALSE(reply.allowed);
  EXPECT_EQ(reply.code, 500);
  EXPECT_EQ(reply.uid, "boom-1");
  EXPECT_EQ(reply.decision, Decision::kError);
  ASSERT_EQ(panics.size(), 1u);
  // Arbitrary exception messages may carry request content: only the type is reported and logged.
  EXPECT_EQ(panics[0].find("hunter2"), std::string::npos) << panics[0];
  EXPECT_EQ(logs.Text().find("hunter2"), std::string::npos) << logs.Text();
  EXPECT_NE(logs.Text().find("boom-1"), std::string::npos);
}

TEST(WithPanicGuard, CatchesNonStandardExceptions) {
  AdmissionHandler guarded = WithPanicGuard([](const AdmissionRequest&) -> AdmissionReply { throw 42; });
  testing::CapturedLogs logs;
  EXPECT_EQ(guarded(Request()).code, 500);
}

TEST(WithPanicGuard, PassesRepliesThrough) {
  AdmissionHandler guarded = WithPanicGuard([](const AdmissionRequest& r) { return Allowed(r.uid); });
  const AdmissionReply reply = guarded(Request("ok-1"));
  EXPECT_TRUE(reply.allowed);
  EXPECT_EQ(reply.uid, "ok-1");
}

TEST(WithMetrics, CountsDecisionRulesAndLatency) {
  WebhookMetrics metrics;
  std::string in_flight_during_call;
  AdmissionHandler handler = WithMetrics(
      [&](const AdmissionRequest& r) {
        in_flight_during_call = metrics.Serialize();
        return DeniedWithFindings(r);
      },
      metrics, "validate", SteppingClock(std::chrono::microseconds(2000)));
  handler(Request());
  handler(Request());
  const std::string text = metrics.Serialize();
  EXPECT_EQ(SeriesValue(in_flight_during_call, "pipeguard_webhook_in_flight_requests"), 1);
  EXPECT_EQ(SeriesValue(text, "pipeguard_webhook_in_flight_requests"), 0);
  EXPECT_EQ(SeriesValue(text, "pipeguard_webhook_requests_total{decision=\"denied\",webhook=\"validate\"}"), 2);
  EXPECT_EQ(SeriesValue(text, "pipeguard_webhook_requests_total{decision=\"allowed\",webhook=\"validate\"}"), 0);
  // Counted once per request per rule, not per finding.
  EXPECT_EQ(SeriesValue(text,
                        "pipeguard_webhook_rule_requests_total{decision=\"denied\",rule=\"plaintext-secret\","
                        "webhook=\"validate\"}"),
            2);
  EXPECT_EQ(SeriesValue(text,
                        "pipeguard_webhook_rule_requests_total{decision=\"denied\",rule=\"untrusted-registry\","
                        "webhook=\"validate\"}"),
            2);
  // The stepping clock makes each request take exactly 2 ms: in the 2.5 ms bucket, not in the 1 ms one.
  EXPECT_EQ(SeriesValue(text, "pipeguard_webhook_request_duration_seconds_bucket{webhook=\"validate\",le=\"0.001\"}"),
            0);
  EXPECT_EQ(SeriesValue(text, "pipeguard_webhook_request_duration_seconds_bucket{webhook=\"validate\",le=\"0.0025\"}"),
            2);
  EXPECT_EQ(SeriesValue(text, "pipeguard_webhook_request_duration_seconds_count{webhook=\"validate\"}"), 2);
}

TEST(WithMetrics, MeasuresFromReceivedAtWhenKnown) {
  WebhookMetrics metrics;
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(2);
  AdmissionHandler handler = WithMetrics([](const AdmissionRequest& r) { return Allowed(r.uid); }, metrics, "validate",
                                         [t0] { return t0 + std::chrono::milliseconds(300); });
  AdmissionRequest request = Request();
  request.received_at = t0;
  handler(request);
  const std::string text = metrics.Serialize();
  EXPECT_EQ(SeriesValue(text, "pipeguard_webhook_request_duration_seconds_bucket{webhook=\"validate\",le=\"0.25\"}"),
            0);
  EXPECT_EQ(SeriesValue(text, "pipeguard_webhook_request_duration_seconds_bucket{webhook=\"validate\",le=\"0.5\"}"), 1);
}

TEST(WithMetrics, CountsAThrowingHandlerAsErrorAndRethrows) {
  WebhookMetrics metrics;
  AdmissionHandler handler =
      WithMetrics([](const AdmissionRequest&) -> AdmissionReply { throw std::runtime_error("x"); }, metrics, "mutate");
  EXPECT_THROW(handler(Request()), std::runtime_error);
  const std::string text = metrics.Serialize();
  EXPECT_EQ(SeriesValue(text, "pipeguard_webhook_requests_total{decision=\"error\",webhook=\"mutate\"}"), 1);
  EXPECT_EQ(SeriesValue(text, "pipeguard_webhook_in_flight_requests"), 0);
}

TEST(FdAuditSink, LinesFromConcurrentWritersArriveWholeWhateverTheirSize) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::string received;
  std::thread reader([&] {
    char chunk[65536];
    for (ssize_t n; (n = ::read(fds[0], chunk, sizeof chunk)) > 0;) received.append(chunk, static_cast<size_t>(n));
  });
  // Short lines (one write each, sharing the lock) mixed with lines longer than PIPE_BUF and than the pipe's
  // buffer (written in pieces, alone): each line is one letter repeated after its writer's tag.
  const std::vector<size_t> sizes = {10, PIPE_BUF - 1, PIPE_BUF, 3 * PIPE_BUF, 70000};
  constexpr int kWriters = 4, kLinesEach = 150;
  {
    const AuditSink sink = FdAuditSink(fds[1]);
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        for (int i = 0; i < kLinesEach; ++i) {
          const char letter = static_cast<char>('a' + (w * 7 + i) % 26);
          sink(std::string(1, letter) + ":" + std::string(sizes[(w + i) % sizes.size()], letter));
        }
      });
    }
    for (auto& t : writers) t.join();
  }
  ::close(fds[1]);
  reader.join();
  ::close(fds[0]);
  size_t lines = 0, torn = 0;
  for (size_t from = 0; from < received.size();) {
    const size_t end = received.find('\n', from);
    ASSERT_NE(end, std::string::npos) << "the last line has no newline";
    const std::string_view line(received.data() + from, end - from);
    ++lines;
    if (line.size() < 2 || line[1] != ':' || line.find_first_not_of(line[0], 2) != std::string_view::npos) ++torn;
    from = end + 1;
  }
  EXPECT_EQ(lines, size_t{kWriters * kLinesEach});
  EXPECT_EQ(torn, 0u);
}

TEST(WithAuditLog, WritesOneLinePerDecisionWithTheRequiredFields) {
  std::vector<std::string> lines;
  const auto wall = std::chrono::system_clock::time_point{} + std::chrono::seconds(1800000000);
  AdmissionHandler handler = WithAuditLog(
      DeniedWithFindings, [&](std::string_view line) { lines.emplace_back(line); }, "validate",
      SteppingClock(std::chrono::microseconds(1500)), [wall] { return wall; });
  const AdmissionReply reply = handler(Request("audit-1"));
  EXPECT_FALSE(reply.allowed);
  ASSERT_EQ(lines.size(), 1u);
  const json line = json::parse(lines[0]);
  EXPECT_EQ(line["ts"], "2027-01-15T08:00:00.000Z");
  EXPECT_EQ(line["log"], "audit");
  EXPECT_EQ(line["webhook"], "validate");
  EXPECT_EQ(line["uid"], "audit-1");
  EXPECT_EQ(line["user"], "alice");
  EXPECT_EQ(line["groups"], json({"team-data"}));
  EXPECT_EQ(line["operation"], "CREATE");
  EXPECT_EQ(line["kind"], "Pod");
  EXPECT_EQ(line["namespace"], "etl");
  EXPECT_EQ(line["name"], "p");
  EXPECT_EQ(line["governed"], true);
  EXPECT_EQ(line["allowed"], false);
  EXPECT_EQ(line["decision"], "denied");
  EXPECT_EQ(line["mode"], "enforce");
  EXPECT_EQ(line["mode_source"], "config");
  EXPECT_EQ(line["rules"], json({"plaintext-secret", "untrusted-registry"}));
  EXPECT_EQ(line["paths"].size(), 3u);
  EXPECT_EQ(line["paths"][2], "/spec/containers/0/image");
  EXPECT_DOUBLE_EQ(line["latency_ms"].get<double>(), 1.5);
}

TEST(WithAuditLog, AThrowingSinkDoesNotChangeTheDecision) {
  AdmissionHandler handler = WithAuditLog([](const AdmissionRequest& r) { return Allowed(r.uid); },
                                          [](std::string_view) { throw std::runtime_error("disk full"); }, "validate");
  testing::CapturedLogs logs;
  EXPECT_TRUE(handler(Request()).allowed);
  EXPECT_NE(logs.Text().find("audit log write failed"), std::string::npos);
}

TEST(WithAuditLog, LogsBreakGlassAtWarningLevel) {
  AdmissionHandler handler = WithAuditLog(
      [](const AdmissionRequest& r) {
        AdmissionReply reply = Allowed(r.uid);
        reply.break_glass_ticket = "INC-9";
        return reply;
      },
      [](std::string_view) {}, "validate");
  testing::CapturedLogs logs;
  handler(Request());
  EXPECT_NE(logs.Text().find("\"level\":\"warning\""), std::string::npos) << logs.Text();
  EXPECT_NE(logs.Text().find("INC-9"), std::string::npos);
}

TEST(Decorators, ComposeToOneLineAndOneCountPerPanic) {
  WebhookMetrics metrics;
  std::vector<std::string> lines;
  AdmissionHandler chain =
      WithMetrics(WithAuditLog(
                      WithPanicGuard([](const AdmissionRequest&) -> AdmissionReply { throw std::logic_error("bug"); },
                                     [&](std::string_view) { metrics.RecordPanic(); }),
                      [&](std::string_view line) { lines.emplace_back(line); }, "validate"),
                  metrics, "validate");
  testing::CapturedLogs logs;
  const AdmissionReply reply = chain(Request("p-1"));
  EXPECT_EQ(reply.code, 500);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(json::parse(lines[0])["decision"], "error");
  const std::string text = metrics.Serialize();
  EXPECT_EQ(SeriesValue(text, "pipeguard_webhook_requests_total{decision=\"error\",webhook=\"validate\"}"), 1);
  EXPECT_EQ(SeriesValue(text, "pipeguard_webhook_panics_total"), 1);
}

}  // namespace
}  // namespace pipeguard::webhook
