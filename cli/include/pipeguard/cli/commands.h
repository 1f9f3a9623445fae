// The `pipeguard` command line: a small table of subcommands, each a function of its arguments and streams, so
// that tests run them in-process exactly as main() does.
//
// To add a subcommand, write `int RunX(const std::vector<std::string>& args, CommandIo& io)` and add a row to
// the table in commands.cc. Subcommands return the exit codes of scan.h (0 ok/allowed, 1 denied, 2 usage or
// input error) and print errors to io.err as "pipeguard <command>: <message>".
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pipeguard::cli {

struct CommandIo {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  bool out_is_terminal = false;               // colours only for a terminal (and never when NO_COLOR is set)
  std::function<std::int64_t()> now_seconds;  // Unix time; injected so tests are deterministic
};

using CommandFn = int (*)(const std::vector<std::string>& args, CommandIo& io);

struct Command {
  std::string_view name;
  std::string_view usage;    // the synopsis line, e.g. "scan [flags] PATH|- ..."
  std::string_view summary;  // one line for `pipeguard help`
  CommandFn run;
};

// Every subcommand, in the order `pipeguard help` lists them.
std::span<const Command> Commands();

// Dispatches argv[1..] (the subcommand and its arguments) and returns the process exit code.
int Main(const std::vector<std::string>& args, CommandIo& io);

// The subcommands (exposed for tests and for the table).
int RunScanCommand(const std::vector<std::string>& args, CommandIo& io);
int RunAdmissionReviewCommand(const std::vector<std::string>& args, CommandIo& io);
int RunVerifyImageCommand(const std::vector<std::string>& args, CommandIo& io);  // verify_image.cc
int RunReportCommand(const std::vector<std::string>& args, CommandIo& io);       // report_command.cc
std::string_view ReportHelp();
int RunVersionCommand(const std::vector<std::string>& args, CommandIo& io);
int RunHelpCommand(const std::vector<std::string>& args, CommandIo& io);

}  // namespace pipeguard::cli
