#include "pipeguard/signatures/rekor.h"

#include <algorithm>
#include <cctype>
#include <fstream>

#include "json_util.h"

namespace pipeguard::signatures {
namespace {

std::string ToLower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// The DER of the first PEM CERTIFICATE block, or "" when there is none.
std::string CertificatePemToDer(const std::string& pem) {
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  const size_t begin = pem.find(kBegin);
  const size_t end = begin == std::string::npos ? begin : pem.find(kEnd, begin);
  if (end == std::string::npos) return "";
  std::string body;
  for (size_t i = begin + kBegin.size(); i < end; ++i) {
    if (!std::isspace(static_cast<unsigned char>(pem[i]))) body.push_back(pem[i]);
  }
  return Base64Decode(body).value_or("");
}

// The verifier recorded in an entry body: base64 of a PEM public key (or certificate, for keyless signing).
Status CheckRecordedKey(const std::string& encoded, const SignatureBinding& binding) {
  const PublicKey& signer = *binding.signer;
  const auto pem = Base64Decode(encoded);
  if (!pem) return Status::InvalidArgument("the log entry's public key is not valid base64");
  if (!binding.certificate_der.empty()) {
    const std::string recorded = CertificatePemToDer(*pem);
    if (recorded.empty()) return Status::InvalidArgument("the log entry records no signing certificate");
    if (recorded != binding.certificate_der) {
      return Status::InvalidArgument("the log entry records a different signing certificate");
    }
    return Status::Ok();
  }
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

namespace {

// A Rekor v2 verifier: {x509Certificate: {rawBytes}} or {publicKey: {rawBytes}} (DER, base64).
Status CheckV2Verifier(const nlohmann::json* verifier, const SignatureBinding& binding) {
  if (verifier == nullptr) return Status::InvalidArgument("the transparency log entry records no verifier");
  const nlohmann::json* certificate = Member(*verifier, "x509Certificate", "x509_certificate");
  const nlohmann::json* public_key = Member(*verifier, "publicKey", "public_key");
  const nlohmann::json* holder = certificate != nullptr ? certificate : public_key;
  const auto raw = holder ? StringMember(*holder, "rawBytes", "raw_bytes") : std::nullopt;
  const auto der = raw ? Base64Decode(*raw) : std::nullopt;
  if (!der) return Status::InvalidArgument("the transparency log entry's verifier is not valid base64 DER");
  if (!binding.certificate_der.empty()) {
    if (certificate == nullptr || *der != binding.certificate_der) {
      return Status::InvalidArgument("the log entry records a different signing certificate");
    }
    return Status::Ok();
  }
  if (public_key == nullptr || *der != binding.signer->spki_der()) {
    return Status::InvalidArgument("the log entry records a different public key than the one that verified");
  }
  return Status::Ok();
}

Status CheckV2Digest(const nlohmann::json* digest, const std::string& expected_hex) {
  const auto algorithm = digest ? StringMember(*digest, "algorithm") : std::nullopt;
  const auto value = digest ? StringMember(*digest, "digest") : std::nullopt;
  const auto bytes = value ? Base64Decode(*value) : std::nullopt;
  if (!algorithm || *algorithm != "SHA2_256" || !bytes) {
    return Status::InvalidArgument("the log entry's content hash is not a SHA2_256 digest");
  }
  if (HexEncode(*bytes) != expected_hex)
    return Status::InvalidArgument("the log entry records the hash of different content");
  return Status::Ok();
}

// Rekor v2 (apiVersion 0.0.2) hashedrekord and dsse bodies.
Status CheckV2EntryBody(const std::string& kind, const nlohmann::json& spec, const SignatureBinding& binding) {
  if (kind == "hashedrekord") {
    const nlohmann::json* entry = Member(spec, "hashedRekordV002", "hashed_rekord_v002");
    if (entry == nullptr) return Status::InvalidArgument("the hashedrekord 0.0.2 entry has no hashedRekordV002");
    const std::string& expected =
        binding.dsse_pae_sha256_hex.empty() ? binding.signed_sha256_hex : binding.dsse_pae_sha256_hex;
    if (Status digest = CheckV2Digest(Member(*entry, "data"), expected); !digest.ok()) return digest;
    const nlohmann::json* signature = Member(*entry, "signature");
    const auto content = signature ? StringMember(*signature, "content") : std::nullopt;
    const auto bytes = content ? Base64Decode(*content) : std::nullopt;
    if (!bytes || *bytes != binding.signature) {
      return Status::InvalidArgument("the transparency log entry records a different signature");
    }
    return CheckV2Verifier(Member(*signature, "verifier"), binding);
  }
  if (kind == "dsse") {
    const nlohmann::json* entry = Member(spec, "dsseV002", "dsse_v002");
    if (entry == nullptr) return Status::InvalidArgument("the dsse 0.0.2 entry has no dsseV002");
    if (Status digest = CheckV2Digest(Member(*entry, "payloadHash", "payload_hash"), binding.signed_sha256_hex);
        !digest.ok()) {
      return digest;
    }
    const nlohmann::json* signatures = Member(*entry, "signatures");
    if (signatures == nullptr || !signatures->is_array()) {
      return Status::InvalidArgument("the transparency log entry records no signatures");
    }
    for (const auto& recorded : *signatures) {
      const auto content = StringMember(recorded, "content");
      const auto bytes = content ? Base64Decode(*content) : std::nullopt;
      if (bytes && *bytes == binding.signature) return CheckV2Verifier(Member(recorded, "verifier"), binding);
    }
    return Status::InvalidArgument("the transparency log entry records a different signature");
  }
  return Status::InvalidArgument("unsupported transparency log entry kind '" + kind + "' (apiVersion 0.0.2)");
}

}  // namespace

Status CheckEntryBody(const RekorEntry& entry, const SignatureBinding& binding) {
  const auto decoded = Base64Decode(entry.body_base64);
  if (!decoded) return Status::InvalidArgument("the transparency log entry body is not valid base64");
  auto body = ParseJson(*decoded, "the transparency log entry body");
  if (!body.ok()) return body.status();
  const auto kind = StringMember(*body, "kind");
  const auto api_version = StringMember(*body, "apiVersion");
  const nlohmann::json* spec = Member(*body, "spec");
  if (kind && api_version && spec != nullptr && *api_version == "0.0.2" && *kind != "intoto") {
    return CheckV2EntryBody(*kind, *spec, binding);
  }
  if (kind && api_version && spec != nullptr && *kind == "intoto" && *api_version == "0.0.2") {
    // The deprecated intoto kind (cosign attest before DSSE entries): content.payloadHash and the envelope's
    // signatures, each base64 of the base64 signature, with the verifier's PEM.
    const nlohmann::json* content = Member(*spec, "content");
    if (content == nullptr) return Status::InvalidArgument("the intoto log entry has no content");
    if (Status hash = CheckHash(Member(*content, "payloadHash"), binding.signed_sha256_hex); !hash.ok()) return hash;
    const nlohmann::json* envelope = Member(*content, "envelope");
    const nlohmann::json* signatures = envelope ? Member(*envelope, "signatures") : nullptr;
    if (signatures == nullptr || !signatures->is_array()) {
      return Status::InvalidArgument("the transparency log entry records no signatures");
    }
    Status last = Status::InvalidArgument("the transparency log entry records a different signature");
    for (const auto& recorded : *signatures) {
      const auto sig = StringMember(recorded, "sig");
      const auto inner = sig ? Base64Decode(*sig) : std::nullopt;
      const auto signature_bytes = inner ? Base64Decode(*inner) : std::nullopt;
      if (!signature_bytes || *signature_bytes != binding.signature) continue;
      const auto verifier = StringMember(recorded, "publicKey");
      if (!verifier) return Status::InvalidArgument("the transparency log entry records no verifier");
      last = CheckRecordedKey(*verifier, binding);
      if (last.ok()) return last;
    }
    return last;
  }
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
    return CheckRecordedKey(*key_content, binding);
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
      last = CheckRecordedKey(*verifier, binding);
      if (last.ok()) return last;
    }
    return last;
  }
  return Status::InvalidArgument("unsupported transparency log entry kind '" + *kind + "'");
}

namespace {

std::string HashChildren(std::string_view left, std::string_view right) {
  return Sha256(std::string(1, '\x01') + std::string(left) + std::string(right));
}

// RFC 9162 §2.1.3.2: the root hash implied by `leaf_hash` at `index` in a tree of `size` with `path`.
std::optional<std::string> RootFromInclusionProof(uint64_t index, uint64_t size, std::string leaf_hash,
                                                  const std::vector<std::string>& path) {
  if (index >= size) return std::nullopt;
  uint64_t fn = index;
  uint64_t sn = size - 1;
  std::string r = std::move(leaf_hash);
  for (const std::string& p : path) {
    if (sn == 0 || p.size() != 32) return std::nullopt;
    if ((fn & 1) == 1 || fn == sn) {
      r = HashChildren(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = HashChildren(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return std::nullopt;
  return r;
}

// "host:port" without the port, "[v6]:port" without brackets and port (Go's url.Hostname()).
std::string_view HostName(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    return close == std::string_view::npos ? host.substr(1) : host.substr(1, close - 1);
  }
  return host.substr(0, host.find(':'));
}

// Verifies a signed note (https://c2sp.org/signed-note) from the log and returns its text lines.
StatusOr<std::vector<std::string>> VerifyCheckpoint(std::string_view note, const PublicKey& log_key,
                                                    std::string_view log_id_hex, std::string_view log_name) {
  const size_t split = note.find("\n\n");
  if (split == std::string_view::npos) return Status::InvalidArgument("the checkpoint has no signature block");
  const std::string_view text = note.substr(0, split + 1);
  std::string_view signatures = note.substr(split + 2);
  const std::string hint(log_id_hex.substr(0, 8));  // Rekor v1 key hint: the first 4 bytes of the key ID
  bool signed_by_log = false;
  bool hint_seen = false;
  constexpr std::string_view kDash = "\xe2\x80\x94 ";  // U+2014 EM DASH and a space
  while (!signatures.empty()) {
    const size_t end = signatures.find('\n');
    const std::string_view line = signatures.substr(0, end);
    signatures = end == std::string_view::npos ? std::string_view() : signatures.substr(end + 1);
    if (line.empty()) continue;
    if (line.substr(0, kDash.size()) != kDash)
      return Status::InvalidArgument("the checkpoint has a malformed signature line");
    const size_t space = line.rfind(' ');
    const auto blob = Base64Decode(line.substr(space + 1));
    if (space <= kDash.size() || !blob || blob->size() < 5) {
      return Status::InvalidArgument("the checkpoint has a malformed signature line");
    }
    const std::string_view name = line.substr(kDash.size(), space - kDash.size());
    if ((!log_name.empty() && name != log_name && name != HostName(log_name)) ||
        HexEncode(blob->substr(0, 4)) != hint) {
      continue;
    }
    hint_seen = true;
    if (log_key.Verify(text, blob->substr(4))) signed_by_log = true;
  }
  if (!hint_seen) return Status::InvalidArgument("the checkpoint carries no signature from the transparency log");
  if (!signed_by_log) return Status::InvalidArgument("the checkpoint's signature does not verify");
  std::vector<std::string> lines;
  std::string_view rest = text;
  while (!rest.empty()) {
    const size_t end = rest.find('\n');
    lines.emplace_back(rest.substr(0, end));
    rest = rest.substr(end + 1);
  }
  return lines;
}

}  // namespace

Status VerifyInclusionProof(const RekorEntry& entry, const PublicKey& log_key, std::string_view log_id_hex,
                            std::string_view log_name, bool require_checkpoint) {
  if (!entry.inclusion_proof) return Status::FailedPrecondition("the transparency log entry has no inclusion proof");
  const InclusionProof& proof = *entry.inclusion_proof;
  const auto body = Base64Decode(entry.body_base64);
  if (!body) return Status::InvalidArgument("the transparency log entry body is not valid base64");
  if (proof.log_index < 0 || proof.tree_size <= 0 || proof.root_hash.size() != 32) {
    return Status::InvalidArgument("the inclusion proof has an invalid index, tree size or root hash");
  }
  const auto root =
      RootFromInclusionProof(static_cast<uint64_t>(proof.log_index), static_cast<uint64_t>(proof.tree_size),
                             Sha256(std::string(1, '\0') + *body), proof.hashes);
  if (!root || *root != proof.root_hash) {
    return Status::InvalidArgument("the inclusion proof does not lead to its root hash (entry not proven in the log)");
  }
  if (proof.checkpoint.empty()) {
    if (require_checkpoint) return Status::InvalidArgument("the inclusion proof has no signed checkpoint");
    return Status::Ok();
  }
  auto lines = VerifyCheckpoint(proof.checkpoint, log_key, log_id_hex, log_name);
  if (!lines.ok()) return lines.status();
  if (lines->size() < 3) return Status::InvalidArgument("the checkpoint lacks an origin, tree size or root hash");
  if ((*lines)[1] != std::to_string(proof.tree_size)) {
    return Status::InvalidArgument("the checkpoint's tree size differs from the inclusion proof's");
  }
  const auto checkpoint_root = Base64Decode((*lines)[2]);
  if (!checkpoint_root || *checkpoint_root != proof.root_hash) {
    return Status::InvalidArgument("the checkpoint's root hash differs from the inclusion proof's");
  }
  return Status::Ok();
}

}  // namespace pipeguard::signatures
