#!/usr/bin/env bash
# The whole test suite (README command 2; .ci/run calls this).
#
#   bash scripts/test.sh            everything: format check, Release + ASan/UBSan unit tests, integration tests,
#                                   end-to-end suites (e2e/), the container image (tests/image, needs root)
#   bash scripts/test.sh --quick    Release build + unit tests only (for the edit-compile loop)
#
# Installs what it needs (scripts/install-deps.sh). The full run also fuzzes every libFuzzer target (tests/fuzz) for
# PIPEGUARD_FUZZ_SECONDS each (default 60). Build trees are kept in build/, build-asan/ and build-fuzz/ so reruns are
# incremental. Exit status is non-zero when anything fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

jobs=${PIPEGUARD_JOBS:-$(nproc)}
# ccache keys on paths relative to the checkout, so a fresh clone in another folder still hits the cache.
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=true
# Each step's wall time is printed when the next one starts, and all of them at the end (a cold machine must stay
# well inside CI's 90 minutes).
# shellcheck source=lib/stages.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/stages.sh"

step "dependencies"
bash scripts/install-deps.sh
# Real servers the component tests talk to, built or installed once and cached under ~/.cache/pipeguard:
# docker-registry, skopeo and cosign v2/v3 (registry tests), moto (AWS tests), and the control plane
# (kube-apiserver, etcd, kubectl, helm), which the kube and operator component tests start too, so it must exist
# before the unit tests run, not only before the integration tests (a fresh machine failed 16 tests without it).
bash scripts/registry/install.sh
bash scripts/moto/install.sh
bash scripts/controlplane/install.sh

if ((quick == 0)); then
  step "clang-format"
  bash scripts/check-format.sh
fi

step "Release build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build -j "$jobs"

step "unit and component tests (Release)"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600

if ((quick == 0)); then
  step "ASan+UBSan build"
  # The benchmarks run from the Release tree only; compiling them with sanitizers would only cost time.
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPIPEGUARD_SANITIZE=ON -DPIPEGUARD_BUILD_BENCH=OFF >/dev/null
  ninja -C build-asan -j "$jobs"
  step "unit and component tests (ASan+UBSan)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 900
fi

if ((quick == 0)); then
  step "fuzzing: every libFuzzer target for ${PIPEGUARD_FUZZ_SECONDS:-60} s each on its corpus in tests/fuzz/corpus (clang, ASan+UBSan)"
  bash tests/fuzz/run.sh "${PIPEGUARD_FUZZ_SECONDS:-60}"
fi

if ((quick == 0)); then
  step "integration tests (real kube-apiserver + etcd, built in the dependencies step)"
  bash tests/integration/run.sh
  step "webhook: rolling restart of two replicas under 500 AdmissionReviews/s, 0 failed (bench/graceful_restart.py)"
  python3 bench/graceful_restart.py --build build --seconds 14
  step "release workflow templates: actionlint, the GitLab include, the steps run locally (real registry + cosign)"
  bash tests/release/templates_test.sh
  step "end-to-end: helm chart against a real kube-apiserver"
  bash e2e/helm_test.sh
  step "end-to-end: kubectl, signed images and the operator on the real stack (docs/e2e.md)"
  PIPEGUARD_BUILD_DIR=build bash e2e/e2e_test.sh
  step "end-to-end: IRSA with the real EKS pod identity webhook, the operator's role in moto STS (docs/e2e.md)"
  # The webhook's Go build (~2.5 min on 2 cores) is cached in ~/.cache/pipeguard like the other tools.
  bash scripts/podidentity/install.sh
  PIPEGUARD_BUILD_DIR=build bash e2e/irsa_test.sh
  step "end-to-end: keyless signing for real: Fulcio, Rekor v2 and a timestamp authority from their Go modules (docs/keyless-real.md)"
  # Three Go builds (~4 min on 2 cores with the cosign builds' cache), cached in ~/.cache/pipeguard.
  bash scripts/sigstore/install.sh
  PIPEGUARD_BUILD_DIR=build bash e2e/keyless_real_test.sh
  step "end-to-end: Airflow KubernetesPodOperator and spark-submit against the real stack (docs/e2e-clients.md)"
  PIPEGUARD_BUILD_DIR=build bash e2e/clients_test.sh
  step "container image without Docker: reproducible build, push over TLS, cosign v2/v3, verify-image (docs/image.md)"
  image_start=$SECONDS
  PIPEGUARD_BUILD_DIR=build bash tests/image/image_test.sh
  echo "container image stage: $((SECONDS - image_start))s (cold adds ~1 min for the Debian root, then cached)"
fi

print_stage_times
printf '\n==> all tests passed\n'
