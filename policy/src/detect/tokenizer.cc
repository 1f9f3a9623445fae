#include "detect/tokenizer.h"

#include "detect/text.h"

namespace pipeguard::policy::detect {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }
bool IsOperatorChar(char c) { return c == ';' || c == '&' || c == '|'; }

// Appends the balanced construct starting at `pos` (`$(`, `${` or a backtick) to `out` and returns the index
// after it. Nested parentheses/braces are counted; quotes inside are copied verbatim. Unbalanced input runs to
// the end of the script, so every character is visited once.
std::size_t CopyBalanced(std::string_view s, std::size_t pos, std::string& out) {
  if (s[pos] == '`') {
    const std::size_t close = s.find('`', pos + 1);
    const std::size_t end = close == std::string_view::npos ? s.size() : close + 1;
    out.append(s.substr(pos, end - pos));
    return end;
  }
  const char open = s[pos + 1];
  const char close = open == '(' ? ')' : '}';
  int depth = 0;
  std::size_t i = pos + 1;
  for (; i < s.size(); ++i) {
    if (s[i] == open) {
      ++depth;
    } else if (s[i] == close && --depth == 0) {
      ++i;
      break;
    }
  }
  out.append(s.substr(pos, i - pos));
  return i;
}

std::string_view TrimLine(std::string_view line, bool strip_tabs) {
  if (strip_tabs) {
    while (!line.empty() && line.front() == '\t') line.remove_prefix(1);
  }
  return line;
}

// `key: value` (YAML-ish) or `key=value` with an identifier-like key; `export ` is skipped.
bool ParsePairLine(std::string_view line, std::string_view& key, std::string_view& value, bool& env_style) {
  std::string_view l = TrimAscii(line);
  if (l.substr(0, 7) == "export ") l = TrimAscii(l.substr(7));
  std::size_t i = 0;
  while (i < l.size() && (IsAsciiAlnum(l[i]) || l[i] == '_' || l[i] == '.' || l[i] == '-')) ++i;
  if (i == 0 || i >= l.size()) return false;
  if (l[i] == '=') {
    key = l.substr(0, i);
    value = l.substr(i + 1);
    env_style = key.find_first_of(".-") == std::string_view::npos;
  } else if (l[i] == ':' && i + 1 < l.size() && IsBlank(l[i + 1])) {
    key = l.substr(0, i);
    value = TrimAscii(l.substr(i + 1));
    env_style = false;
  } else {
    return false;
  }
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
    value = value.substr(1, value.size() - 2);
  }
  return true;
}

}  // namespace

std::string_view ShellWords::Store(std::string&& text) {
  storage_.push_back(std::make_unique<std::string>(std::move(text)));
  return *storage_.back();
}

void ShellWords::AddWord(std::string_view element, std::size_t arg_index) {
  words_.push_back(ShellWord{element, arg_index, false});
}

void ShellWords::AddSeparator(std::size_t arg_index) {
  if (words_.empty() || !words_.back().separator) words_.push_back(ShellWord{{}, arg_index, true});
}

void ShellWords::AddEmbeddedLine(std::string_view line, std::size_t arg_index) {
  std::string_view key;
  std::string_view value;
  bool env_style = false;
  if (ParsePairLine(line, key, value, env_style)) {
    embedded_pairs_.push_back(EmbeddedPair{key, value, arg_index, env_style});
  }
}

bool IsPlainFtpClient(std::string_view basename) {
  return basename == "ftp" || basename == "pftp" || basename == "tnftp" || basename == "netkit-ftp";
}

std::string_view ShellWords::CommandFrom(std::size_t first) const {
  for (std::size_t i = first; i < words_.size() && !words_[i].separator; ++i) {
    const std::string_view word = words_[i].text;
    const std::size_t equals = word.find('=');
    if (equals != std::string_view::npos && equals > 0 && word.substr(0, equals).find('/') == std::string_view::npos) {
      continue;  // NAME=value before the command
    }
    const std::string_view base = CommandBasename(word);
    if (base == "sudo" || base == "exec" || base == "nohup" || base == "time" || base == "command" || base == "env") {
      continue;
    }
    return base;
  }
  return {};
}

std::string_view ShellWords::CurrentCommand() const {
  std::size_t first = words_.size();
  while (first > 0 && !words_[first - 1].separator) --first;
  return CommandFrom(first);
}

std::string_view ShellWords::FtpClientOf(const PendingHeredoc& heredoc) const {
  if (IsPlainFtpClient(heredoc.command)) return heredoc.command;
  // `cat <<EOF | ftp -n host`: the here-doc reaches the FTP client through a pipe later on its line (separators do
  // not record which operator they were, so `;` counts too; a `user` line before an ftp call is meant for it).
  for (std::size_t i = heredoc.word_index; i < words_.size(); ++i) {
    if (!words_[i].separator) continue;
    if (const std::string_view next = CommandFrom(i + 1); IsPlainFtpClient(next)) return next;
  }
  return {};
}

void ShellWords::ReadHeredocBodies(std::string_view s, std::size_t& pos, std::size_t arg_index) {
  for (const PendingHeredoc& heredoc : pending_heredocs_) {
    const std::string_view ftp = FtpClientOf(heredoc);
    while (pos < s.size()) {
      std::size_t eol = s.find('\n', pos);
      if (eol == std::string_view::npos) eol = s.size();
      const std::string_view line = TrimLine(s.substr(pos, eol - pos), heredoc.strip_tabs);
      pos = eol < s.size() ? eol + 1 : eol;
      if (TrimAscii(line) == heredoc.delimiter) break;
      if (!ftp.empty()) AddFtpLine(ftp, line, arg_index);
      AddEmbeddedLine(line, arg_index);
    }
  }
  pending_heredocs_.clear();
}

void ShellWords::AddFtpLine(std::string_view command, std::string_view line, std::size_t arg_index) {
  // `user NAME [PASSWORD [ACCOUNT]]`, or the raw protocol command `quote PASS PASSWORD` (also `literal`),
  // blank-separated: the FTP client's own command syntax, not the shell's.
  std::string_view rest = TrimAscii(line);
  auto next_field = [&rest]() {
    std::size_t end = 0;
    while (end < rest.size() && !IsBlank(rest[end])) ++end;
    const std::string_view field = rest.substr(0, end);
    rest = TrimAscii(rest.substr(end));
    return field;
  };
  const std::string_view verb = next_field();
  if (verb == "user") {
    if (next_field().empty()) return;
  } else if (verb == "quote" || verb == "literal") {
    if (!EqualsIgnoreCase(next_field(), "PASS")) return;
  } else {
    return;
  }
  ftp_logins_.push_back(FtpLogin{command, next_field(), arg_index});
}

void ShellWords::AddScript(std::string_view s, std::size_t arg_index) {
  std::string cur;
  bool in_word = false;
  // A word whose text equals its source (no quotes or escapes removed) views the script instead of a copy.
  std::size_t word_begin = 0;
  bool verbatim = true;
  auto end_word = [&](std::size_t end) {
    if (in_word) {
      const std::string_view text = verbatim ? s.substr(word_begin, end - word_begin) : Store(std::move(cur));
      words_.push_back(ShellWord{text, arg_index, false});
    }
    cur.clear();
    in_word = false;
  };
  auto separator = [&](std::size_t end) {
    end_word(end);
    if (words_.empty() || !words_.back().separator) words_.push_back(ShellWord{{}, arg_index, true});
  };

  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '\n') {
      separator(i);
      ++i;
      if (!pending_heredocs_.empty()) ReadHeredocBodies(s, i, arg_index);
      continue;
    }
    if (IsBlank(c)) {
      end_word(i);
      ++i;
      continue;
    }
    if (c == '#' && !in_word) {
      const std::size_t begin = i + 1;
      while (i < s.size() && s[i] != '\n') ++i;
      AddEmbeddedLine(s.substr(begin, i - begin), arg_index);
      continue;
    }
    if (IsOperatorChar(c)) {
      separator(i);
      while (i < s.size() && IsOperatorChar(s[i])) ++i;
      continue;
    }
    if (c == '<' && i + 1 < s.size() && s[i + 1] == '<' && !(i + 2 < s.size() && s[i + 2] == '<')) {
      end_word(i);
      i += 2;
      const bool strip_tabs = i < s.size() && s[i] == '-';
      if (strip_tabs) ++i;
      while (i < s.size() && IsBlank(s[i])) ++i;
      std::string delimiter;
      while (i < s.size() && !IsAsciiSpace(s[i]) && !IsOperatorChar(s[i])) {
        if (s[i] != '\'' && s[i] != '"' && s[i] != '\\') delimiter.push_back(s[i]);
        ++i;
      }
      if (!delimiter.empty())
        pending_heredocs_.push_back({std::move(delimiter), strip_tabs, CurrentCommand(), words_.size()});
      continue;
    }
    if (!in_word) {
      in_word = true;
      word_begin = i;
      verbatim = true;
    }
    if (c == '\'' || c == '"' || c == '\\') verbatim = false;
    if (c == '\'') {
      const std::size_t close = s.find('\'', i + 1);
      const std::size_t end = close == std::string_view::npos ? s.size() : close;
      cur.append(s.substr(i + 1, end - i - 1));
      i = end + 1;
    } else if (c == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size() &&
            (s[i + 1] == '"' || s[i + 1] == '\\' || s[i + 1] == '$' || s[i + 1] == '`')) {
          cur.push_back(s[i + 1]);
          i += 2;
        } else if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '\n') {
          i += 2;
        } else if (s[i] == '$' && i + 1 < s.size() && (s[i + 1] == '(' || s[i + 1] == '{')) {
          i = CopyBalanced(s, i, cur);
        } else {
          cur.push_back(s[i]);
          ++i;
        }
      }
      ++i;  // closing quote (or past the end)
    } else if (c == '\\') {
      if (i + 1 < s.size() && s[i + 1] != '\n') cur.push_back(s[i + 1]);
      if (i + 1 < s.size() && s[i + 1] == '\n' && cur.empty()) in_word = false;
      i += 2;
    } else if ((c == '$' && i + 1 < s.size() && (s[i + 1] == '(' || s[i + 1] == '{')) || c == '`') {
      i = CopyBalanced(s, i, cur);
    } else {
      cur.push_back(c);
      ++i;
    }
  }
  end_word(s.size());
  if (!pending_heredocs_.empty()) pending_heredocs_.clear();
}

std::string_view CommandBasename(std::string_view word) {
  const std::size_t slash = word.rfind('/');
  return slash == std::string_view::npos ? word : word.substr(slash + 1);
}

bool IsShell(std::string_view b) {
  return b == "sh" || b == "bash" || b == "ash" || b == "dash" || b == "zsh" || b == "ksh";
}

bool IsShellCommandOption(std::string_view w) {
  if (w.size() < 2 || w[0] != '-' || w[1] == '-') return false;
  for (std::size_t i = 1; i < w.size(); ++i) {
    if (!IsAsciiAlpha(w[i])) return false;
  }
  return w.find('c') != std::string_view::npos;
}

}  // namespace pipeguard::policy::detect
