// CPU per review of a governed pod with many findings (issue 9: "a governed pod with 30,000 findings costs <= 50 ms
// CPU"). The pod has N env vars that each hold a credentialed URI (N plaintext-secret findings, default 30,000, a
// ~3 MiB body); the baseline is the representative Airflow KPO pod (bench/representative_pod.h), measured in the
// same run, and the JSON parse of the big body. Thread CPU time, single core, median of the runs.
//
// Measured stages: Engine::Evaluate (detectors, de-duplication, verdict with at most policy::kMaxReportedViolations
// listed), ReplyFromVerdict (denial message, warnings, annotations), FormatAuditLine and SerializeAdmissionReview.
// The JSON parse is reported separately: it is the HTTP layer's work, and its cost is the body's, not the findings'.
//
//   bench/findings_scale [--findings N] [--runs R]      (defaults 30000 and 7)
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipeguard/policy/engine.h"
#include "pipeguard/webhook/admission.h"
#include "pipeguard/webhook/audit_log.h"
#include "pipeguard/webhook/handlers.h"
#include "representative_pod.h"

namespace {

using nlohmann::json;

double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// Median thread CPU milliseconds of `runs` calls of fn.
double MedianCpuMs(int runs, const std::function<void()>& fn) {
  std::vector<double> samples;
  for (int i = 0; i < runs; ++i) {
    const double start = ThreadCpuMs();
    fn();
    samples.push_back(ThreadCpuMs() - start);
  }
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

// The representative pod with its first container's env replaced by `n` credentialed URIs.
json PodWithFindings(int n) {
  json pod = pipeguard::bench::RepresentativeKpoPod();
  pod["spec"]["containers"][0]["env"] = pipeguard::bench::CredentialedUriEnv(n);
  return pod;
}

struct StageCosts {
  double evaluate = 0, reply = 0, audit = 0, serialize = 0;
  double total() const { return evaluate + reply + audit + serialize; }
};

StageCosts Measure(const json& pod, int runs, size_t& sink) {
  using namespace pipeguard;
  const auto snapshot = bench::RepresentativeSnapshot();
  const policy::Engine engine;
  webhook::AdmissionRequest request;
  request.uid = "bench";
  request.operation = "CREATE";
  request.kind = "Pod";
  request.namespace_ = "etl";
  request.name = "payments-daily-load-3f2a";
  request.username = "system:serviceaccount:airflow:airflow-worker";
  policy::RequestInfo info;
  info.username = request.username;
  info.namespace_ = request.namespace_;

  const policy::Verdict verdict = engine.Evaluate(pod, info, *snapshot);
  const webhook::AdmissionReply reply = webhook::ReplyFromVerdict(request, verdict);
  StageCosts c;
  c.evaluate = MedianCpuMs(runs, [&] { sink += engine.Evaluate(pod, info, *snapshot).violations.size(); });
  c.reply = MedianCpuMs(runs, [&] { sink += webhook::ReplyFromVerdict(request, verdict).message.size(); });
  c.audit = MedianCpuMs(runs, [&] {
    sink += webhook::FormatAuditLine(request, reply, "validate", 1.0, std::chrono::system_clock::now()).size();
  });
  c.serialize = MedianCpuMs(runs, [&] { sink += webhook::SerializeAdmissionReview(reply).size(); });
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  int findings = 30000;
  int runs = 7;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--findings" && i + 1 < argc) {
      findings = std::atoi(argv[++i]);
    } else if (arg == "--runs" && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--findings N] [--runs R]\n", argv[0]);
      return 2;
    }
  }
  using namespace pipeguard;
  const json baseline_pod = bench::RepresentativeKpoPod();
  const json big_pod = PodWithFindings(findings);
  const std::string big_text = big_pod.dump();

  // The big pod must be denied with every finding counted and at most kMaxReportedViolations listed.
  const auto snapshot = bench::RepresentativeSnapshot();
  policy::RequestInfo info;
  info.namespace_ = "etl";
  const policy::Verdict check = policy::Engine().Evaluate(big_pod, info, *snapshot);
  if (check.allowed || check.DenialCount() != static_cast<size_t>(findings) ||
      check.violations.size() > policy::kMaxReportedViolations) {
    std::fprintf(stderr, "unexpected verdict: allowed=%d denials=%zu listed=%zu\n", check.allowed, check.DenialCount(),
                 check.violations.size());
    return 1;
  }
  webhook::AdmissionRequest request;
  request.uid = "bench";
  const webhook::AdmissionReply reply = webhook::ReplyFromVerdict(request, check);
  const std::string audit_line =
      webhook::FormatAuditLine(request, reply, "validate", 1.0, std::chrono::system_clock::now());

  size_t sink = 0;
  const double parse = MedianCpuMs(runs, [&] { sink += json::parse(big_text).size(); });
  const StageCosts base = Measure(baseline_pod, runs, sink);
  const StageCosts big = Measure(big_pod, runs, sink);

  std::printf("findings_scale: %d findings in one pod (body %zu bytes), median of %d runs, thread CPU\n", findings,
              big_text.size(), runs);
  std::printf("  %-28s %12s %12s\n", "stage", "baseline ms", "big pod ms");
  std::printf("  %-28s %12.3f %12.3f\n", "Engine::Evaluate", base.evaluate, big.evaluate);
  std::printf("  %-28s %12.3f %12.3f\n", "ReplyFromVerdict", base.reply, big.reply);
  std::printf("  %-28s %12.3f %12.3f\n", "FormatAuditLine", base.audit, big.audit);
  std::printf("  %-28s %12.3f %12.3f\n", "SerializeAdmissionReview", base.serialize, big.serialize);
  std::printf("  %-28s %12.3f %12.3f\n", "total (policy + reply)", base.total(), big.total());
  std::printf("  %-28s %12s %12.3f\n", "json parse of the body", "", parse);
  std::printf("  ratio big/baseline total      %10.0f x  (%.2f us per finding)\n", big.total() / base.total(),
              big.total() * 1e3 / findings);
  std::printf("  ratio big total / body parse  %10.2f x\n", big.total() / parse);
  std::printf("  audit line %zu bytes, denial message %zu bytes, %zu of %zu findings listed\n", audit_line.size(),
              reply.message.size(), check.violations.size(), check.ViolationCount());
  std::printf("  target    <= 50 ms CPU for %d findings (policy + reply): %s\n", findings,
              big.total() <= 50.0 ? "met" : "NOT met");
  return sink == 0 ? 1 : 0;
}
