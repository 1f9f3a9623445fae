// ScanKeyWords (the pair probe over even indexes) against its definition: the key contains one of the words.
#include "detect/key_names.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace pipeguard::policy::detect {
namespace {

bool ContainsAny(std::string_view key, const std::vector<std::string_view>& words) {
  for (std::string_view w : words) {
    if (key.find(w) != std::string_view::npos) return true;
  }
  return false;
}

TEST(ScanKeyWords, FindsEveryWordAtEveryOffset) {
  const std::vector<std::string_view> sensitive = {"pass", "pwd",  "private", "secret", "signature", "token",
                                                   "key",  "auth", "cred",    "jaas",   "fernet"};
  const std::vector<std::string_view> verification = {"verif", "valid", "insecure"};
  const std::vector<std::string> pieces = {"pass", "pwd",  "private", "secret", "signature", "token", "key",
                                           "auth", "cred", "jaas",    "fernet", "verif",     "valid", "insecure",
                                           "pa",   "ke",   "se",      "ve",     "in",        "_",     ".",
                                           "x",    "db",   "url",     "er",     "re",        "as",    "ok"};
  std::mt19937 rng(17);
  for (int round = 0; round < 20000; ++round) {
    std::string key;
    const int parts = 1 + static_cast<int>(rng() % 5);
    for (int p = 0; p < parts; ++p) key += pieces[rng() % pieces.size()];
    const KeyWordHints hints = ScanKeyWords(key);
    EXPECT_EQ(hints.sensitive, ContainsAny(key, sensitive)) << key;
    EXPECT_EQ(hints.verification, ContainsAny(key, verification)) << key;
    EXPECT_EQ(MayBeSensitiveName(key), hints.sensitive) << key;
  }
}

}  // namespace
}  // namespace pipeguard::policy::detect
