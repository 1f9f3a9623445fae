// Writes the representative workload as files for benchmarks that drive the real binaries with an external load
// generator (bench/webhook_load.sh): DIR/review.json (the AdmissionReview), DIR/config.yaml, DIR/context/payments.json.
//
//   bench/write_fixtures DIR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "representative_pod.h"

namespace {

bool Write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  // A leading '-' is a mistaken flag (--help), not a directory to create.
  if (argc != 2 || argv[1][0] == '-') {
    std::fprintf(stderr, "usage: %s DIR (writes review.json, config.yaml and context/ into DIR)\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::error_code ec;
  std::filesystem::create_directories(dir / "context", ec);
  if (ec || !Write(dir / "review.json", pipeguard::bench::RepresentativeReview()) ||
      !Write(dir / "config.yaml", pipeguard::bench::kRepresentativeConfigYaml) ||
      !Write(dir / "context" / "payments.json", pipeguard::bench::kRepresentativeProfileJson)) {
    std::fprintf(stderr, "write_fixtures: cannot write into %s\n", dir.c_str());
    return 1;
  }
  return 0;
}
