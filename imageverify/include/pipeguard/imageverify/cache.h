// The two caches of the image verification service: verdicts by digest and tag -> digest resolutions.
//
// A VerificationCache holds no policy: callers decide the TTLs when they store an entry and pass the time when
// they look one up, so one cache can be shared by successive service instances (configuration reloads) whose keys
// carry the key-set and verifier fingerprints; entries of an old configuration simply stop being found and age
// out of the LRU. Thread-safe; every operation is O(1) under a short internal lock.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "pipeguard/signatures/checks.h"

namespace pipeguard::imageverify {

using TimePoint = std::chrono::steady_clock::time_point;

// The outcome of verifying one digest in one repository: everything a cached verdict must reproduce.
struct DigestVerdict {
  signatures::Reason reason = signatures::Reason::kNoSignature;
  std::string digest;  // sha256:...
  // Why not verified, starting with signatures::ReasonText (e.g. "no signature found: ..."); empty when verified.
  std::string why;
  std::string key_name;  // the trusted key that verified the digest
  signatures::SignatureFormat format = signatures::SignatureFormat::kNone;
  std::string signature_location;
  bool tlog_verified = false;
  // With attestation requirements: what the attestations showed ("attestations satisfy the requirements (...)")
  // when verified; empty otherwise (a failure is in `why`).
  std::string attestations;

  bool verified() const { return reason == signatures::Reason::kVerified; }
};

class VerificationCache {
 public:
  struct Limits {
    size_t max_verdicts = 10000;  // least recently used entries are evicted beyond these
    size_t max_tags = 10000;
  };

  // An entry found by a lookup: fresh (serve it), or expired but still within its servable window (serve it only
  // when the registry cannot answer).
  template <typename T>
  struct Hit {
    T value;
    bool fresh = false;
  };

  explicit VerificationCache(Limits limits);
  VerificationCache() : VerificationCache(Limits{}) {}
  ~VerificationCache();
  VerificationCache(const VerificationCache&) = delete;
  VerificationCache& operator=(const VerificationCache&) = delete;

  // The entry for `key` if now < servable_until (fresh iff now < fresh_until); entries past servable_until are
  // dropped. A hit refreshes the entry's LRU position.
  std::optional<Hit<DigestVerdict>> FindVerdict(const std::string& key, TimePoint now);
  // Stores (or replaces) an entry. fresh_until <= servable_until is enforced by raising servable_until.
  void PutVerdict(const std::string& key, DigestVerdict verdict, TimePoint fresh_until, TimePoint servable_until);

  std::optional<Hit<std::string>> FindTag(const std::string& key, TimePoint now);
  void PutTag(const std::string& key, std::string digest, TimePoint fresh_until, TimePoint servable_until);

  void Clear();
  size_t verdict_count() const;
  size_t tag_count() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pipeguard::imageverify
