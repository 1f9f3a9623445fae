// The one JSON parse of a request body: the same DOM as nlohmann::json::parse, built faster for the bodies the API
// server sends. Internal to the webhook.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

namespace pipeguard::webhook {

// Bodies up to this size are parsed by simdjson and converted; larger ones (rare; they are already served by the
// large-review pool) go straight to nlohmann, whose memory is a small multiple of the DOM, so that no thread keeps
// simdjson's buffers (about 14 bytes per input byte) for a multi-MiB body.
inline constexpr size_t kFastParseMaxBytes = 64 * 1024;

// Contract: returns exactly what nlohmann::json::parse(text) returns (duplicate keys: the last wins; integers beyond
// 64 bits as doubles) and throws exactly what it throws. simdjson (one parser per thread, reused) handles texts up
// to kFastParseMaxBytes; whatever it refuses, including every error and the numbers simdjson 3.0.1 cannot
// represent, is parsed again by nlohmann, so errors and edge cases come from one implementation. Thread-safe. The
// caller bounds nesting depth first (the conversion recurses once per level).
nlohmann::json ParseJsonText(std::string_view text);

// Destroys the DOM in `value` and leaves null: the same result as its destructor, for a fraction of the work.
// nlohmann's destructor flattens every container onto a heap-allocated stack (moving each value once more) so that
// no input can overflow the call stack; this recurses once per level instead, so it is for DOMs whose nesting the
// caller bounded (those of ParseJsonText, whose conversion recurses as deep).
void ReleaseJsonDom(nlohmann::json& value);

// The nlohmann-only parse, for comparison in tests and the differential fuzz target.
nlohmann::json ParseJsonTextSlowPath(std::string_view text);

}  // namespace pipeguard::webhook
