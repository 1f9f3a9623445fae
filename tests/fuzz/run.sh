#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in their own build directory and runs each for a bounded time
# on a scratch copy of its seed corpus. Findings (crash-*, timeout-*, oom-*) land in $BUILD/fuzz-artifacts/<target>/.
# Exit status: 0 when every run finished without a finding, non-zero otherwise (2: setup error).
#
# Usage: tests/fuzz/run.sh [SECONDS] [TARGET...]
#   SECONDS     per target (default 60; also FUZZ_SECONDS)
#   TARGET      a target name, e.g. admission_review (or admission_review_fuzzer); default: every target, i.e. every
#               tests/fuzz/<name>_fuzzer.cc, built as the CMake target <name>_fuzzer (under PIPEGUARD_FUZZ). Seeds
#               are read from tests/fuzz/corpus/<name>/ (kept in the repository; the run never writes there).
#   PIPEGUARD_FUZZ_BUILD_DIR   build directory (default <repo>/build-fuzz)
#   FUZZ_JOBS                  parallel fuzzing processes per target (default 1; the machine has 2 cores)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${PIPEGUARD_FUZZ_BUILD_DIR:-$root/build-fuzz}"
seconds="${FUZZ_SECONDS:-60}"
targets=()
for arg in "$@"; do
  case "$arg" in
    -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
    *[!0-9]*) targets+=("${arg%_fuzzer}") ;;
    *) seconds="$arg" ;;
  esac
done
if ((${#targets[@]} == 0)); then
  for source in "$root"/tests/fuzz/*_fuzzer.cc; do
    name="$(basename "$source" .cc)"
    targets+=("${name%_fuzzer}")
  done
fi
for target in "${targets[@]}"; do
  [[ -f "$root/tests/fuzz/${target}_fuzzer.cc" ]] || {
    echo "run.sh: no fuzz target '$target' (tests/fuzz/${target}_fuzzer.cc does not exist)" >&2
    exit 2
  }
done

# The compiler scripts/install-deps.sh installs (Debian's clang, with libclang-rt for libFuzzer and the sanitizers).
cxx="$(command -v clang++ || true)"
cc="$(command -v clang || true)"
[[ -n "$cxx" && -n "$cc" ]] || { echo "run.sh: clang/clang++ not found (scripts/install-deps.sh installs them)" >&2; exit 2; }

CC="$cc" CXX="$cxx" cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPIPEGUARD_FUZZ=ON -DPIPEGUARD_SANITIZE=ON -DPIPEGUARD_BUILD_TESTS=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" >/dev/null
ninja -C "$build" -j2 "${targets[@]/%/_fuzzer}"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

jobs=()
if [[ "${FUZZ_JOBS:-1}" -gt 1 ]]; then jobs=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS"); fi
failed=()
for target in "${targets[@]}"; do
  binary="$(find "$build" -type f -name "${target}_fuzzer" -perm -u+x | head -n 1)"
  [[ -n "$binary" ]] || { echo "run.sh: ${target}_fuzzer was not built under $build" >&2; exit 2; }
  seeds="$root/tests/fuzz/corpus/$target"
  [[ -d "$seeds" ]] || { echo "run.sh: no seed corpus $seeds (add a few valid inputs there)" >&2; exit 2; }
  artifacts="$build/fuzz-artifacts/$target"
  mkdir -p "$scratch/$target" "$artifacts"
  echo "== fuzzing $target for ${seconds}s (seeds: tests/fuzz/corpus/$target, $(find "$seeds" -type f | wc -l) files)"
  # New inputs go to the scratch corpus (the first directory); the seeds in the repository are only read.
  if ! "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=262144 "${jobs[@]}" \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$scratch/$target" "$seeds"; then
    failed+=("$target")
  fi
done
if ((${#failed[@]})); then
  echo "run.sh: findings in ${failed[*]} (inputs in $build/fuzz-artifacts/)" >&2
  exit 1
fi
echo "run.sh: ${#targets[@]} target(s) x ${seconds}s, no findings"
