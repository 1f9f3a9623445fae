// Loading Kubernetes manifests from files, directories and standard input into JSON documents.
//
// Shared by `pipeguard scan` and the file-backed context provider. This is the single parse boundary for
// manifests: YAML/JSON parser exceptions are caught here and become a Status naming the file and line.
#pragma once

#include <istream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipeguard/base/status.h"

namespace pipeguard::manifest {

// One document of a (multi-document) YAML or JSON stream. `List` objects are NOT unpacked here.
struct Document {
  std::string file;  // path as given by the user, or "-" for standard input
  int line = 1;      // 1-based line where the document starts
  nlohmann::json object;
};

// Limits that keep a hostile or broken input from exhausting memory.
struct LoadLimits {
  size_t max_file_bytes = 32u << 20;  // a larger file is an error, not a truncation
  int max_depth = 64;                 // deeper nesting is an error
};

// Parses YAML or JSON text holding any number of documents ("---" separated). Empty documents are skipped.
// Errors look like "FILE:LINE:COL: what went wrong (how to fix it)".
StatusOr<std::vector<Document>> ParseDocuments(std::string_view text, const std::string& file,
                                               const LoadLimits& limits = {});

// Loads a file, or every *.yaml / *.yml / *.json file below a directory (recursively, in sorted order), or
// standard input when path is "-". Documents keep their file and starting line. A directory walk skips hidden
// entries, follows symbolic links to files and directories (a directory reached twice is read once), and fails
// with an error naming the link on a broken symbolic link or a symbolic link loop.
StatusOr<std::vector<Document>> LoadPath(const std::string& path, const LoadLimits& limits = {});

// Reads a whole file; errors name the path and the OS reason.
StatusOr<std::string> ReadFile(const std::string& path, size_t max_bytes = 32u << 20);

}  // namespace pipeguard::manifest
