// Framing of a WATCH response body: one JSON object per line ({"type": "...", "object": {...}}), delivered by the
// transport in arbitrary chunks. Exposed for tests; used by HttpKubeClient.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "pipeguard/kube/client.h"

namespace pipeguard::kube {

// Not thread-safe (one decoder per stream).
class WatchLineDecoder {
 public:
  explicit WatchLineDecoder(size_t max_line_bytes = 16u << 20) : max_line_bytes_(max_line_bytes) {}

  // Appends a chunk and calls `callback` for every complete event. Returns:
  //   OK and *keep_going=true   - all complete lines delivered, waiting for more;
  //   OK and *keep_going=false  - the callback returned false;
  //   an error (kInvalidResponse) - a line is not a watch event or exceeds max_line_bytes.
  Status Feed(std::string_view chunk, const WatchCallback& callback, bool* keep_going);
  // Bytes of an unfinished line held back.
  size_t pending_bytes() const { return buffer_.size(); }

 private:
  Status Deliver(std::string_view line, const WatchCallback& callback, bool* keep_going);
  size_t max_line_bytes_;
  std::string buffer_;
};

// Parses one watch line (exposed for tests).
StatusOr<WatchEvent> ParseWatchEvent(std::string_view line);

}  // namespace pipeguard::kube
