// Reads files under tests/aws/data.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace pipeguard::aws::testing {

inline std::string ReadTestData(const std::string& relative) {
  std::ifstream in(std::filesystem::path(PIPEGUARD_TEST_DATA) / "aws" / "data" / relative, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace pipeguard::aws::testing
