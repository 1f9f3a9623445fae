// The flag reader the subcommands share. Internal to the CLI.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace pipeguard::cli {

// A minimal flag reader: "--flag value", "--flag=value", "-o value"; "--" ends the flags; "-" is an argument.
class FlagReader {
 public:
  explicit FlagReader(const std::vector<std::string>& args) : args_(args) {}

  bool Done() const { return index_ >= args_.size(); }

  // The next argument, when it is a flag named one of `names` (e.g. {"--output", "-o"}); sets value_ or error_.
  bool Take(std::initializer_list<std::string_view> names) {
    if (Done() || end_of_flags_) return false;
    const std::string& arg = args_[index_];
    for (std::string_view name : names) {
      if (arg == name) {
        if (index_ + 1 >= args_.size()) {
          error_ = std::string(name) + " needs a value";
          return false;
        }
        value_ = args_[index_ + 1];
        index_ += 2;
        return true;
      }
      if (name.starts_with("--") && arg.size() > name.size() && arg.compare(0, name.size(), name) == 0 &&
          arg[name.size()] == '=') {
        value_ = arg.substr(name.size() + 1);
        ++index_;
        return true;
      }
    }
    return false;
  }

  bool TakeSwitch(std::initializer_list<std::string_view> names) {
    if (Done() || end_of_flags_) return false;
    for (std::string_view name : names) {
      if (args_[index_] == name) {
        ++index_;
        return true;
      }
    }
    return false;
  }

  // Consumes a positional argument, or reports an unknown flag.
  bool TakePositional(std::vector<std::string>& out) {
    const std::string& arg = args_[index_];
    if (!end_of_flags_ && arg == "--") {
      end_of_flags_ = true;
      ++index_;
      return true;
    }
    if (!end_of_flags_ && arg.size() > 1 && arg[0] == '-') {
      error_ = "unknown flag " + arg;
      return false;
    }
    out.push_back(arg);
    ++index_;
    return true;
  }

  const std::string& value() const { return value_; }
  const std::string& error() const { return error_; }

 private:
  const std::vector<std::string>& args_;
  size_t index_ = 0;
  bool end_of_flags_ = false;
  std::string value_;
  std::string error_;
};

}  // namespace pipeguard::cli
