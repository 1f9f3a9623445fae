#include "pipeguard/kube/watch_stream.h"

#include "pipeguard/kube/errors.h"

namespace pipeguard::kube {

StatusOr<WatchEvent> ParseWatchEvent(std::string_view line) {
  Json parsed = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return MakeApiError(ErrorReason::kInvalidResponse, 0, "WATCH", "a watch line is not a JSON object");
  }
  auto type = parsed.find("type");
  auto object = parsed.find("object");
  if (type == parsed.end() || !type->is_string() || object == parsed.end() || !object->is_object()) {
    return MakeApiError(ErrorReason::kInvalidResponse, 0, "WATCH",
                        "a watch line lacks a string \"type\" or an object \"object\"");
  }
  WatchEvent event;
  const std::string& t = type->get_ref<const std::string&>();
  if (t == "ADDED") {
    event.type = WatchEventType::kAdded;
  } else if (t == "MODIFIED") {
    event.type = WatchEventType::kModified;
  } else if (t == "DELETED") {
    event.type = WatchEventType::kDeleted;
  } else if (t == "BOOKMARK") {
    event.type = WatchEventType::kBookmark;
  } else if (t == "ERROR") {
    event.type = WatchEventType::kError;
  } else {
    return MakeApiError(ErrorReason::kInvalidResponse, 0, "WATCH", "unknown watch event type \"" + t + "\"");
  }
  event.object = std::move(*object);
  return event;
}

Status WatchLineDecoder::Deliver(std::string_view line, const WatchCallback& callback, bool* keep_going) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  if (line.empty()) return Status::Ok();
  auto event = ParseWatchEvent(line);
  if (!event.ok()) return event.status();
  *keep_going = callback(std::move(event).value());
  return Status::Ok();
}

Status WatchLineDecoder::Feed(std::string_view chunk, const WatchCallback& callback, bool* keep_going) {
  *keep_going = true;
  while (!chunk.empty()) {
    const size_t newline = chunk.find('\n');
    if (newline == std::string_view::npos) {
      if (buffer_.size() + chunk.size() > max_line_bytes_) {
        return MakeApiError(ErrorReason::kInvalidResponse, 0, "WATCH",
                            "a watch event exceeds " + std::to_string(max_line_bytes_) + " bytes");
      }
      buffer_.append(chunk);
      return Status::Ok();
    }
    Status s;
    if (buffer_.empty()) {
      s = Deliver(chunk.substr(0, newline), callback, keep_going);
    } else {
      if (buffer_.size() + newline > max_line_bytes_) {
        return MakeApiError(ErrorReason::kInvalidResponse, 0, "WATCH",
                            "a watch event exceeds " + std::to_string(max_line_bytes_) + " bytes");
      }
      buffer_.append(chunk.substr(0, newline));
      std::string line = std::move(buffer_);
      buffer_.clear();
      s = Deliver(line, callback, keep_going);
    }
    if (!s.ok()) return s;
    chunk.remove_prefix(newline + 1);
    if (!*keep_going) return Status::Ok();
  }
  return Status::Ok();
}

}  // namespace pipeguard::kube
