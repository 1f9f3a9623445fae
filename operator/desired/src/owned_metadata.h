// Internal: merging our metadata (labels, ownerReferences) into an observed object for in-place updates.
#pragma once

#include <nlohmann/json.hpp>

namespace pipeguard::desired::internal {

// Sets desired.metadata.labels (ours only; other labels kept) and adds or corrects desired.metadata.ownerReferences
// (matched by uid; other references kept) on `updated`. True when `updated` changed.
bool MergeOwnedMetadata(const nlohmann::json& desired, nlohmann::json& updated);

}  // namespace pipeguard::desired::internal
