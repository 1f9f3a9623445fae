// The one JSON parse of a request body: the same DOM as nlohmann::json::parse, built faster for the bodies the API
// server sends. Internal to the webhook.
#pragma once

#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>

#include "pipeguard/policy/json_ref.h"

namespace simdjson::dom {
class parser;
}  // namespace simdjson::dom

namespace pipeguard::webhook {

// Bodies up to this size are parsed by simdjson (and read through its DOM, or converted); larger ones (rare; they are
// already served by the large-review pool) go straight to nlohmann, whose memory is a small multiple of the DOM, so
// that no thread keeps simdjson's buffers (about 14 bytes per input byte) for a multi-MiB body.
inline constexpr size_t kFastParseMaxBytes = 64 * 1024;

// A parsed JSON text that owns what root() refers into: simdjson's DOM (in a parser taken from a process-wide
// free list and given back when the document is destroyed, so that a review suspended on one thread keeps its DOM
// while the thread parses other bodies), or, for texts simdjson does not take, nlohmann's. Either way root() reads
// exactly as nlohmann::json::parse(text) would (JsonRef's contract). Immutable once parsed except through
// nlohmann_dom(); may be shared across threads.
class JsonDocument {
 public:
  JsonDocument();
  JsonDocument(const JsonDocument&) = delete;
  JsonDocument& operator=(const JsonDocument&) = delete;
  ~JsonDocument();  // gives the parser back; releases nlohmann's DOM level by level (ReleaseJsonDom)

  policy::JsonRef root() const { return root_; }
  // nlohmann's DOM when nlohmann parsed the text (members may be moved out of it); nullptr for simdjson's.
  nlohmann::json* nlohmann_dom() { return parser_ == nullptr ? &json_ : nullptr; }

 private:
  friend std::shared_ptr<JsonDocument> ParseJsonDocument(std::string_view text);
  friend std::shared_ptr<JsonDocument> ParseJsonDocumentWithinDepth(std::string_view text, int max_depth);
  std::unique_ptr<simdjson::dom::parser> parser_;
  nlohmann::json json_;
  policy::JsonRef root_;
};

// Parses `text` into a JsonDocument: simdjson for texts up to kFastParseMaxBytes that it takes, nlohmann for the
// others (see ParseJsonText); throws exactly what nlohmann::json::parse throws. Thread-safe. The caller bounds
// nesting depth first.
std::shared_ptr<JsonDocument> ParseJsonDocument(std::string_view text);

// The fast path alone, for a caller that has not bounded the nesting: simdjson's DOM of `text` when the text is at
// most kFastParseMaxBytes, simdjson takes it and it nests at most `max_depth` levels by simdjson's count. simdjson
// counts a scalar member of an object as one level more (64 nested arrays pass a limit of 64, 64 nested objects
// around a number do not), so what it takes is a subset of what base::MeasureJson(text, max_depth) lets through.
// nullptr otherwise (a deeper text, a syntax error, -0, a number simdjson cannot represent, a larger text): the
// caller then measures the text and calls ParseJsonDocument, which gives the answer and the errors. Reads exactly
// as ParseJsonDocument(text) when it returns a document. Thread-safe.
std::shared_ptr<JsonDocument> ParseJsonDocumentWithinDepth(std::string_view text, int max_depth);

// Contract: returns exactly what nlohmann::json::parse(text) returns (duplicate keys: the last wins; integers beyond
// 64 bits as doubles) and throws exactly what it throws. simdjson (a pooled parser, ParseJsonDocument) handles texts up
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
