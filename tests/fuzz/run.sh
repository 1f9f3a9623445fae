#!/usr/bin/env bash
# Builds the AdmissionReview fuzzer (clang, libFuzzer, ASan + UBSan) in its own build directory and runs it for a
# bounded time on a scratch copy of the seed corpus. Findings (crash-*, timeout-*, oom-*) land in
# $BUILD/fuzz-artifacts/. Exit status: 0 when the run finished without a finding, non-zero otherwise.
#
# Usage: tests/fuzz/run.sh [SECONDS]        (default 60; also FUZZ_SECONDS)
#   PIPEGUARD_FUZZ_BUILD_DIR   build directory (default <repo>/build-fuzz)
#   FUZZ_JOBS                  parallel fuzzing processes (default 1; the machine has 2 cores)
set -euo pipefail

seconds="${1:-${FUZZ_SECONDS:-60}}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${PIPEGUARD_FUZZ_BUILD_DIR:-$root/build-fuzz}"
seeds="$root/tests/fuzz/corpus/admission_review"

command -v clang++ >/dev/null || { echo "run.sh: clang++ not found (scripts/install-deps.sh installs it)" >&2; exit 2; }

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPIPEGUARD_FUZZ=ON -DPIPEGUARD_SANITIZE=ON -DPIPEGUARD_BUILD_TESTS=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" >/dev/null
ninja -C "$build" -j2 admission_review_fuzzer

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/corpus" "$build/fuzz-artifacts"

# New inputs go to the scratch corpus (first directory); the seeds in the repository are only read.
jobs=()
if [[ "${FUZZ_JOBS:-1}" -gt 1 ]]; then jobs=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS"); fi
"$build/webhook/admission_review_fuzzer" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=262144 "${jobs[@]}" \
  -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/" \
  "$scratch/corpus" "$seeds"
