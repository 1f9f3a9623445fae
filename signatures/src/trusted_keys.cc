#include "pipeguard/signatures/trusted_keys.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

namespace pipeguard::signatures {
namespace {

// Public key files are a few hundred bytes; anything far larger is a misconfiguration.
constexpr std::streamsize kMaxKeyFileBytes = 64 << 10;

StatusOr<std::string> ReadKeyFile(const std::string& name, const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return Status::NotFound("trusted key '" + name + "': cannot open file '" + path +
                            "'; check images.keys[].path and that the file is mounted and readable");
  }
  std::string contents;
  contents.resize(static_cast<size_t>(kMaxKeyFileBytes) + 1);
  file.read(contents.data(), kMaxKeyFileBytes + 1);
  if (file.bad()) {
    return Status::InvalidArgument("trusted key '" + name + "': error reading file '" + path + "'");
  }
  const std::streamsize got = file.gcount();
  if (got > kMaxKeyFileBytes) {
    return Status::InvalidArgument("trusted key '" + name + "': file '" + path + "' is larger than " +
                                   std::to_string(kMaxKeyFileBytes) + " bytes; it should hold one PEM public key");
  }
  contents.resize(static_cast<size_t>(got));
  return contents;
}

}  // namespace

TrustedKeySet::TrustedKeySet(std::vector<TrustedPublicKey> keys) : keys_(std::move(keys)) {
  std::vector<std::pair<std::string, std::string>> entries;
  entries.reserve(keys_.size());
  for (const auto& key : keys_) entries.emplace_back(key.name, key.key.spki_der());
  std::sort(entries.begin(), entries.end());
  // Length-prefixed fields make the encoding unambiguous.
  std::string canonical = "pipeguard-trusted-keys-v1\n";
  for (const auto& [name, spki] : entries) {
    canonical += std::to_string(name.size()) + ":" + name + std::to_string(spki.size()) + ":" + spki;
  }
  fingerprint_ = Sha256Hex(canonical);
}

StatusOr<TrustedKeySet> TrustedKeySet::Load(const std::vector<policy::TrustedKey>& entries) {
  if (entries.empty()) {
    return Status::InvalidArgument(
        "no trusted keys configured; add images.keys entries with a PEM public key (path or publicKey)");
  }
  std::vector<TrustedPublicKey> keys;
  std::set<std::string> names;
  for (size_t i = 0; i < entries.size(); ++i) {
    const policy::TrustedKey& entry = entries[i];
    const std::string label = entry.name.empty() ? "images.keys[" + std::to_string(i) + "]" : entry.name;
    if (entry.name.empty()) {
      return Status::InvalidArgument("trusted key images.keys[" + std::to_string(i) +
                                     "] has no name; give each key a name");
    }
    if (!names.insert(entry.name).second) {
      return Status::InvalidArgument("trusted key name '" + entry.name + "' is used twice; names must be unique");
    }
    const bool has_path = !entry.path.empty();
    const bool has_inline = !entry.public_key_pem.empty();
    if (has_path == has_inline) {
      return Status::InvalidArgument("trusted key '" + label +
                                     "': set exactly one of path (a PEM file) or publicKey (inline PEM)");
    }
    std::string pem;
    if (has_path) {
      auto contents = ReadKeyFile(entry.name, entry.path);
      if (!contents.ok()) return contents.status();
      pem = std::move(contents).value();
    } else {
      pem = entry.public_key_pem;
    }
    auto key = PublicKey::FromPem(pem);
    if (!key.ok()) {
      const std::string where = has_path ? "file '" + entry.path + "'" : "inline publicKey";
      return Status::InvalidArgument("trusted key '" + entry.name + "' (" + where + "): " + key.status().message());
    }
    std::string hint = key->Hint();
    keys.push_back(
        TrustedPublicKey{entry.name, has_path ? entry.path : "inline", std::move(key).value(), std::move(hint)});
  }
  return TrustedKeySet(std::move(keys));
}

StatusOr<TrustedKeySet> TrustedKeySet::Subset(const std::vector<std::string>& names) const {
  if (names.empty()) return Status::InvalidArgument("no trusted key selected: the key list is empty");
  std::vector<TrustedPublicKey> selected;
  for (const auto& name : names) {
    const auto it = std::find_if(keys_.begin(), keys_.end(), [&](const TrustedPublicKey& k) { return k.name == name; });
    if (it == keys_.end()) {
      return Status::NotFound("trusted key '" + name + "' is not configured in images.keys (configured: " + Names() +
                              ")");
    }
    const bool duplicate =
        std::any_of(selected.begin(), selected.end(), [&](const TrustedPublicKey& k) { return k.name == name; });
    if (!duplicate) selected.push_back(*it);
  }
  return TrustedKeySet(std::move(selected));
}

std::vector<const TrustedPublicKey*> TrustedKeySet::FindByHint(std::string_view hint) const {
  std::vector<const TrustedPublicKey*> found;
  // Compare decoded bytes so padding or alphabet variants of the same hint match.
  const auto decoded = Base64Decode(hint);
  if (!decoded) return found;
  const std::string canonical = Base64Encode(*decoded);
  for (const auto& key : keys_) {
    if (key.hint == canonical) found.push_back(&key);
  }
  return found;
}

const TrustedPublicKey* TrustedKeySet::FindBySpki(std::string_view spki_der) const {
  for (const auto& key : keys_) {
    if (key.key.spki_der() == spki_der) return &key;
  }
  return nullptr;
}

std::string TrustedKeySet::Names() const {
  std::string names;
  for (const auto& key : keys_) {
    if (!names.empty()) names += ", ";
    names += key.name;
  }
  return names;
}

}  // namespace pipeguard::signatures
