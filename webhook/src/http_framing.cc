#include "http_framing.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <iterator>

namespace pipeguard::webhook::framing {

namespace http = boost::beast::http;

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

HeadCheck Refuse(int status, std::string reason, std::string message, bool close) {
  return {HeadCheck::Outcome::kRefuse, status, std::move(reason), std::move(message), close};
}

}  // namespace

void ConfigureParser(http::request_parser<http::string_body>& parser, const Limits& limits) {
  parser.header_limit(static_cast<std::uint32_t>(std::min<size_t>(limits.max_header_bytes, UINT32_MAX)));
  parser.body_limit(static_cast<std::uint64_t>(limits.max_body_bytes) * 4);
}

std::optional<HeadCheck> CheckFieldCount(const http::request_header<>& head, const Limits& limits) {
  const auto fields = static_cast<size_t>(std::distance(head.begin(), head.end()));
  if (fields <= limits.max_header_fields) return std::nullopt;
  return Refuse(431, "headers_too_large",
                "the request has " + std::to_string(fields) + " header fields; at most " +
                    std::to_string(limits.max_header_fields) + " are accepted",
                true);
}

HeadCheck CheckAdmissionHead(const http::request_header<>& head, std::optional<std::uint64_t> length, bool chunked,
                             const Limits& limits) {
  if (auto too_many = CheckFieldCount(head, limits)) return *too_many;
  const bool has_body = chunked || (length && *length > 0);
  if (!IsJsonMediaType(head[http::field::content_type])) {
    return Refuse(415, "unsupported_media_type",
                  "Content-Type must be application/json (an admission.k8s.io/v1 AdmissionReview)", has_body);
  }
  if (head.find(http::field::transfer_encoding) != head.end() && !chunked) {
    return Refuse(400, "malformed", "unsupported Transfer-Encoding; send Content-Length or chunked", true);
  }
  if (chunked) return {};
  if (!length) return Refuse(411, "length_required", "Content-Length is required for an AdmissionReview body", true);
  if (*length > limits.max_body_bytes) {
    std::string message = TooLargeMessage(limits);
    if (*length / 4 > limits.max_body_bytes) return Refuse(413, "too_large", std::move(message), true);
    return {HeadCheck::Outcome::kDiscardBodyThenRefuse, 413, "too_large", std::move(message), false};
  }
  return {};
}

std::string TooLargeMessage(const Limits& limits) {
  return "request body exceeds the limit of " + std::to_string(limits.max_body_bytes) +
         " bytes (pipeguard-webhook --max-body-bytes)";
}

bool IsJsonMediaType(std::string_view header) {
  return EqualsIgnoreCase(Trim(header.substr(0, header.find(';'))), "application/json");
}

std::string_view TargetPath(std::string_view target) { return target.substr(0, target.find('?')); }

std::optional<std::chrono::milliseconds> TimeoutParameter(std::string_view target) {
  const size_t question = target.find('?');
  if (question == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(question + 1);
  std::string_view value;
  bool found = false;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (pair.substr(0, 8) == "timeout=") {
      value = pair.substr(8);
      found = true;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  if (!found || value.empty() || value.size() > 32) return std::nullopt;
  // A Go duration: one or more <decimal><unit>, units h, m, s, ms, us, ns.
  double total_ms = 0;
  while (!value.empty()) {
    size_t i = 0;
    double number = 0, scale = 0;
    bool digits = false;
    for (; i < value.size() && (std::isdigit(static_cast<unsigned char>(value[i])) || value[i] == '.'); ++i) {
      if (value[i] == '.') {
        if (scale != 0) return std::nullopt;
        scale = 1;
        continue;
      }
      digits = true;
      if (scale != 0) {
        scale /= 10;
        number += scale * (value[i] - '0');
      } else {
        number = number * 10 + (value[i] - '0');
      }
    }
    if (!digits) return std::nullopt;
    value.remove_prefix(i);
    double unit_ms = 0;
    if (value.substr(0, 2) == "ms") {
      unit_ms = 1, value.remove_prefix(2);
    } else if (value.substr(0, 2) == "us") {
      unit_ms = 1e-3, value.remove_prefix(2);
    } else if (value.substr(0, 2) == "ns") {
      unit_ms = 1e-6, value.remove_prefix(2);
    } else if (value.substr(0, 1) == "s") {
      unit_ms = 1000, value.remove_prefix(1);
    } else if (value.substr(0, 1) == "m") {
      unit_ms = 60e3, value.remove_prefix(1);
    } else if (value.substr(0, 1) == "h") {
      unit_ms = 3600e3, value.remove_prefix(1);
    } else {
      return std::nullopt;
    }
    total_ms += number * unit_ms;
  }
  if (!std::isfinite(total_ms) || total_ms > 24 * 3600e3) return std::nullopt;
  return std::chrono::milliseconds(static_cast<long long>(total_ms));
}

}  // namespace pipeguard::webhook::framing
