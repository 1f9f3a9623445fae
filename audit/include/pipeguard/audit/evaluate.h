// The pure half of the background audit: objects that are already stored in the cluster, judged as admission
// would judge their creation now, ready for report::BuildPolicyReports.
//
// No I/O: image verdicts come through the caller's lookup (the webhook's verification service and cache).
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "pipeguard/policy/context.h"
#include "pipeguard/policy/engine.h"
#include "pipeguard/report/policy_report.h"

namespace pipeguard::audit {

// The image verdicts for one review's image_checks(), as a lookup for Engine::Evaluate; an empty function means no
// verification (images.verify off: the engine then reports nothing about signatures). Called once per governed
// object; may block on registries (the caller bounds it).
using ImageVerdictsFor = std::function<policy::ImageVerdictLookup(const policy::Review& review)>;

// True when `object` is judged through the object that controls it: a Pod controlled by a ReplicaSet, Job, Pod
// (Spark executors, owned by their driver) or SparkApplication, a Job controlled by a CronJob, a ReplicaSet. Their
// pod templates were judged on the owner, so reporting them again would count one problem many times.
bool JudgedThroughItsOwner(const nlohmann::json& object);

// Evaluates every object that is not JudgedThroughItsOwner under `snapshot`, as a CREATE at `now_unix_seconds` by
// an unknown requester (so a break-glass waiver, which depends on who asked, is not honoured: the audit reports
// what breaks the policy, waived or not). Objects the engine does not govern come back with verdict.governed false
// (BuildPolicyReports leaves them out). Pure apart from `images`; thread-safe. `config_maps` finds the ConfigMaps
// governed pods mount (policy::PrepareReview; empty: the snapshot's).
std::vector<report::EvaluatedObject> EvaluateStoredObjects(const std::vector<const nlohmann::json*>& objects,
                                                           const policy::ContextSnapshot& snapshot,
                                                           const policy::Engine& engine, const ImageVerdictsFor& images,
                                                           std::int64_t now_unix_seconds,
                                                           const policy::ConfigMapLookup& config_maps = {});

}  // namespace pipeguard::audit
