// Watch response framing: events arrive as JSON lines split at arbitrary chunk boundaries.
#include "pipeguard/kube/watch_stream.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pipeguard/kube/errors.h"

namespace pipeguard::kube {
namespace {

std::string Line(const char* type, const std::string& name, const std::string& rv) {
  return nlohmann::json{{"type", type},
                        {"object", {{"kind", "ConfigMap"}, {"metadata", {{"name", name}, {"resourceVersion", rv}}}}}}
             .dump() +
         "\n";
}

TEST(WatchLineDecoderTest, EveryChunkingYieldsTheSameEvents) {
  const std::string stream = Line("ADDED", "a", "1") + Line("MODIFIED", "a", "2") + "\r\n" + Line("BOOKMARK", "", "3") +
                             Line("DELETED", "a", "4");
  // Split the stream at every pair of positions (three chunks), including empty chunks.
  for (size_t i = 0; i <= stream.size(); i += 7) {
    for (size_t j = i; j <= stream.size(); j += 11) {
      WatchLineDecoder decoder;
      std::vector<std::string> seen;
      auto cb = [&](WatchEvent&& e) {
        seen.push_back(std::string(WatchEventTypeName(e.type)) + ":" + ResourceVersionOf(e.object));
        return true;
      };
      bool keep = true;
      for (auto chunk : {stream.substr(0, i), stream.substr(i, j - i), stream.substr(j)}) {
        ASSERT_TRUE(decoder.Feed(chunk, cb, &keep).ok());
        ASSERT_TRUE(keep);
      }
      EXPECT_EQ(seen, (std::vector<std::string>{"ADDED:1", "MODIFIED:2", "BOOKMARK:3", "DELETED:4"}))
          << "split at " << i << "," << j;
      EXPECT_EQ(decoder.pending_bytes(), 0u);
    }
  }
}

TEST(WatchLineDecoderTest, CallbackCanStop) {
  WatchLineDecoder decoder;
  int calls = 0;
  bool keep = true;
  ASSERT_TRUE(decoder
                  .Feed(
                      Line("ADDED", "a", "1") + Line("ADDED", "b", "2"),
                      [&](WatchEvent&&) {
                        ++calls;
                        return false;
                      },
                      &keep)
                  .ok());
  EXPECT_FALSE(keep);
  EXPECT_EQ(calls, 1);
}

TEST(WatchLineDecoderTest, RejectsGarbageAndOversizedLines) {
  bool keep = true;
  auto ignore = [](WatchEvent&&) { return true; };
  WatchLineDecoder decoder;
  Status s = decoder.Feed("not json\n", ignore, &keep);
  EXPECT_EQ(ErrorReasonOf(s), ErrorReason::kInvalidResponse);
  EXPECT_FALSE(WatchLineDecoder().Feed("{\"type\":\"SURPRISE\",\"object\":{}}\n", ignore, &keep).ok());
  EXPECT_FALSE(WatchLineDecoder().Feed("{\"type\":\"ADDED\"}\n", ignore, &keep).ok());

  WatchLineDecoder small(64);
  EXPECT_TRUE(small.Feed(std::string(60, ' '), ignore, &keep).ok());
  Status big = small.Feed(std::string(10, 'x'), ignore, &keep);
  EXPECT_EQ(ErrorReasonOf(big), ErrorReason::kInvalidResponse);
  EXPECT_THAT(big.message(), ::testing::HasSubstr("exceeds 64 bytes"));
}

TEST(WatchLineDecoderTest, ErrorEventCarriesTheStatus) {
  WatchLineDecoder decoder;
  bool keep = true;
  Status gone;
  ASSERT_TRUE(
      decoder
          .Feed(R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old"}})"
                "\n",
                [&](WatchEvent&& e) {
                  EXPECT_EQ(e.type, WatchEventType::kError);
                  gone = StatusFromApiStatus(e.object, 500, "WATCH x");
                  return false;
                },
                &keep)
          .ok());
  EXPECT_TRUE(IsGone(gone));
}

}  // namespace
}  // namespace pipeguard::kube
