// libFuzzer target for the serving core's request framing: arbitrary bytes through Beast's request parser with
// the server's limits (framing::ConfigureParser), then the head checks the server applies before reading a body
// (framing::CheckAdmissionHead, TargetPath, TimeoutParameter), then the body under the reading limit.
// Properties checked beyond "no crash, no sanitizer report": a head that passes the checks never yields a body
// over max_body_bytes, and a parsed timeout is never negative.
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http_framing.h"

namespace http = boost::beast::http;
namespace framing = pipeguard::webhook::framing;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  framing::Limits limits;
  limits.max_header_bytes = 2048;
  limits.max_header_fields = 16;
  limits.max_body_bytes = 4096;
  http::request_parser<http::string_body> parser;
  framing::ConfigureParser(parser, limits);

  const char* bytes = reinterpret_cast<const char*>(data);
  boost::beast::error_code ec;
  size_t used = 0;
  // Feed the input as the network might: in two pieces, the header phase first.
  while (used < size && !parser.is_header_done()) {
    const size_t n = parser.put(boost::asio::buffer(bytes + used, size - used), ec);
    if (ec == http::error::need_more) return 0;
    if (ec) return 0;
    if (n == 0) return 0;
    used += n;
  }
  if (!parser.is_header_done()) return 0;

  const auto& head = parser.get();
  const std::string_view target(head.target().data(), head.target().size());
  (void)framing::TargetPath(target);
  if (auto timeout = framing::TimeoutParameter(target); timeout && timeout->count() < 0) __builtin_trap();
  const auto declared = parser.content_length();
  const std::optional<std::uint64_t> length = declared ? std::optional<std::uint64_t>(*declared) : std::nullopt;
  const framing::HeadCheck check = framing::CheckAdmissionHead(head, length, parser.chunked(), limits);
  if (check.outcome != framing::HeadCheck::Outcome::kServe) {
    if (check.status < 400 || check.status > 599 || check.message.empty()) __builtin_trap();
    return 0;
  }
  parser.body_limit(framing::BodyLimitForReading(limits));
  while (used < size && !parser.is_done()) {
    const size_t n = parser.put(boost::asio::buffer(bytes + used, size - used), ec);
    if (ec || n == 0) break;
    used += n;
  }
  if (parser.is_done() && parser.get().body().size() > limits.max_body_bytes) __builtin_trap();
  return 0;
}
