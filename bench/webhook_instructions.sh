#!/usr/bin/env bash
# Instructions the real pipeguard-webhook process executes per AdmissionReview (valgrind --tool=callgrind), the
# representative pod (bench/representative_pod.h) sent N times over one TLS keep-alive connection by curl, minus a
# run with no review (start, TLS setup, shutdown). Instruction counts do not move with the machine's load, so this
# is the repeatable twin of bench/webhook_load.sh's "server CPU µs/req" on a shared machine. With --baseline, the
# same for another binary (e.g. one built from an earlier commit) and the ratio.
#
#   bench/webhook_instructions.sh [--build DIR] [--reviews N] [--baseline BINARY] [--keep FILE]
#     --keep FILE   also keep the candidate's callgrind profile (callgrind_annotate --inclusive=yes FILE)
#
# Needs valgrind and a Release build (ninja -C build pipeguard-webhook write_fixtures). Takes ~1 min per binary.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$repo/build" reviews=1000 baseline="" keep=""
while (($#)); do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --reviews) reviews="$2"; shift 2 ;;
    --baseline) baseline="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "webhook_instructions.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[[ $reviews =~ ^[0-9]+$ ]] && ((reviews >= 1 && reviews <= 100000)) ||
  { echo "webhook_instructions.sh: --reviews is 1-100000" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "webhook_instructions.sh: valgrind is missing (apt-get install valgrind)" >&2; exit 1; }
. "$repo/bench/lib/load.sh"
load_setup "$build"

# instructions BINARY N [PROFILE] : total instructions of one server run that answers N reviews.
instructions() {
  local run=$work/run port
  rm -f "$run.port"
  valgrind --tool=callgrind --callgrind-out-file="$run.out" "$1" --config "$work/config.yaml" \
    --context "$work/context" --tls-cert "$work/tls.crt" --tls-key "$work/tls.key" --listen 127.0.0.1:0 \
    --port-file "$run.port" --log-level warn >/dev/null 2>"$run.log" &
  local server=$!
  for _ in $(seq 600); do [[ -s $run.port ]] && break; sleep 0.1; done
  port=$(cat "$run.port")
  for _ in $(seq 300); do curl -ksf "https://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
  if (($2 > 0)); then
    for _ in $(seq "$2"); do printf 'url = "https://127.0.0.1:%s/validate"\noutput = "/dev/null"\n' "$port"; done >"$run.curl"
    # One connection, kept alive across all of them; each must be answered 200.
    codes=$(curl -ks -H 'Content-Type: application/json' --data-binary @"$work/review.json" -w '%{http_code}\n' \
      -K "$run.curl" | sort | uniq -c | awk '{printf "%s x %s ", $1, $2}')
    [[ $codes == "$2 x 200 " ]] || { echo "webhook_instructions.sh: replies were $codes" >&2; kill "$server"; exit 1; }
  fi
  kill -TERM "$server"
  wait "$server" || true
  [[ -n ${3:-} ]] && cp "$run.out" "$3"
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$run.log"
}
per_review() { # BINARY [PROFILE]
  local idle busy
  idle=$(instructions "$1" 0)
  busy=$(instructions "$1" "$reviews" "${2:-}")
  echo $(((busy - idle) / reviews))
}

candidate=$(per_review "$build/webhook/pipeguard-webhook" "$keep")
printf 'webhook instructions per AdmissionReview (%d reviews on one keep-alive connection, callgrind)\n' "$reviews"
printf '  candidate   %10d\n' "$candidate"
if [[ -n $baseline ]]; then
  base=$(per_review "$baseline")
  printf '  baseline    %10d\n' "$base"
  awk -v a="$candidate" -v b="$base" 'BEGIN { printf "  ratio       %10.2fx\n", a / b }'
fi
