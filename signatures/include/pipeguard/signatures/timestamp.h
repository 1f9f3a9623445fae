// RFC 3161 signed timestamps as Sigstore bundles carry them (verificationMaterial.timestampVerificationData
// .rfc3161Timestamps[].signedTimestamp: a DER TimeStampResp), verified offline against the timestamp authorities of
// a trusted_root.json (keyless-and-attestations.md §1.6). Pure and thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

#include "pipeguard/base/status.h"
#include "pipeguard/signatures/trusted_root.h"

namespace pipeguard::signatures {

// Verifies that `response_der` is a granted TimeStampResp whose token is signed by a timestamp authority of `root`
// (its certChain, valid at the timestamp's genTime, which must lie inside the authority's validFor) and whose message
// imprint is the hash of `signed_bytes` (the signature being timestamped). Returns genTime in Unix seconds.
// InvalidArgument naming what failed otherwise.
StatusOr<int64_t> VerifyRfc3161Timestamp(std::string_view response_der, std::string_view signed_bytes,
                                         const TrustedRoot& root);

}  // namespace pipeguard::signatures
