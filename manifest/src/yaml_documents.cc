// YAML streams to JSON the way Kubernetes reads them.
//
// kubectl and the API server convert YAML with sigs.k8s.io/yaml (go-yaml v2, YAML 1.1 resolution): an unquoted
// (plain) scalar becomes a bool (true/yes/on/y and their false twins, in the three usual casings), null (~, null,
// empty), an int (decimal, 0x hex, 0o / leading-0 octal, 0b binary, '_' separators) or a float; anything else,
// and every quoted, block (| >) or !!str-tagged scalar, stays a string. So `kubernetes_pod_operator: "True"` is
// the string "True" and `automountServiceAccountToken: yes` is the boolean true, exactly as the cluster sees them.
// Infinities and NaN, which JSON cannot hold, and timestamps stay strings. Merge keys (<<) are honoured.
// Keys are always strings: the text of the key scalar.
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <sstream>

#include "parse_internal.h"

namespace pipeguard::manifest::internal {
namespace {

using nlohmann::json;

constexpr std::string_view kIntTag = "tag:yaml.org,2002:int";
constexpr std::string_view kFloatTag = "tag:yaml.org,2002:float";
constexpr std::string_view kBoolTag = "tag:yaml.org,2002:bool";
constexpr std::string_view kNullTag = "tag:yaml.org,2002:null";
constexpr std::string_view kMergeKey = "<<";

std::optional<bool> ResolveBool(std::string_view s) {
  static constexpr std::array<std::string_view, 11> kTrue = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                                             "True", "TRUE", "on",  "On",  "ON"};
  static constexpr std::array<std::string_view, 11> kFalse = {"n",     "N",     "no",  "No",  "NO", "false",
                                                              "False", "FALSE", "off", "Off", "OFF"};
  for (auto t : kTrue) {
    if (s == t) return true;
  }
  for (auto f : kFalse) {
    if (s == f) return false;
  }
  return std::nullopt;
}

bool IsNullWord(std::string_view s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

// YAML 1.1 integers as go-yaml v2 reads them; nullopt when `s` is not one (or does not fit in 64 bits).
std::optional<json> ResolveInt(std::string_view s) {
  std::string plain;
  for (char c : s) {
    if (c != '_') plain += c;
  }
  std::string_view digits = plain;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (digits.empty()) return std::nullopt;
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
    base = 16;
    digits.remove_prefix(2);
  } else if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'b' || digits[1] == 'B')) {
    base = 2;
    digits.remove_prefix(2);
  } else if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'o' || digits[1] == 'O')) {
    base = 8;
    digits.remove_prefix(2);
  } else if (digits.size() > 1 && digits[0] == '0') {
    base = 8;
    digits.remove_prefix(1);
  }
  std::uint64_t magnitude = 0;
  const char* last = digits.data() + digits.size();
  auto r = std::from_chars(digits.data(), last, magnitude, base);
  if (r.ec != std::errc() || r.ptr != last) return std::nullopt;
  if (!negative) {
    if (magnitude <= static_cast<std::uint64_t>(INT64_MAX)) return json(static_cast<std::int64_t>(magnitude));
    return json(magnitude);
  }
  if (magnitude <= static_cast<std::uint64_t>(INT64_MAX)) return json(-static_cast<std::int64_t>(magnitude));
  if (magnitude == static_cast<std::uint64_t>(INT64_MAX) + 1) return json(INT64_MIN);
  return std::nullopt;
}

// go-yaml v2's float shape: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, '_' separators removed.
std::optional<json> ResolveFloat(std::string_view s) {
  std::string plain;
  for (char c : s) {
    if (c != '_') plain += c;
  }
  size_t i = 0;
  const auto digits = [&] {
    const size_t from = i;
    while (i < plain.size() && plain[i] >= '0' && plain[i] <= '9') ++i;
    return i - from;
  };
  if (i < plain.size() && (plain[i] == '-' || plain[i] == '+')) ++i;
  if (i < plain.size() && plain[i] == '.') {
    ++i;
    if (digits() == 0) return std::nullopt;
  } else {
    if (digits() == 0) return std::nullopt;
    if (i < plain.size() && plain[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < plain.size() && (plain[i] == 'e' || plain[i] == 'E')) {
    ++i;
    if (i < plain.size() && (plain[i] == '-' || plain[i] == '+')) ++i;
    if (digits() == 0) return std::nullopt;
  }
  if (i != plain.size()) return std::nullopt;
  std::string_view number = plain;
  if (number[0] == '+') number.remove_prefix(1);
  double d = 0;
  const auto r = std::from_chars(number.data(), number.data() + number.size(), d);
  if (r.ec == std::errc::result_out_of_range || !std::isfinite(d)) return std::nullopt;  // keep as a string
  if (r.ec != std::errc()) return std::nullopt;
  return json(d);
}

// Resolves a plain (unquoted, untagged) scalar.
json ResolvePlain(const std::string& s) {
  if (IsNullWord(s)) return nullptr;
  if (auto b = ResolveBool(s)) return *b;
  if (auto i = ResolveInt(s)) return *i;
  if (auto f = ResolveFloat(s)) return *f;
  return s;
}

// Thrown from inside yaml-cpp's callbacks to abandon the parse; caught in ParseYamlStream.
struct BuildError {
  Status status;
};

// Builds JSON documents straight from yaml-cpp's parse events (no YAML::Node tree), enforcing the depth limit,
// refusing duplicate and non-string keys, and charging alias copies against a budget proportional to the input
// so that an alias "billion laughs" cannot exhaust memory.
class JsonBuilder : public YAML::EventHandler {
 public:
  JsonBuilder(std::string_view text, const std::string& file, const LoadLimits& limits)
      : file_(file), limits_(limits), nodes_left_(text.size() + 100000), bytes_left_(2 * text.size() + (1u << 20)) {}

  // State of the document most recently handed to HandleNextDocument.
  const YAML::Mark& document_start() const { return document_start_; }
  const YAML::Mark& root_mark() const { return root_mark_; }
  std::optional<json>& root() { return root_; }

  [[noreturn]] void Fail(const YAML::Mark& mark, const std::string& what, std::string_view hint) const {
    throw BuildError{ErrorAt(file_, TextPosition{mark.line + 1, mark.column + 1}, what, hint)};
  }

  void OnDocumentStart(const YAML::Mark& mark) override {
    document_start_ = mark;
    root_.reset();
    stack_.clear();
    anchors_.clear();  // anchors are scoped to their document
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (ExpectingKey()) return SetKey(mark, "null", false);
    Complete(nullptr, Size{1, 0}, mark, anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) Fail(mark, "alias to an unknown anchor", "define the &anchor before using *alias");
    if (!it->second.complete) {
      Fail(mark, "this alias refers to the collection that contains it",
           "Kubernetes objects cannot be recursive; write the value out instead");
    }
    if (ExpectingKey()) {
      if (!it->second.value.is_string()) Fail(mark, "a mapping key must be a string", "");
      return SetKey(mark, it->second.value.get<std::string>(), false);
    }
    Charge(mark, it->second.size);
    Complete(json(it->second.value), it->second.size, mark, YAML::NullAnchor);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    Charge(mark, Size{1, value.size()});
    if (ExpectingKey()) {
      if (anchor != YAML::NullAnchor) anchors_[anchor] = Anchored{json(value), Size{1, value.size()}, true};
      return SetKey(mark, value, tag == "?" && value == kMergeKey);
    }
    Complete(ScalarValue(mark, tag, value), Size{1, value.size()}, mark, anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(false, mark, anchor);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(true, mark, anchor);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Size {
    size_t nodes = 0;
    size_t bytes = 0;
  };
  struct Frame {
    bool is_map = false;
    json value;
    YAML::Mark mark;
    YAML::anchor_t anchor = YAML::NullAnchor;
    Size size{1, 0};
    // Mappings alternate key and value events.
    bool expecting_key = true;
    std::string key;
    YAML::Mark key_mark;
    bool key_is_merge = false;
    std::vector<std::pair<json, YAML::Mark>> merges;
  };
  struct Anchored {
    json value;
    Size size;
    bool complete = false;
  };

  bool ExpectingKey() const { return !stack_.empty() && stack_.back().is_map && stack_.back().expecting_key; }

  void SetKey(const YAML::Mark& mark, std::string key, bool is_merge) {
    Frame& frame = stack_.back();
    frame.key = std::move(key);
    frame.key_mark = mark;
    frame.key_is_merge = is_merge;
    frame.expecting_key = false;
  }

  void Charge(const YAML::Mark& mark, Size size) {
    if (size.nodes > nodes_left_ || size.bytes > bytes_left_) {
      Fail(mark, "YAML aliases expand this document far beyond the size of the file",
           "replace the aliases (*name) with the values they stand for");
    }
    nodes_left_ -= size.nodes;
    bytes_left_ -= size.bytes;
  }

  json ScalarValue(const YAML::Mark& mark, const std::string& tag, const std::string& text) const {
    if (tag == "?") return ResolvePlain(text);
    if (tag == kIntTag) {
      auto i = ResolveInt(text);
      if (!i) Fail(mark, "value tagged !!int is not an integer", "remove the tag or fix the value");
      return *i;
    }
    if (tag == kFloatTag) {
      auto f = ResolveInt(text);
      if (!f) f = ResolveFloat(text);
      if (!f) Fail(mark, "value tagged !!float is not a finite number", "remove the tag or fix the value");
      return *f;
    }
    if (tag == kBoolTag) {
      auto b = ResolveBool(text);
      if (!b) Fail(mark, "value tagged !!bool is not true or false", "remove the tag or fix the value");
      return *b;
    }
    if (tag == kNullTag) return nullptr;
    return text;  // quoted ("!"), !!str, !!binary and application tags keep the text
  }

  void Open(bool is_map, const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (ExpectingKey()) {
      Fail(mark, std::string("a mapping key must be a string, found a ") + (is_map ? "mapping" : "list"),
           "Kubernetes objects only have string keys");
    }
    if (static_cast<int>(stack_.size()) + 1 > limits_.max_depth) {
      Fail(mark, "nesting deeper than " + std::to_string(limits_.max_depth) + " levels",
           "Kubernetes objects are never this deep; is the file generated correctly?");
    }
    Charge(mark, Size{1, 0});
    Frame frame;
    frame.is_map = is_map;
    frame.value = is_map ? json::object() : json::array();
    frame.mark = mark;
    frame.anchor = anchor;
    stack_.push_back(std::move(frame));
    if (anchor != YAML::NullAnchor) anchors_[anchor] = Anchored{};  // in progress: aliases to it are recursive
  }

  // Merge keys: values under "<<" fill in keys the mapping does not set itself; with a list of mappings,
  // earlier mappings win (YAML 1.1 merge type).
  void ApplyMerges(Frame& frame) const {
    for (auto& [merge, mark] : frame.merges) {
      std::vector<json*> sources;
      if (merge.is_object()) {
        sources.push_back(&merge);
      } else if (merge.is_array()) {
        for (auto& item : merge) sources.push_back(&item);
      }
      if (sources.empty()) Fail(mark, "a merge key (<<) needs a mapping or a list of mappings", "e.g. <<: *defaults");
      for (json* source : sources) {
        if (!source->is_object()) {
          Fail(mark, "a merge key (<<) needs a mapping or a list of mappings", "e.g. <<: [*a, *b]");
        }
        for (auto& [k, v] : source->items()) {
          if (!frame.value.contains(k)) frame.value[k] = std::move(v);
        }
      }
    }
  }

  void Close() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    if (frame.is_map) ApplyMerges(frame);
    Complete(std::move(frame.value), frame.size, frame.mark, frame.anchor);
  }

  void Complete(json value, Size size, const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (anchor != YAML::NullAnchor) anchors_[anchor] = Anchored{value, size, true};
    if (stack_.empty()) {
      root_ = std::move(value);
      root_mark_ = mark;
      return;
    }
    Frame& parent = stack_.back();
    parent.size.nodes += size.nodes;
    parent.size.bytes += size.bytes;
    if (!parent.is_map) {
      parent.value.push_back(std::move(value));
      return;
    }
    parent.expecting_key = true;
    if (parent.key_is_merge) {
      parent.merges.emplace_back(std::move(value), mark);
      return;
    }
    if (parent.value.contains(parent.key)) {
      const std::string& k = parent.key;
      Fail(parent.key_mark, "duplicate key \"" + (k.size() <= 64 ? k : k.substr(0, 61) + "...") + "\"",
           "remove one of them; Kubernetes would silently keep only one");
    }
    parent.value[parent.key] = std::move(value);
  }

  const std::string& file_;
  const LoadLimits& limits_;
  size_t nodes_left_;
  size_t bytes_left_;
  YAML::Mark document_start_;
  YAML::Mark root_mark_;
  std::optional<json> root_;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Anchored> anchors_;
};

Status ParserError(const std::string& file, const YAML::Exception& e, std::string_view hint) {
  const std::string what = "invalid YAML: " + e.msg;
  if (e.mark.is_null()) return Status::InvalidArgument(file + ": " + what + " (" + std::string(hint) + ")");
  return ErrorAt(file, TextPosition{e.mark.line + 1, e.mark.column + 1}, what, hint);
}

}  // namespace

StatusOr<std::vector<Document>> ParseYamlStream(std::string_view text, const std::string& file,
                                                const LoadLimits& limits) {
  std::vector<Document> documents;
  std::istringstream input{std::string(text)};
  JsonBuilder builder(text, file, limits);
  try {
    YAML::Parser parser(input);
    std::optional<int> previous_start;
    while (parser.HandleNextDocument(builder)) {
      const YAML::Mark start = builder.document_start();
      // yaml-cpp 0.7 never consumes a stray ',' at document level and would report an endless stream of empty
      // documents: a document that starts where the previous one did means the parser is stuck.
      if (previous_start == start.pos) {
        const char c = start.pos >= 0 && static_cast<size_t>(start.pos) < text.size() ? text[start.pos] : '?';
        builder.Fail(start, std::string("invalid YAML: unexpected '") + c + "'",
                     "',' only separates items inside [ ] or { }; check the indentation and quoting here");
      }
      previous_start = start.pos;
      auto& root = builder.root();
      if (!root || root->is_null()) continue;  // empty documents, e.g. between helm template sections
      if (!root->is_object()) {
        builder.Fail(
            builder.root_mark(),
            "a document must be a mapping (a Kubernetes object with apiVersion and kind), found " + DescribeType(*root),
            "");
      }
      documents.push_back(Document{file, builder.root_mark().line + 1, std::move(*root)});
    }
  } catch (const BuildError& e) {
    return e.status;
  } catch (const YAML::DeepRecursion& e) {
    return ParserError(file, e, "the nesting is far too deep for a Kubernetes object");
  } catch (const YAML::Exception& e) {
    return ParserError(file, e, "check the indentation, the ': ' after keys and the quotes near this position");
  } catch (const std::exception&) {
    return Status::InvalidArgument(file + ": invalid YAML: the parser gave up (is this a YAML or JSON manifest?)");
  }
  return documents;
}

}  // namespace pipeguard::manifest::internal
