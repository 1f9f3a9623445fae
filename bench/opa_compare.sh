#!/usr/bin/env bash
# pipeguard-webhook against Open Policy Agent serving an equivalent Rego policy (bench/opa/pipeguard.rego), in one
# run, with the same external load generator (wrk: closed loop, HTTP/1.1 keep-alive over TLS), the same
# AdmissionReview body (the representative pod, bench/representative_pod.h), the same certificate and the same CPU
# pinning for every server; the servers are measured one after the other at each connection count. Prints
# throughput, latency and the server's CPU per review for each, and the ratios pipeguard / OPA. A third server,
# opa-floor, is OPA with a policy that admits without looking (bench/opa/floor.rego): the cost of OPA's server
# alone (TLS, HTTP, decoding the input, encoding the reply), so the ratios do not hinge on how fast the Rego is.
#
#   bench/opa_compare.sh [--build DIR] [--seconds S] [--connections C1,C2] [--server-cpus LIST] [--client-cpus LIST]
#
# OPA is served as a kube-mgmt style webhook: the API server's AdmissionReview POSTed as it is to `POST /`, which
# evaluates the default decision data.system.main with the body as input and answers its value (an
# AdmissionReview). Both servers load the same config.yaml and profile (bench/write_fixtures). Before measuring,
# the script runs the Rego policy's tests (opa test bench/opa), checks that pipeguard and OPA give the same reply
# to the review (allowed, no violation, same audit annotations), and that both deny a copy of it seeded with one
# problem of each kind with the same (rule, path) findings (bench/opa/compare_findings.py).
#
# Defaults: 10 s per point, 10 and 64 connections, wrk --timeout 10s (the API server's default webhook timeout: a
# slower reply is an error in the table, not a latency); on a machine with 2 or more cores the servers run on the
# last core and wrk on the others (taskset), so wrk does not take the servers' CPU; --server-cpus '' --client-cpus ''
# turns pinning off. OPA is built once from its Go module by scripts/opa/install.sh (cached; minutes when cold).
# Needs a Release build: ninja -C build pipeguard-webhook write_fixtures.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$repo/build" seconds=10 connections="10,64"
last_cpu=$(($(nproc) - 1))
server_cpus="" client_cpus=""
((last_cpu >= 1)) && server_cpus=$last_cpu client_cpus="0-$((last_cpu - 1))"
while (($#)); do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --server-cpus) server_cpus="$2"; shift 2 ;;
    --client-cpus) client_cpus="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "opa_compare.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
((seconds >= 1 && seconds <= 120)) || { echo "opa_compare.sh: --seconds is 1 to 120" >&2; exit 2; }
server_cmd=() client_cmd=()
wrk_timeout=10s # the API server's default webhook timeout (timeoutSeconds): slower replies are errors there too
[[ -n $server_cpus ]] && server_cmd=(taskset -c "$server_cpus")
[[ -n $client_cpus ]] && client_cmd=(taskset -c "$client_cpus")

# shellcheck source=bench/lib/load.sh
. "$repo/bench/lib/load.sh"
# shellcheck source=scripts/controlplane/lib.sh
. "$repo/scripts/controlplane/lib.sh" # cp_free_port
opa=$("$repo/scripts/opa/install.sh" --print-path)
load_setup "$build"

# start_opa NAME [OPA RUN ARGS...] : OPA on a free loopback port over TLS with bench/opa and the fixtures' data;
# sets $port and $server_pid. Retries on another port when the chosen one was taken meanwhile (OPA keeps running
# after a failed bind).
start_opa() {
  local name=$1 data=(pipeguard.config:"$work/config.yaml") f opa_port
  shift
  for f in "$work"/context/*.json; do data+=("pipeguard.profiles.$(basename "$f" .json):$f"); done
  for _ in 1 2 3; do
    cp_free_port opa_port
    "${server_cmd[@]}" "$opa" run --server --addr "127.0.0.1:$opa_port" --skip-version-check --log-level error \
      --tls-cert-file "$work/tls.crt" --tls-private-key-file "$work/tls.key" "$@" \
      "$repo/bench/opa/pipeguard.rego" "$repo/bench/opa/floor.rego" "${data[@]}" >"$work/$name.log" 2>&1 &
    server_pid=$!
    pids+=("$server_pid")
    port=$opa_port
    for _ in $(seq 100); do
      curl -ksf "https://127.0.0.1:$port/health" >/dev/null && return
      grep -q 'address already in use' "$work/$name.log" && break
      cp_pid_alive "$server_pid" || break
      sleep 0.1
    done
    kill "$server_pid" 2>/dev/null || true
  done
  echo "opa_compare.sh: $name did not become ready" >&2
  cat "$work/$name.log" >&2
  exit 1
}

# review_reply URL : the `response` of the server's AdmissionReview reply to review.json, as sorted JSON.
review_reply() {
  curl -ksS -H 'Content-Type: application/json' --data-binary @"$work/review.json" "$1" |
    python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["response"], sort_keys=True))'
}

# The policy under comparison finds what it claims to (bench/opa/pipeguard_test.rego).
"$opa" test "$repo/bench/opa" >"$work/opa-test.out" 2>&1 || {
  echo "opa_compare.sh: the Rego policy's tests fail:" >&2; cat "$work/opa-test.out" >&2; exit 1; }

servers=(pipeguard opa opa-floor)
declare -A url pid
start_webhook pipeguard "$build/webhook/pipeguard-webhook"
url[pipeguard]="https://127.0.0.1:$port/validate" pid[pipeguard]=$server_pid
start_opa opa
url[opa]="https://127.0.0.1:$port/" pid[opa]=$server_pid
start_opa opa-floor --set default_decision=/floor/main
url[opa-floor]="https://127.0.0.1:$port/" pid[opa-floor]=$server_pid

pipeguard_reply=$(review_reply "${url[pipeguard]}")
opa_reply=$(review_reply "${url[opa]}")
floor_reply=$(review_reply "${url[opa-floor]}")
if [[ $pipeguard_reply != "$opa_reply" || $pipeguard_reply != *'"allowed": true'* ||
      $floor_reply != *'"allowed": true'* ]]; then
  echo "opa_compare.sh: the servers do not give the expected replies to the review:" >&2
  echo "  pipeguard: $pipeguard_reply" >&2
  echo "  opa:       $opa_reply" >&2
  echo "  opa-floor: $floor_reply" >&2
  exit 1
fi

# And on a review seeded with one problem of each kind, both deny with the same (rule, path) findings.
seeded_check=$(python3 "$repo/bench/opa/compare_findings.py" "$work/review.json" "${url[pipeguard]}" "${url[opa]}") || {
  echo "opa_compare.sh: pipeguard and the Rego policy disagree on the seeded review (above)" >&2; exit 1; }

echo "opa_compare: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start, ${seconds}s per run," \
  "AdmissionReview $(wc -c <"$work/review.json") bytes"
echo "servers on CPUs ${server_cpus:-any}, wrk ($wrk_threads thread(s)) on CPUs ${client_cpus:-any}; OPA $("$opa" version | sed -n 's/^Version: //p')"
echo "pipeguard and opa both reply: $pipeguard_reply"
echo "opa-floor (allow-all policy, bench/opa/floor.rego) replies: $floor_reply"
echo "$seeded_check"
echo
row "run" "req/s" "p50 ms" "p99 ms" "server CPU µs/req" "errors"
row "---" "---" "---" "---" "---" "---"
# A short unreported warm-up of each server (OPA prepares and caches the query on first use; Go's heap grows).
for name in "${servers[@]}"; do
  server_pid=${pid[$name]} seconds=2 load "${url[$name]}" 10 "$work/post.lua" >/dev/null
done
declare -A result
for c in ${connections//,/ }; do
  for name in "${servers[@]}"; do
    server_pid=${pid[$name]}
    read -ra r < <(load "${url[$name]}" "$c" "$work/post.lua")
    result[$name,$c]="${r[*]:0:4}"
    row "$name POST /${url[$name]#https://127.0.0.1:*/}, $c conns" "${r[@]:0:4}" "${r[*]:4}"
  done
done
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"

echo
echo "ratios pipeguard / OPA (same run, same body, same cores); in brackets: pipeguard / opa-floor"
printf '| %-5s | %-22s | %-22s | %-22s | %-22s |\n' conns "throughput" "CPU per review" "p50 latency" "p99 latency"
printf '| %-5s | %-22s | %-22s | %-22s | %-22s |\n' --- --- --- --- ---
for c in ${connections//,/ }; do
  awk -v c="$c" -v p="${result[pipeguard,$c]}" -v o="${result[opa,$c]}" -v f="${result[opa-floor,$c]}" '
    function ratio(a, b) { return b > 0 ? sprintf("%.2fx", a / b) : "n/a" }
    BEGIN {
      split(p, pg, " "); split(o, op, " "); split(f, fl, " ")
      printf "| %-5s", c
      for (i = 1; i <= 4; i++) {  # req/s, p50, p99, CPU: printed as throughput, CPU, p50, p99
        k = (i == 2 ? 4 : i == 3 ? 2 : i == 4 ? 3 : 1)
        printf " | %-22s", ratio(pg[k], op[k]) " (" ratio(pg[k], fl[k]) ")"
      }
      printf " |\n"
    }'
done
