#include "pipeguard/manifest/documents.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <iostream>
#include <set>
#include <system_error>

#include "parse_internal.h"

namespace pipeguard::manifest {
namespace internal {

TextPosition PositionAt(std::string_view text, size_t offset) {
  TextPosition at;
  offset = std::min(offset, text.size());
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++at.line;
      at.column = 1;
    } else {
      ++at.column;
    }
  }
  return at;
}

Status ErrorAt(const std::string& file, TextPosition at, std::string_view what, std::string_view hint) {
  std::string message = file + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": ";
  message += what;
  if (!hint.empty()) {
    message += " (";
    message += hint;
    message += ")";
  }
  return Status::InvalidArgument(std::move(message));
}

namespace {

std::string HexByte(unsigned char c) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  return std::string("0x") + kDigits[c >> 4] + kDigits[c & 0xF];
}

// Length of the UTF-8 sequence starting at text[i], or 0 when it is not well-formed (RFC 3629: no overlongs,
// no surrogates, nothing above U+10FFFF).
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t length = 0;
  unsigned char min_second = 0x80, max_second = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    length = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    length = 3;
    if (c == 0xE0) min_second = 0xA0;
    if (c == 0xED) max_second = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    length = 4;
    if (c == 0xF0) min_second = 0x90;
    if (c == 0xF4) max_second = 0x8F;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < min_second || byte(i + 1) > max_second) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

}  // namespace

Status CheckUtf8Text(std::string_view text, const std::string& file) {
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      return ErrorAt(file, PositionAt(text, i), "binary data: control byte " + HexByte(c) + " in the text",
                     "manifests must be UTF-8 YAML or JSON text; is this the right file?");
    }
    const size_t length = Utf8SequenceLength(text, i);
    if (length == 0) {
      return ErrorAt(file, PositionAt(text, i), "invalid UTF-8 byte " + HexByte(c),
                     "manifests must be UTF-8 text; re-save the file as UTF-8 or check that it is not binary");
    }
    i += length;
  }
  return Status::Ok();
}

bool LooksLikeJson(std::string_view text) {
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    return c == '{' || c == '[';
  }
  return false;
}

std::string DescribeType(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object:
      return "a mapping";
    case nlohmann::json::value_t::array:
      return "a list";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::null:
      return "null";
    default:
      return "a number";
  }
}

}  // namespace internal

namespace {

namespace fs = std::filesystem;

bool HasManifestExtension(const fs::path& path) {
  const std::string ext = path.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

std::string TooBig(const std::string& what, size_t limit) {
  return what + ": larger than the limit of " + std::to_string(limit) +
         " bytes (split it into smaller files; pipeguard refuses oversized input rather than truncating it)";
}

StatusOr<std::vector<Document>> LoadStdin(const LoadLimits& limits) {
  std::string text;
  char buffer[64 * 1024];
  while (std::cin.read(buffer, sizeof buffer) || std::cin.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(std::cin.gcount()));
    if (text.size() > limits.max_file_bytes) return Status::InvalidArgument(TooBig("-", limits.max_file_bytes));
  }
  if (std::cin.bad()) return Status::InvalidArgument("-: cannot read standard input");
  return ParseDocuments(text, "-", limits);
}

// A directory's identity (device, inode): how a walk recognises a directory it reached through a symbolic link.
struct DirectoryId {
  dev_t device;
  ino_t inode;
  auto operator<=>(const DirectoryId&) const = default;
};

std::string LinkTarget(const fs::path& link) {
  std::error_code ec;
  const fs::path target = fs::read_symlink(link, ec);
  return ec ? std::string("?") : target.string();
}

// Collects the manifest files below `dir`, following symbolic links to files and directories. `ancestors` holds the
// directories from the root down to `dir`; `walked` every directory entered so far (one reached again through
// another link is not read twice). A broken link or a link loop is an input error naming the link: skipping it
// would scan less than the user asked for without a word.
Status WalkDirectory(const fs::path& dir, std::vector<DirectoryId>& ancestors, std::set<DirectoryId>& walked,
                     std::vector<fs::path>& files) {
  std::error_code ec;
  fs::directory_iterator it(dir, fs::directory_options::none, ec);
  if (ec) return Status::InvalidArgument(dir.string() + ": cannot list directory: " + ec.message());
  std::vector<fs::path> entries;
  for (const fs::directory_iterator end; it != end; it.increment(ec)) {
    if (ec) break;
    entries.push_back(it->path());
  }
  if (ec) return Status::InvalidArgument(dir.string() + ": cannot list directory: " + ec.message());
  std::sort(entries.begin(), entries.end());
  for (const fs::path& path : entries) {
    // Hidden entries are skipped: a mounted ConfigMap keeps its files twice, once in a "..<timestamp>" directory
    // and once as top-level links, and .git and editor files are not manifests.
    if (path.filename().string().front() == '.') continue;
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
      const int error = errno;
      struct stat link {};
      const bool is_link = ::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode);
      if (is_link && error == ENOENT) {
        return Status::InvalidArgument(path.string() + ": broken symbolic link: its target \"" + LinkTarget(path) +
                                       "\" does not exist (fix the link, or remove it)");
      }
      if (error == ELOOP) {
        return Status::InvalidArgument(path.string() + ": symbolic link loop: \"" + LinkTarget(path) +
                                       "\" leads back to itself (fix the link, or remove it)");
      }
      return Status::InvalidArgument(path.string() +
                                     ": cannot read: " + std::error_code(error, std::generic_category()).message());
    }
    if (S_ISDIR(info.st_mode)) {
      const DirectoryId id{info.st_dev, info.st_ino};
      if (std::find(ancestors.begin(), ancestors.end(), id) != ancestors.end()) {
        return Status::InvalidArgument(path.string() + ": symbolic link loop: \"" + LinkTarget(path) +
                                       "\" is a directory that contains the link (fix the link, or remove it)");
      }
      if (!walked.insert(id).second) continue;
      ancestors.push_back(id);
      Status status = WalkDirectory(path, ancestors, walked, files);
      ancestors.pop_back();
      if (!status.ok()) return status;
    } else if (S_ISREG(info.st_mode) && HasManifestExtension(path)) {
      files.push_back(path);
    }
  }
  return Status::Ok();
}

StatusOr<std::vector<Document>> LoadDirectory(const std::string& root, const LoadLimits& limits) {
  struct stat info {};
  if (::stat(root.c_str(), &info) != 0) {
    return Status::InvalidArgument(
        root + ": cannot list directory: " + std::error_code(errno, std::generic_category()).message());
  }
  std::vector<DirectoryId> ancestors = {{info.st_dev, info.st_ino}};
  std::set<DirectoryId> walked = {ancestors.front()};
  std::vector<fs::path> files;
  if (Status status = WalkDirectory(root, ancestors, walked, files); !status.ok()) return status;
  std::sort(files.begin(), files.end());

  std::vector<Document> documents;
  for (const auto& file : files) {
    auto loaded = LoadPath(file.string(), limits);
    if (!loaded.ok()) return loaded.status();
    for (auto& document : *loaded) documents.push_back(std::move(document));
  }
  return documents;
}

}  // namespace

StatusOr<std::vector<Document>> ParseDocuments(std::string_view text, const std::string& file,
                                               const LoadLimits& limits) {
  if (text.size() > limits.max_file_bytes) return Status::InvalidArgument(TooBig(file, limits.max_file_bytes));
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte order mark
  if (auto status = internal::CheckUtf8Text(text, file); !status.ok()) return status;

  if (internal::LooksLikeJson(text)) {
    auto json_documents = internal::ParseJsonStream(text, file, limits);
    if (json_documents.ok()) return json_documents;
    // YAML flow style ({apiVersion: v1, ...}) also starts with a brace: accept it when it parses as YAML,
    // otherwise the JSON error is the more helpful one.
    // A file named *.json must be JSON.
    const bool named_json = file.size() >= 5 && file.compare(file.size() - 5, 5, ".json") == 0;
    if (named_json) return json_documents;
    auto yaml_documents = internal::ParseYamlStream(text, file, limits);
    if (yaml_documents.ok()) return yaml_documents;
    return json_documents.status();
  }
  return internal::ParseYamlStream(text, file, limits);
}

StatusOr<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    const std::string reason = std::error_code(error, std::generic_category()).message();
    if (error == ENOENT) return Status::NotFound(path + ": " + reason + " (check the path)");
    return Status::InvalidArgument(path + ": cannot open: " + reason);
  }
  struct stat info {};
  if (::fstat(fd, &info) == 0) {
    if (S_ISDIR(info.st_mode)) {
      ::close(fd);
      return Status::InvalidArgument(path + ": is a directory, expected a file");
    }
    if (S_ISREG(info.st_mode) && static_cast<size_t>(info.st_size) > max_bytes) {
      ::close(fd);
      return Status::InvalidArgument(TooBig(path, max_bytes));
    }
  }
  std::string text;
  char buffer[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string reason = std::error_code(errno, std::generic_category()).message();
      ::close(fd);
      return Status::InvalidArgument(path + ": cannot read: " + reason);
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > max_bytes) {  // a pipe or a file that grew while we read it
      ::close(fd);
      return Status::InvalidArgument(TooBig(path, max_bytes));
    }
  }
  ::close(fd);
  return text;
}

StatusOr<std::vector<Document>> LoadPath(const std::string& path, const LoadLimits& limits) {
  if (path == "-") return LoadStdin(limits);
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found || ec == std::errc::no_such_file_or_directory) {
    return Status::NotFound(path + ": no such file or directory (check the path)");
  }
  if (ec) return Status::InvalidArgument(path + ": " + ec.message());
  if (fs::is_directory(status)) return LoadDirectory(path, limits);
  auto text = ReadFile(path, limits.max_file_bytes);
  if (!text.ok()) return text.status();
  return ParseDocuments(*text, path, limits);
}

}  // namespace pipeguard::manifest
