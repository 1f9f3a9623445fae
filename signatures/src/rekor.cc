#include "pipeguard/signatures/rekor.h"

#include <algorithm>
#include <fstream>

#include "json_util.h"

namespace pipeguard::signatures {
namespace {

std::string ToLower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// The verifier recorded in an entry body: base64 of a PEM public key (or certificate, for keyless signing).
Status CheckRecordedKey(const std::string& encoded, const PublicKey& signer) {
  const auto pem = Base64Decode(encoded);
  if (!pem) return Status::InvalidArgument("the log entry's public key is not valid base64");
  if (pem->find("CERTIFICATE-----") != std::string::npos) {
    return Status::InvalidArgument("the log entry records a certificate (keyless signing), not the trusted key");
  }
  auto recorded = PublicKey::FromPem(*pem);
  if (!recorded.ok())
    return Status::InvalidArgument("the log entry's public key is unusable: " + recorded.status().message());
  if (recorded->spki_der() != signer.spki_der()) {
    return Status::InvalidArgument("the log entry records a different public key than the one that verified");
  }
  return Status::Ok();
}

Status CheckHash(const nlohmann::json* hash, const std::string& expected_hex) {
  if (hash == nullptr) return Status::InvalidArgument("the log entry has no hash of the signed content");
  const auto algorithm = StringMember(*hash, "algorithm");
  const auto value = StringMember(*hash, "value");
  if (!algorithm || *algorithm != "sha256" || !value) {
    return Status::InvalidArgument("the log entry's content hash is not a sha256 value");
  }
  if (ToLower(*value) != expected_hex) {
    return Status::InvalidArgument("the log entry records the hash of different content");
  }
  return Status::Ok();
}

// Reads a small configuration file (a PEM key, a trusted_root.json), at most `max_bytes`.
StatusOr<std::string> ReadConfigFile(const std::string& what, const std::string& path, std::streamsize max_bytes) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Status::NotFound(what + ": cannot open file '" + path + "'; check that it is mounted and readable");
  std::string contents(static_cast<size_t>(max_bytes) + 1, '\0');
  file.read(contents.data(), max_bytes + 1);
  if (file.bad()) return Status::InvalidArgument(what + ": error reading file '" + path + "'");
  const std::streamsize got = file.gcount();
  if (got > max_bytes) {
    return Status::InvalidArgument(what + ": file '" + path + "' is larger than " + std::to_string(max_bytes) +
                                   " bytes");
  }
  contents.resize(static_cast<size_t>(got));
  return contents;
}

}  // namespace

StatusOr<RekorKeySet> RekorKeySet::Load(const policy::RekorConfig& config) {
  RekorKeySet set;
  const auto add = [&set](RekorLogKey log) {
    if (set.Find(log.log_id_hex) == nullptr) set.keys_.push_back(std::move(log));
  };
  for (size_t i = 0; i < config.public_keys.size(); ++i) {
    const policy::TrustedKey& entry = config.public_keys[i];
    const std::string what =
        "images.rekor.publicKeys '" + (entry.name.empty() ? "#" + std::to_string(i + 1) : entry.name) + "'";
    if (entry.path.empty() == entry.public_key_pem.empty()) {
      return Status::InvalidArgument(what + ": set exactly one of path (a PEM file) or publicKey (inline PEM)");
    }
    std::string pem = entry.public_key_pem;
    if (!entry.path.empty()) {
      auto contents = ReadConfigFile(what, entry.path, 64 << 10);
      if (!contents.ok()) return contents.status();
      pem = std::move(contents).value();
    }
    auto key = PublicKey::FromPem(pem);
    if (!key.ok()) return Status::InvalidArgument(what + ": " + key.status().message());
    std::string id = key->Sha256HexId();
    add(RekorLogKey{std::move(id), std::move(key).value()});
  }
  if (!config.trusted_root_file.empty()) {
    const std::string what = "images.rekor.trustedRootFile";
    auto contents = ReadConfigFile(what, config.trusted_root_file, 4 << 20);
    if (!contents.ok()) return contents.status();
    auto root = FromTrustedRoot(*contents);
    if (!root.ok()) {
      return Status::InvalidArgument(what + " '" + config.trusted_root_file + "': " + root.status().message());
    }
    if (root->empty()) {
      return Status::InvalidArgument(what + " '" + config.trusted_root_file +
                                     "' lists no Rekor v1 (ECDSA) log key, so no SET could be verified");
    }
    for (const auto& log : root->keys()) add(log);
  }
  return set;
}

StatusOr<RekorKeySet> RekorKeySet::FromPem(const std::vector<std::string>& pems) {
  RekorKeySet set;
  for (size_t i = 0; i < pems.size(); ++i) {
    auto key = PublicKey::FromPem(pems[i]);
    if (!key.ok()) {
      return Status::InvalidArgument("Rekor public key #" + std::to_string(i + 1) + ": " + key.status().message());
    }
    std::string id = key->Sha256HexId();
    set.keys_.push_back(RekorLogKey{std::move(id), std::move(key).value()});
  }
  return set;
}

StatusOr<RekorKeySet> RekorKeySet::FromTrustedRoot(std::string_view trusted_root_json) {
  auto root = ParseJson(trusted_root_json, "trusted root");
  if (!root.ok()) return root.status();
  const nlohmann::json* tlogs = Member(*root, "tlogs");
  if (tlogs == nullptr || !tlogs->is_array()) {
    return Status::InvalidArgument("trusted root has no 'tlogs' array");
  }
  RekorKeySet set;
  for (size_t i = 0; i < tlogs->size(); ++i) {
    const nlohmann::json* public_key = Member((*tlogs)[i], "publicKey", "public_key");
    const auto raw = public_key ? StringMember(*public_key, "rawBytes", "raw_bytes") : std::nullopt;
    const auto der = raw ? Base64Decode(*raw) : std::nullopt;
    if (!der)
      return Status::InvalidArgument("trusted root tlogs[" + std::to_string(i) + "] has no valid publicKey.rawBytes");
    auto key = PublicKey::FromDer(*der);
    if (!key.ok()) {
      return Status::InvalidArgument("trusted root tlogs[" + std::to_string(i) + "]: " + key.status().message());
    }
    if (key->type() == KeyType::kEd25519) continue;  // Rekor v2: checkpoints only, no SETs
    std::string id = key->Sha256HexId();
    set.keys_.push_back(RekorLogKey{std::move(id), std::move(key).value()});
  }
  return set;
}

const PublicKey* RekorKeySet::Find(std::string_view log_id_hex) const {
  const std::string wanted = ToLower(std::string(log_id_hex));
  for (const auto& log : keys_) {
    if (log.log_id_hex == wanted) return &log.key;
  }
  return nullptr;
}

std::string SignedEntryTimestampPayload(const RekorEntry& entry) {
  // Keys sorted per RFC 8785 (UTF-16 code units): body, integratedTime, logID, logIndex. No whitespace.
  return "{\"body\":" + nlohmann::json(entry.body_base64).dump() +
         ",\"integratedTime\":" + std::to_string(entry.integrated_time) +
         ",\"logID\":" + nlohmann::json(entry.log_id_hex).dump() + ",\"logIndex\":" + std::to_string(entry.log_index) +
         "}";
}

Status VerifySignedEntryTimestamp(const RekorKeySet& logs, const RekorEntry& entry) {
  const PublicKey* key = logs.Find(entry.log_id_hex);
  if (key == nullptr) return Status::NotFound("transparency log " + entry.log_id_hex + " is not trusted");
  if (entry.signed_entry_timestamp.empty()) {
    return Status::InvalidArgument("the transparency log entry has no signed entry timestamp");
  }
  if (!key->Verify(SignedEntryTimestampPayload(entry), entry.signed_entry_timestamp)) {
    return Status::InvalidArgument("the transparency log's signed entry timestamp does not verify");
  }
  return Status::Ok();
}

Status CheckEntryBody(const RekorEntry& entry, const SignatureBinding& binding) {
  const auto decoded = Base64Decode(entry.body_base64);
  if (!decoded) return Status::InvalidArgument("the transparency log entry body is not valid base64");
  auto body = ParseJson(*decoded, "the transparency log entry body");
  if (!body.ok()) return body.status();
  const auto kind = StringMember(*body, "kind");
  const auto api_version = StringMember(*body, "apiVersion");
  const nlohmann::json* spec = Member(*body, "spec");
  if (!kind || !api_version || spec == nullptr || *api_version != "0.0.1") {
    return Status::InvalidArgument("the transparency log entry body is not a Rekor v1 (apiVersion 0.0.1) entry");
  }
  if (*kind == "hashedrekord" || *kind == "rekord") {
    const nlohmann::json* data = Member(*spec, "data");
    if (Status hash = CheckHash(data ? Member(*data, "hash") : nullptr, binding.signed_sha256_hex); !hash.ok())
      return hash;
    const nlohmann::json* signature = Member(*spec, "signature");
    const auto content = signature ? StringMember(*signature, "content") : std::nullopt;
    const auto signature_bytes = content ? Base64Decode(*content) : std::nullopt;
    if (!signature_bytes || *signature_bytes != binding.signature) {
      return Status::InvalidArgument("the transparency log entry records a different signature");
    }
    const nlohmann::json* public_key = Member(*signature, "publicKey");
    const auto key_content = public_key ? StringMember(*public_key, "content") : std::nullopt;
    if (!key_content) return Status::InvalidArgument("the transparency log entry records no public key");
    return CheckRecordedKey(*key_content, *binding.signer);
  }
  if (*kind == "dsse") {
    if (Status hash = CheckHash(Member(*spec, "payloadHash"), binding.signed_sha256_hex); !hash.ok()) return hash;
    const nlohmann::json* signatures = Member(*spec, "signatures");
    if (signatures == nullptr || !signatures->is_array()) {
      return Status::InvalidArgument("the transparency log entry records no signatures");
    }
    Status last = Status::InvalidArgument("the transparency log entry records a different signature");
    for (const auto& recorded : *signatures) {
      const auto signature = StringMember(recorded, "signature");
      const auto signature_bytes = signature ? Base64Decode(*signature) : std::nullopt;
      if (!signature_bytes || *signature_bytes != binding.signature) continue;
      const auto verifier = StringMember(recorded, "verifier");
      if (!verifier) return Status::InvalidArgument("the transparency log entry records no verifier");
      last = CheckRecordedKey(*verifier, *binding.signer);
      if (last.ok()) return last;
    }
    return last;
  }
  return Status::InvalidArgument("unsupported transparency log entry kind '" + *kind + "'");
}

}  // namespace pipeguard::signatures
