#include "json_text.h"

#include <simdjson.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace pipeguard::webhook {

namespace {

using nlohmann::json;

// The simdjson parsers of JsonDocuments, reused: a parser's buffers are sized for the largest text it has parsed,
// at most kFastParseMaxBytes (~14 bytes per input byte). A document holds its parser until it is destroyed, so a
// parser is never shared; at most kMaxIdle wait here (the rest are freed).
class ParserPool {
 public:
  static constexpr size_t kMaxIdle = 16;

  std::unique_ptr<simdjson::dom::parser> Take() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        std::unique_ptr<simdjson::dom::parser> parser = std::move(idle_.back());
        idle_.pop_back();
        return parser;
      }
    }
    return std::make_unique<simdjson::dom::parser>(kFastParseMaxBytes);
  }

  void Give(std::unique_ptr<simdjson::dom::parser> parser) {
    std::lock_guard lock(mu_);
    if (idle_.size() < kMaxIdle) idle_.push_back(std::move(parser));
  }

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<simdjson::dom::parser>> idle_;
};

ParserPool& Parsers() {
  static ParserPool* pool = new ParserPool();  // never destroyed: documents may outlive static destruction
  return *pool;
}

// Whether `text` may hold the number -0 (outside strings too, as far as a byte scan can tell): json::parse stores it
// as a signed integer, while simdjson's DOM cannot tell it from 0. A false positive only costs the slow path.
bool MayHoldNegativeZero(std::string_view text) {
  for (size_t at = text.find("-0"); at != std::string_view::npos; at = text.find("-0", at + 2)) {
    const size_t after = at + 2;
    if (after == text.size() || std::string_view(",]} \t\r\n").find(text[after]) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

void ReleaseJsonDom(json& value) {
  if (value.is_object()) {
    auto& members = value.get_ref<json::object_t&>();
    for (auto& member : members) {
      if (member.second.is_structured()) ReleaseJsonDom(member.second);
    }
    members.clear();
  } else if (value.is_array()) {
    auto& items = value.get_ref<json::array_t&>();
    for (json& item : items) {
      if (item.is_structured()) ReleaseJsonDom(item);
    }
    items.clear();
  }
  value = nullptr;
}

json ParseJsonTextSlowPath(std::string_view text) { return json::parse(text.begin(), text.end()); }

JsonDocument::JsonDocument() = default;

JsonDocument::~JsonDocument() {
  root_ = {};
  if (parser_ != nullptr) Parsers().Give(std::move(parser_));
  ReleaseJsonDom(json_);  // depth-bounded by the caller of ParseJsonDocument
}

std::shared_ptr<JsonDocument> ParseJsonDocumentWithinDepth(std::string_view text, int max_depth) {
  if (text.size() > kFastParseMaxBytes || max_depth < 1 || MayHoldNegativeZero(text)) return nullptr;
  std::unique_ptr<simdjson::dom::parser> parser = Parsers().Take();
  // A pooled parser keeps the depth it was last given; the webhook always asks for the same one.
  const auto depth = static_cast<size_t>(max_depth);
  if (parser->max_depth() != depth && parser->allocate(std::max(parser->capacity(), text.size()), depth)) {
    return nullptr;  // out of memory: a new parser is made next time
  }
  simdjson::dom::element root;
  if (parser->parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(root) != simdjson::SUCCESS) {
    Parsers().Give(std::move(parser));
    return nullptr;
  }
  auto document = std::make_shared<JsonDocument>();
  document->parser_ = std::move(parser);
  document->root_ = policy::JsonRef::FromSimdjson(root);
  return document;
}

std::shared_ptr<JsonDocument> ParseJsonDocument(std::string_view text) {
  // simdjson's own default depth: the caller has bounded the nesting already.
  if (auto document = ParseJsonDocumentWithinDepth(text, simdjson::DEFAULT_MAX_DEPTH)) return document;
  auto document = std::make_shared<JsonDocument>();
  document->json_ = ParseJsonTextSlowPath(text);
  document->root_ = document->json_;
  return document;
}

json ParseJsonText(std::string_view text) {
  std::shared_ptr<JsonDocument> document = ParseJsonDocument(text);
  if (json* dom = document->nlohmann_dom()) return std::move(*dom);
  return document->root().ToJson();  // json::parse's DOM, converted from simdjson's (policy::JsonRef::ToJson)
}

}  // namespace pipeguard::webhook
