// In-process fakes for the aws component's unit tests: a clock that only moves when slept on, a scripted random
// source, and an AwsHttpClient that records requests and replays canned responses.
#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "pipeguard/aws/clock.h"
#include "pipeguard/aws/http.h"

namespace pipeguard::aws::testing {

class FakeClock : public Clock {
 public:
  explicit FakeClock(std::chrono::system_clock::time_point start = std::chrono::system_clock::time_point(
                         std::chrono::seconds(1440938160)))  // 2015-08-30T12:36:00Z
      : now_(start) {}
  std::chrono::system_clock::time_point Now() const override { return now_; }
  void SleepFor(std::chrono::milliseconds d) const override {
    now_ += d;
    sleeps.push_back(d);
  }
  void Advance(std::chrono::seconds d) { now_ += d; }
  mutable std::vector<std::chrono::milliseconds> sleeps;

 private:
  mutable std::chrono::system_clock::time_point now_;
};

// Returns bound * numerator / denominator (so 1/1 always picks the top of the range, 0/1 the bottom) and records
// every bound it was asked for.
class FractionRandom : public RandomSource {
 public:
  explicit FractionRandom(std::int64_t numerator = 1, std::int64_t denominator = 1)
      : numerator_(numerator), denominator_(denominator) {}
  std::int64_t UniformInclusive(std::int64_t bound) override {
    bounds.push_back(bound);
    return bound * numerator_ / denominator_;
  }
  std::vector<std::int64_t> bounds;

 private:
  std::int64_t numerator_, denominator_;
};

struct Sent {
  Endpoint endpoint;
  HttpRequest request;
  std::chrono::milliseconds timeout;
};

// Replays `responses` in order (the last one repeats); records what was sent.
class ScriptedHttpClient : public AwsHttpClient {
 public:
  void Push(int status, std::string body, Headers headers = {}) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    script_.push_back(AwsResult<HttpResponse>(std::move(r)));
  }
  void PushConnectionError() {
    script_.push_back(AwsResult<HttpResponse>(
        LocalError(errc::kConnectionError, StatusCode::kUnavailable, "connection refused", true)));
  }
  AwsResult<HttpResponse> Send(const Endpoint& endpoint, const HttpRequest& request,
                               std::chrono::milliseconds timeout) override {
    std::lock_guard lock(mu_);
    sent.push_back({endpoint, request, timeout});
    if (script_.empty()) return LocalError(errc::kConnectionError, StatusCode::kUnavailable, "no script", true);
    auto r = script_.front();
    if (script_.size() > 1) script_.pop_front();
    return r;
  }
  std::vector<Sent> sent;

 private:
  std::mutex mu_;
  std::deque<AwsResult<HttpResponse>> script_;
};

// Splits an application/x-www-form-urlencoded body into decoded pairs.
inline QueryParams ParseForm(const std::string& body) {
  QueryParams out;
  std::size_t start = 0;
  while (start < body.size()) {
    auto amp = body.find('&', start);
    std::string pair = body.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    auto eq = pair.find('=');
    out.emplace_back(UriDecode(pair.substr(0, eq), true),
                     eq == std::string::npos ? "" : UriDecode(pair.substr(eq + 1), true));
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  return out;
}

inline std::string FormValue(const QueryParams& params, const std::string& name) {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return "<absent>";
}

}  // namespace pipeguard::aws::testing
