// `pipeguard verify-image [--config FILE] [--key FILE]... IMAGE`: verifies one image's cosign signature against
// its registry, with the webhook's verification service (imageverify), and the scan integration.
#pragma once

#include <string_view>
#include <vector>

#include "pipeguard/base/status.h"
#include "pipeguard/policy/config.h"
#include "pipeguard/policy/context.h"
#include "pipeguard/policy/engine.h"

namespace pipeguard::cli {

// The flag and exit-status text of `pipeguard help verify-image`.
std::string_view VerifyImageHelp();

// For `pipeguard scan` with images.verify: true and trusted keys configured (context.config().images): verifies the
// image checks of every governed review (policy::Review::image_checks: the images the engine will look up, with the
// keys of each pod's profiles; each review is decided like one admission, within images.deadline; the cache is
// shared) and returns the lookup for the engine. Objects the engine does not govern cost no registry call. An error
// (unreadable key file, bad registry CA/credentials file) is an input error. Without trusted keys it returns an
// empty lookup: the engine then reports every governed image unverified.
StatusOr<policy::ImageVerdictLookup> VerifyScanImages(const policy::ContextSnapshot& context,
                                                      const std::vector<policy::Review>& reviews);

}  // namespace pipeguard::cli
