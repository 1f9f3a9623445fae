#!/usr/bin/env bash
# Instructions per evaluation (valgrind --tool=callgrind) of the pod alone and of the first sight of a pod with three
# mounted ConfigMaps (bench/policy_eval --only), and their ratio. Instruction counts do not move with the machine's
# load, so this ratio is the repeatable twin of the timed one that `bench/policy_eval` prints. The setup that both
# share (snapshot, sanity checks) is measured with 0 evaluations and subtracted.
#
#   bench/policy_eval_instructions.sh [--build DIR] [--evaluations N]      (default build/, 2000)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$repo/build" evaluations=2000
while (($#)); do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --evaluations) evaluations="$2"; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "policy_eval_instructions.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
command -v valgrind >/dev/null || { echo "policy_eval_instructions.sh: valgrind is missing (apt-get install valgrind)" >&2; exit 1; }
bench="$build/bench/policy_eval"
[[ -x $bench ]] || { echo "policy_eval_instructions.sh: $bench is missing (ninja -C $build policy_eval)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

instructions() { # instructions VARIANT N : total instructions of one run
  valgrind --tool=callgrind --callgrind-out-file="$tmp/out" "$bench" --only "$1" "$2" >/dev/null 2>"$tmp/log" ||
    { cat "$tmp/log" >&2; exit 1; }
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tmp/log"
}
setup=$(instructions pod 0)
pod=$(( ($(instructions pod "$evaluations") - setup) / evaluations ))
first=$(( ($(instructions first-sight "$evaluations") - setup) / evaluations ))
printf 'policy_eval instructions per evaluation (%d evaluations each, callgrind)\n' "$evaluations"
printf '  pod alone                           %10d\n' "$pod"
printf '  pod + 3 ConfigMaps, first sight      %10d\n' "$first"
ratio=$(awk -v a="$first" -v b="$pod" 'BEGIN { printf "%.2f", a / b }')
printf '  ratio                                %10sx  (target <= 2x: %s)\n' "$ratio" \
  "$(awk -v r="$ratio" 'BEGIN { print (r <= 2.0) ? "met" : "NOT met" }')"
