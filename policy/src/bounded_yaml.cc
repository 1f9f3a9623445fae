#include "bounded_yaml.h"

#include <yaml.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace pipeguard::policy {
namespace {

using nlohmann::json;

// One libyaml parser over a string, released on every path.
class EventReader {
 public:
  explicit EventReader(std::string_view text) {
    ok_ = yaml_parser_initialize(&parser_) != 0;
    if (ok_) {
      yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()), text.size());
    }
  }
  ~EventReader() {
    if (has_event_) yaml_event_delete(&event_);
    if (ok_) yaml_parser_delete(&parser_);
  }
  EventReader(const EventReader&) = delete;
  EventReader& operator=(const EventReader&) = delete;

  // The next event, or null when the text does not parse.
  const yaml_event_t* Next() {
    if (has_event_) yaml_event_delete(&event_);
    has_event_ = ok_ && yaml_parser_parse(&parser_, &event_) != 0;
    return has_event_ ? &event_ : nullptr;
  }

 private:
  yaml_parser_t parser_{};
  yaml_event_t event_{};
  bool ok_ = false;
  bool has_event_ = false;
};

std::string_view Text(const yaml_char_t* text, std::size_t length) {
  return text == nullptr ? std::string_view() : std::string_view(reinterpret_cast<const char*>(text), length);
}

bool IsPlainNull(const yaml_event_t& event) {
  if (event.data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
  const std::string_view value = Text(event.data.scalar.value, event.data.scalar.length);
  return value.empty() || value == "~" || value == "null" || value == "Null" || value == "NULL";
}

// Builds one document's nodes from the events, depth-first.
class Builder {
 public:
  Builder(EventReader& reader, std::size_t max_nodes, int max_depth)
      : reader_(reader), budget_(max_nodes), max_depth_(max_depth) {}

  // The node that starts with `event`; false on a parse error or a broken limit.
  bool Node(const yaml_event_t& event, int depth, json& out) {
    if (depth > max_depth_ || budget_ == 0) return false;
    --budget_;
    switch (event.type) {
      case YAML_SCALAR_EVENT:
        if (IsPlainNull(event)) {
          out = nullptr;
        } else {
          out = std::string(Text(event.data.scalar.value, event.data.scalar.length));
        }
        Remember(event.data.scalar.anchor, out, 1);
        return true;
      case YAML_ALIAS_EVENT: {
        auto it = anchors_.find(std::string(Text(event.data.alias.anchor, AnchorLength(event.data.alias.anchor))));
        if (it == anchors_.end()) return false;
        ++budget_;  // the alias itself is not a node; its copy is
        if (it->second.nodes > budget_) return false;
        budget_ -= it->second.nodes;
        out = it->second.value;
        return true;
      }
      case YAML_SEQUENCE_START_EVENT:
        return Sequence(event, depth, out);
      case YAML_MAPPING_START_EVENT:
        return Mapping(event, depth, out);
      default:
        return false;
    }
  }

 private:
  struct Anchored {
    json value;
    std::size_t nodes = 0;
  };

  static std::size_t AnchorLength(const yaml_char_t* anchor) {
    return anchor == nullptr ? 0 : std::char_traits<char>::length(reinterpret_cast<const char*>(anchor));
  }

  void Remember(const yaml_char_t* anchor, const json& value, std::size_t nodes) {
    if (anchor != nullptr) anchors_[std::string(Text(anchor, AnchorLength(anchor)))] = Anchored{value, nodes};
  }

  bool Sequence(const yaml_event_t& start, int depth, json& out) {
    const std::string anchor(Text(start.data.sequence_start.anchor, AnchorLength(start.data.sequence_start.anchor)));
    const std::size_t budget_before = budget_ + 1;
    out = json::array();
    while (true) {
      const yaml_event_t* event = reader_.Next();
      if (event == nullptr) return false;
      if (event->type == YAML_SEQUENCE_END_EVENT) break;
      json child;
      if (!Node(*event, depth + 1, child)) return false;
      out.push_back(std::move(child));
    }
    if (!anchor.empty()) anchors_[anchor] = Anchored{out, budget_before - budget_};
    return true;
  }

  bool Mapping(const yaml_event_t& start, int depth, json& out) {
    const std::string anchor(Text(start.data.mapping_start.anchor, AnchorLength(start.data.mapping_start.anchor)));
    const std::size_t budget_before = budget_ + 1;
    out = json::object();
    while (true) {
      const yaml_event_t* event = reader_.Next();
      if (event == nullptr) return false;
      if (event->type == YAML_MAPPING_END_EVENT) break;
      json key;
      if (!Node(*event, depth + 1, key) || !key.is_string()) return false;  // complex or null keys: not config
      const yaml_event_t* value_event = reader_.Next();
      if (value_event == nullptr) return false;
      json value;
      if (!Node(*value_event, depth + 1, value)) return false;
      out[key.get_ref<const std::string&>()] = std::move(value);
    }
    if (!anchor.empty()) anchors_[anchor] = Anchored{out, budget_before - budget_};
    return true;
  }

  EventReader& reader_;
  std::size_t budget_;
  int max_depth_;
  std::map<std::string, Anchored> anchors_;
};

// Streams one document's scalars to a visitor (StreamBoundedYamlScalars), with ParseBoundedYaml's node budget and
// depth limit; stops at the first thing only the tree resolves.
class ScalarStreamer {
 public:
  ScalarStreamer(EventReader& reader, const YamlScalarVisitor& visit, std::size_t max_nodes, int max_depth)
      : reader_(reader), visit_(visit), budget_(max_nodes), max_depth_(max_depth) {}

  YamlStream Node(const yaml_event_t& event, int depth, std::string_view key) {
    if (depth > max_depth_ || budget_ == 0) return YamlStream::kRefused;
    --budget_;
    switch (event.type) {
      case YAML_SCALAR_EVENT:
        if (event.data.scalar.anchor != nullptr) return YamlStream::kTreeNeeded;
        if (!IsPlainNull(event)) visit_(path_, key, Text(event.data.scalar.value, event.data.scalar.length));
        return YamlStream::kDone;
      case YAML_ALIAS_EVENT:
        return YamlStream::kTreeNeeded;
      case YAML_SEQUENCE_START_EVENT:
        return event.data.sequence_start.anchor != nullptr ? YamlStream::kTreeNeeded : Sequence(depth, key);
      case YAML_MAPPING_START_EVENT:
        return event.data.mapping_start.anchor != nullptr ? YamlStream::kTreeNeeded : Mapping(depth);
      default:
        return YamlStream::kRefused;
    }
  }

 private:
  // Repeated keys are looked for among at most this many per mapping; a larger mapping is read as a tree.
  static constexpr std::size_t kMaxStreamedKeys = 64;

  YamlStream Sequence(int depth, std::string_view key) {
    const std::string list_key(key);  // `key` may view an event that the next read frees
    for (std::size_t index = 0;; ++index) {
      const yaml_event_t* event = reader_.Next();
      if (event == nullptr) return YamlStream::kRefused;
      if (event->type == YAML_SEQUENCE_END_EVENT) return YamlStream::kDone;
      const std::size_t mark = path_.size();
      path_.append("[").append(std::to_string(index)).append("]");
      const YamlStream item = Node(*event, depth + 1, list_key);
      path_.resize(mark);
      if (item != YamlStream::kDone) return item;
    }
  }

  YamlStream Mapping(int depth) {
    std::vector<std::string> keys;
    while (true) {
      const yaml_event_t* event = reader_.Next();
      if (event == nullptr) return YamlStream::kRefused;
      if (event->type == YAML_MAPPING_END_EVENT) return YamlStream::kDone;
      // The key is a node of the budget too; only a scalar that is not null is a key ParseBoundedYaml takes.
      if (depth + 1 > max_depth_ || budget_ == 0) return YamlStream::kRefused;
      --budget_;
      if (event->type == YAML_ALIAS_EVENT) return YamlStream::kTreeNeeded;
      if (event->type != YAML_SCALAR_EVENT || IsPlainNull(*event)) return YamlStream::kRefused;
      if (event->data.scalar.anchor != nullptr || keys.size() == kMaxStreamedKeys) return YamlStream::kTreeNeeded;
      std::string key(Text(event->data.scalar.value, event->data.scalar.length));
      if (std::find(keys.begin(), keys.end(), key) != keys.end()) return YamlStream::kTreeNeeded;
      keys.push_back(std::move(key));
      const yaml_event_t* value = reader_.Next();
      if (value == nullptr) return YamlStream::kRefused;
      const std::size_t mark = path_.size();
      if (!path_.empty()) path_.push_back('.');
      path_.append(keys.back());
      const YamlStream member = Node(*value, depth + 1, keys.back());
      path_.resize(mark);
      if (member != YamlStream::kDone) return member;
    }
  }

  EventReader& reader_;
  const YamlScalarVisitor& visit_;
  std::size_t budget_;
  int max_depth_;
  std::string path_;
};

// The event of the first document's root node, or null when there is no document or the text does not parse.
const yaml_event_t* FirstDocumentRoot(EventReader& reader) {
  const yaml_event_t* event = reader.Next();
  if (event == nullptr || event->type != YAML_STREAM_START_EVENT) return nullptr;
  event = reader.Next();
  if (event == nullptr || event->type != YAML_DOCUMENT_START_EVENT) return nullptr;
  return reader.Next();
}

}  // namespace

YamlStream StreamBoundedYamlScalars(std::string_view text, std::string_view root_key, const YamlScalarVisitor& scalar,
                                    std::size_t max_nodes, int max_depth) {
  EventReader reader(text);
  const yaml_event_t* root = FirstDocumentRoot(reader);
  if (root == nullptr || (root->type != YAML_MAPPING_START_EVENT && root->type != YAML_SEQUENCE_START_EVENT)) {
    return YamlStream::kRefused;
  }
  ScalarStreamer streamer(reader, scalar, max_nodes, max_depth);
  const YamlStream result = streamer.Node(*root, 0, root_key);
  if (result != YamlStream::kDone) return result;
  const yaml_event_t* end = reader.Next();  // the end of the first document; later documents are not read
  return end != nullptr && end->type == YAML_DOCUMENT_END_EVENT ? YamlStream::kDone : YamlStream::kRefused;
}

std::optional<json> ParseBoundedYaml(std::string_view text, std::size_t max_nodes, int max_depth) {
  EventReader reader(text);
  const yaml_event_t* event = reader.Next();
  if (event == nullptr || event->type != YAML_STREAM_START_EVENT) return std::nullopt;
  event = reader.Next();
  if (event == nullptr) return std::nullopt;
  if (event->type == YAML_STREAM_END_EVENT) return json(nullptr);  // no document at all
  if (event->type != YAML_DOCUMENT_START_EVENT) return std::nullopt;
  event = reader.Next();
  if (event == nullptr) return std::nullopt;
  json out;
  Builder builder(reader, max_nodes, max_depth);
  if (!builder.Node(*event, 0, out)) return std::nullopt;
  event = reader.Next();  // the end of the first document; later documents are not read
  if (event == nullptr || event->type != YAML_DOCUMENT_END_EVENT) return std::nullopt;
  return out;
}

}  // namespace pipeguard::policy
