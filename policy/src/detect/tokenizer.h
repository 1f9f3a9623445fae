// Shell-aware re-tokenisation of command lines (spec D1/D2). Kubernetes passes argv verbatim, but pipeline
// users put whole scripts in one element (`sh -c "..."`) or several options in one (`"--conf a=b"`), so those
// elements are split again with POSIX-shell quoting rules. Linear in the input.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pipeguard::policy::detect {

// One shell word, or a command separator (`;`, `&&`, `||`, `|`, `&`, newline) when `separator` is set.
struct ShellWord {
  std::string_view text;  // unquoted text; views either the argv element or storage owned by ShellWords
  std::size_t arg_index;  // the argv element the word came from
  bool separator = false;
};

// A `key: value` or `[export ]KEY=value` line found where the shell does not see words: a here-document body
// or a comment. Commented-out assignments are still plaintext in the pod spec.
struct EmbeddedPair {
  std::string_view key;
  std::string_view value;
  std::size_t arg_index;
  bool env_style;  // `NAME=value` with a shell identifier (an env-file line), not YAML `key: value`
};

// A `user NAME [PASSWORD]` or `quote PASS PASSWORD` line in a here-document fed to a plain FTP client
// (`ftp -n host <<EOF`, or `cat <<EOF | ftp -n host`): the login travels in cleartext, and a literal password sits
// in the pod spec.
struct FtpLogin {
  std::string_view command;   // the client's basename (ftp, pftp, tnftp)
  std::string_view password;  // empty when the line names no password (ftp then prompts)
  std::size_t arg_index;
};

// True for the FTP clients that never encrypt (ftp, pftp, tnftp, netkit-ftp); lftp and curl are judged by URL.
bool IsPlainFtpClient(std::string_view basename);

class ShellWords {
 public:
  // Room for `n` words without reallocating (a command line adds about one per argv element).
  void Reserve(std::size_t n) { words_.reserve(n); }
  // Adds an argv element as a single word (no copy).
  void AddWord(std::string_view element, std::size_t arg_index);
  // Ends the current simple command (the next word is in command position).
  void AddSeparator(std::size_t arg_index);
  // Splits `script` with shell rules: blanks separate words; single quotes are literal; double quotes honour
  // `\" \\ \$ \``; a backslash escapes the next character (backslash-newline continues the line); `$(...)`,
  // `${...}` and backticks stay inside the word; `#` at a word start comments to the end of the line; here-doc
  // bodies (`<<EOF`, `<<-'EOF'`) and comments are not words, but their `key: value` / `KEY=value` lines become
  // EmbeddedPairs, and the `user` lines of a here-doc fed to a plain FTP client FtpLogins.
  void AddScript(std::string_view script, std::size_t arg_index);

  const std::vector<ShellWord>& words() const { return words_; }
  const std::vector<EmbeddedPair>& embedded_pairs() const { return embedded_pairs_; }
  const std::vector<FtpLogin>& ftp_logins() const { return ftp_logins_; }

 private:
  std::string_view Store(std::string&& text);
  void ReadHeredocBodies(std::string_view script, std::size_t& pos, std::size_t arg_index);

  std::vector<ShellWord> words_;
  void AddEmbeddedLine(std::string_view line, std::size_t arg_index);
  void AddFtpLine(std::string_view command, std::string_view line, std::size_t arg_index);

  struct PendingHeredoc {
    std::string delimiter;
    bool strip_tabs = false;
    std::string_view command;  // the command whose stdin it is
    std::size_t word_index;    // words_.size() when it was opened: the rest of its line follows
  };
  // The basename of the command that the simple command starting at words_[first] runs (empty when none).
  std::string_view CommandFrom(std::size_t first) const;
  // The basename of the command that the current simple command runs (empty before one is seen).
  std::string_view CurrentCommand() const;
  // The plain FTP client that reads `heredoc`: its own command, or one later on its line; empty when none.
  std::string_view FtpClientOf(const PendingHeredoc& heredoc) const;
  std::vector<EmbeddedPair> embedded_pairs_;
  std::vector<FtpLogin> ftp_logins_;
  std::vector<PendingHeredoc> pending_heredocs_;
  std::vector<std::unique_ptr<std::string>> storage_;  // stable addresses for unquoted words
};

// The basename of a command word (`/usr/bin/curl` -> `curl`).
std::string_view CommandBasename(std::string_view word);

// True for sh, bash, ash, dash, zsh, ksh.
bool IsShell(std::string_view basename);

// True for a short-option cluster that contains `c` (`-c`, `-ec`, `-xc`, `-lc`, `-euxc`).
bool IsShellCommandOption(std::string_view word);

}  // namespace pipeguard::policy::detect
