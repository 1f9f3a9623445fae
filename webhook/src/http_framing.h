// Request framing for the admission server: what is checked on a request head before any of its body is read.
// Pure functions over a parsed Beast request head, shared by the server (webhook/src/server.cc) and the framing
// fuzz target (tests/fuzz/http_framing_fuzzer.cc), so the fuzzer exercises exactly the checks that serve traffic.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace pipeguard::webhook::framing {

struct Limits {
  size_t max_header_bytes = 16 * 1024;
  size_t max_header_fields = 64;
  size_t max_body_bytes = 3u << 20;
};

// What to do with a request head. kServe: route it. Otherwise answer `status` with `message` (value-free, names
// the limit or the header) and count it under `reason`; `close` when the stream position is unknown afterwards.
struct HeadCheck {
  enum class Outcome { kServe, kDiscardBodyThenRefuse, kRefuse };
  Outcome outcome = Outcome::kServe;
  int status = 200;
  std::string reason;  // rejected_requests_total{reason}
  std::string message;
  bool close = false;
};

// Sets the header and body limits on a fresh parser. Body limit: 4 x max_body_bytes, so a Content-Length body up
// to that size can be read and discarded politely (CheckAdmissionHead decides); chunked bodies are capped again
// while reading (see BodyLimitForReading).
void ConfigureParser(boost::beast::http::request_parser<boost::beast::http::string_body>& parser, const Limits& limits);

// The limit to set on the parser before reading an accepted body: exactly max_body_bytes.
inline std::uint64_t BodyLimitForReading(const Limits& limits) { return limits.max_body_bytes; }

// Checks an admission POST's head: header field count, Content-Type (application/json, parameters allowed),
// Transfer-Encoding (chunked only), Content-Length (required unless chunked; over the limit -> 413, discarded when
// at most 4x the limit, else refused unread and closed).
HeadCheck CheckAdmissionHead(const boost::beast::http::request_header<>& head, std::optional<std::uint64_t> length,
                             bool chunked, const Limits& limits);

// The 413 message for a body over max_body_bytes (names the limit and the flag that sets it).
std::string TooLargeMessage(const Limits& limits);

// Only the header field count (for non-admission routes).
std::optional<HeadCheck> CheckFieldCount(const boost::beast::http::request_header<>& head, const Limits& limits);

// "application/json" with optional parameters such as "; charset=utf-8" (case-insensitive).
bool IsJsonMediaType(std::string_view header);

// The path of a request target (before '?'), and the API server's `timeout` query parameter: a Go duration
// ("10s", "9.5s", "1m0s", "500ms"). nullopt when absent or malformed (then the configured bound applies).
std::string_view TargetPath(std::string_view target);
std::optional<std::chrono::milliseconds> TimeoutParameter(std::string_view target);

}  // namespace pipeguard::webhook::framing
