// The `pipeguard` executable: wires argv and the process streams to the subcommand table (commands.h).
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "pipeguard/cli/commands.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  std::vector<std::string> args(argv + 1, argv + argc);
  pipeguard::cli::CommandIo io{
      std::cin, std::cout, std::cerr, ::isatty(STDOUT_FILENO) == 1, [] {
        return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
      }};
  try {
    return pipeguard::cli::Main(args, io);
  } catch (const std::exception& e) {
    // Never a crash: an unexpected exception is reported as an input error.
    std::cerr << "pipeguard: internal error: " << e.what() << "\n";
    return 2;
  }
}
