#include "pipeguard/profile/glob.h"

#include <cctype>
#include <vector>

namespace pipeguard::api {
namespace {

bool SameChar(char a, char b, bool case_insensitive) {
  if (!case_insensitive) return a == b;
  return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text, bool case_insensitive) {
  // Greedy matching with one backtrack point (the last '*'): O(|pattern| * |text|) worst case, no recursion.
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() &&
        (pattern[p] == '?' || (pattern[p] != '*' && SameChar(pattern[p], text[t], case_insensitive)))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool GlobsIntersect(std::string_view a, std::string_view b, bool case_insensitive) {
  // Reachability in the product of the two patterns' automata. State (i, j): the first i characters of `a` and the
  // first j of `b` have consumed the same string. A '*' may be skipped (epsilon move) or absorb a character while
  // the other side consumes it; two literals must agree; '?' takes any character.
  const size_t n = a.size() + 1, m = b.size() + 1;
  std::vector<char> seen(n * m, 0);
  std::vector<std::pair<size_t, size_t>> stack{{0, 0}};
  seen[0] = 1;
  auto push = [&](size_t i, size_t j) {
    if (i < n && j < m && !seen[i * m + j]) {
      seen[i * m + j] = 1;
      stack.emplace_back(i, j);
    }
  };
  while (!stack.empty()) {
    auto [i, j] = stack.back();
    stack.pop_back();
    if (i == a.size() && j == b.size()) return true;
    const bool a_star = i < a.size() && a[i] == '*';
    const bool b_star = j < b.size() && b[j] == '*';
    if (a_star) push(i + 1, j);
    if (b_star) push(i, j + 1);
    // One character consumed by both sides.
    const bool a_can = i < a.size();
    const bool b_can = j < b.size();
    if (!a_can || !b_can) continue;
    if (a_star && b_star) continue;  // both stay: a self-loop, nothing new
    const size_t ni = a_star ? i : i + 1;
    const size_t nj = b_star ? j : j + 1;
    const bool a_literal = !a_star && a[i] != '?';
    const bool b_literal = !b_star && b[j] != '?';
    if (a_literal && b_literal && !SameChar(a[i], b[j], case_insensitive)) continue;
    push(ni, nj);
  }
  return false;
}

}  // namespace pipeguard::api
