#!/usr/bin/env bash
# The admission server under load from an external generator (wrk, HTTP/1.1 keep-alive over TLS), the real
# pipeguard-webhook binary on loopback serving the representative pod (bench/representative_pod.h). Every figure is
# also given as a ratio against a baseline measured in the same run:
#   - /validate against /healthz on the same server (what admission costs over the bare serving path);
#   - with --baseline BINARY (e.g. a pipeguard-webhook built from an earlier commit), candidate against baseline;
#   - --attack: the same /validate load while bench/peer/go_hold_connections.go holds idle keep-alive connections,
#     slowloris and silent TCP connections open (a Go program: a goroutine per connection, half the CPU and a tenth
#     of the memory of the asyncio holder it replaced), against the mean of the same load before the attack and
#     after it; and what holding the attack costs the server and the attacker with no other load. With the attack
#     still on, N brand-new clients one after another, 50 ms apart (fresh TCP + full TLS handshake, no session
#     reuse, one review each): their p50/p99/max (target p99 <= 10 ms), against the same clients before the attack. The new
#     clients are Go's HTTP client (bench/peer/go_new_clients.go: crypto/tls and net/http, the API server's own
#     stack, its TLS configuration built once); --new-client-tool curl runs one curl process per client instead,
#     which adds curl's own start-up and certificate loading (~3 ms here) to every figure.
#   - --attacker-cpu PCT (with --attack, default 50): the attacker runs in a cgroup capped at PCT % of one core. In a
#     cluster hostile connections come from other machines; here the attacker shares the server's two cores, and
#     without a cap what the figures lose would be the attacker's CPU use, not the server's weakness. 0: no cap.
#
#   bench/webhook_load.sh [--build DIR] [--baseline BINARY] [--seconds S] [--connections C1,C2]
#                         [--attack IDLE,SLOWLORIS,SILENT] [--attacker-cpu PCT] [--new-clients N]
#                         [--new-client-tool go|curl]
#
# Needs a Release build (ninja -C build pipeguard-webhook write_fixtures). Installs wrk from Debian when missing.
# The two cores are shared by the server and wrk, so absolute figures are lower bounds; ratios are the result.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$repo/build" baseline="" seconds=10 connections="10,64" attack="" attacker_cpu=50 new_clients=200 new_client_tool=go
while (($#)); do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --baseline) baseline="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --attack) attack="$2"; shift 2 ;;
    --attacker-cpu) attacker_cpu="$2"; shift 2 ;;
    --new-clients) new_clients="$2"; shift 2 ;;
    --new-client-tool) new_client_tool="$2"; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "webhook_load.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
((seconds <= 120)) || { echo "webhook_load.sh: --seconds is at most 120" >&2; exit 2; }
[[ $attacker_cpu =~ ^[0-9]+$ ]] && ((attacker_cpu <= 100)) ||
  { echo "webhook_load.sh: --attacker-cpu is a percentage of one core, 0-100" >&2; exit 2; }
[[ $new_clients =~ ^[0-9]+$ ]] && ((new_clients >= 1 && new_clients <= 1000)) ||
  { echo "webhook_load.sh: --new-clients is 1-1000" >&2; exit 2; }
[[ $new_client_tool == go || $new_client_tool == curl ]] ||
  { echo "webhook_load.sh: --new-client-tool is go or curl" >&2; exit 2; }
. "$repo/bench/lib/load.sh"
load_setup "$build"
candidate="$build/webhook/pipeguard-webhook"
declare -A rate
measure() {  # NAME
  local r c
  r=($(load "https://127.0.0.1:$port/healthz" 10)); rate[$1,healthz]=${r[0]}
  row "$1 GET /healthz, 10 conns" "${r[@]:0:4}" "${r[*]:4}"
  for c in ${connections//,/ }; do
    r=($(load "https://127.0.0.1:$port/validate" "$c" "$work/post.lua")); rate[$1,validate,$c]=${r[0]}
    row "$1 POST /validate, $c conns" "${r[@]:0:4}" "${r[*]:4}"
  done
}

echo "webhook_load: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), ${seconds}s per run, AdmissionReview $(wc -c <"$work/review.json") bytes"
row "run" "req/s" "p50 ms" "p99 ms" "server CPU µs/req" "errors"
row "---" "---" "---" "---" "---" "---"
start_webhook candidate "$candidate"
candidate_port=$port candidate_pid=$server_pid
measure candidate
if [[ -n $baseline ]]; then
  start_webhook baseline "$baseline"
  measure baseline
fi

# new_clients LABEL : N brand-new clients against $port, one after another, 50 ms apart (300 of them span ~16 s, several
# of the attack's 5 s header-deadline cycles), each a fresh TCP connection and a full TLS handshake (neither tool
# resumes sessions), one review each; a failure counts as a 10 s latency. Prints their p50/p99/max.
new_clients() {
  if [[ $new_client_tool == go ]]; then
    "$work/go-new-clients" "https://127.0.0.1:$port/validate" "$work/review.json" "$new_clients" 50
  else
    for _ in $(seq "$new_clients"); do
      curl -ks --max-time 10 -o /dev/null -w '%{http_code} %{time_total}\n' -H 'Content-Type: application/json' \
        --data-binary @"$work/review.json" "https://127.0.0.1:$port/validate" || true
      sleep 0.05
    done
  fi >"$work/fresh.txt"
  awk '{ print ($1 == 200) ? $2 * 1000 : 10000, ($1 == 200) }' "$work/fresh.txt" | sort -n |
    awk -v n="$new_clients" -v label="$1" -v tool="$new_client_tool" '
      { t[NR] = $1; ok += $2 }
      END {
        printf "%d new clients (%s) %s: %d answered 200, latency p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
          n, tool, label, ok, t[int((NR + 1) / 2)], t[int(NR * 0.99 + 0.999)], t[NR]
      }'
}

if [[ -n $attack ]]; then
  IFS=, read -r idle slowloris silent <<<"$attack"
  port=$candidate_port server_pid=$candidate_pid
  [[ $new_client_tool == go ]] && build_go_peer go_new_clients.go "$work/go-new-clients"
  build_go_peer go_hold_connections.go "$work/go-hold-connections"
  # The same brand-new clients before the attack: what a connection, its handshake and one review cost here.
  new_clients "without an attack (the baseline)"
  hold_seconds=$((seconds + 90))
  attacker=()
  if ((attacker_cpu > 0)); then
    cpu_cap_cgroup "$attacker_cpu" || { echo "webhook_load.sh: cannot create a CPU-capped cgroup (root and cgroup v1 cpu or v2 needed; --attacker-cpu 0 runs uncapped)" >&2; exit 1; }
    attacker=(sh -c 'echo $$ >"$1" && shift && exec "$@"' sh "$cgroup_procs")
  fi
  "${attacker[@]}" "$work/go-hold-connections" "$port" "$idle" "$slowloris" "$silent" "$hold_seconds" "$work/held" \
    >"$work/held.out" 2>"$work/held.err" &
  pids+=($!)
  attacker_pid=$!
  for _ in $(seq 900); do [[ -e $work/held ]] && break; sleep 0.1; done
  [[ -e $work/held ]] || { echo "webhook_load.sh: the connection holder did not get ready" >&2; cat "$work/held.err" >&2; exit 1; }
  cat "$work/held.err"
  # What holding the attack costs each side with no other load: the server's share is what a cluster would lose
  # (it must complete a TLS handshake to read a slowloris connection's headers at all); the attacker's is an
  # artefact of sharing these cores.
  cores_over() {  # PID SECONDS : the CPU cores PID uses over the next SECONDS
    local before after
    before=$(server_pid=$1 cpu_seconds); sleep "$2"; after=$(server_pid=$1 cpu_seconds)
    awk -v a="$after" -v b="$before" -v s="$2" 'BEGIN{printf "%.3f", (a - b) / s}'
  }
  server_idle_cores=$(cores_over "$candidate_pid" 5) attacker_idle_cores=$(cores_over "$attacker_pid" 5)
  c=${connections%%,*}
  attacker_before=$(server_pid=$attacker_pid cpu_seconds)
  r=($(load "https://127.0.0.1:$port/validate" "$c" "$work/post.lua")); rate[attack]=${r[0]}
  attacker_cores=$(awk -v a="$(server_pid=$attacker_pid cpu_seconds)" -v b="$attacker_before" -v s="$seconds" \
    'BEGIN{printf "%.2f", (a - b) / s}')
  row "candidate POST /validate, $c conns, under attack" "${r[@]:0:4}" "${r[*]:4}"
  new_clients "under attack (attacker capped at $attacker_cpu % of a core; 0 = uncapped)"
  # The same load once the attacker is gone: the reference is the mean of before and after, so that a drift of
  # the shared machine during the run is not counted as the attack's effect.
  kill "$attacker_pid" 2>/dev/null || true
  wait "$attacker_pid" 2>/dev/null || true
  sleep 2
  r=($(load "https://127.0.0.1:$port/validate" "$c" "$work/post.lua")); rate[after]=${r[0]}
  row "candidate POST /validate, $c conns, after the attack" "${r[@]:0:4}" "${r[*]:4}"
fi

echo
echo "ratios (same run):"
for c in ${connections//,/ }; do
  awk -v v="${rate[candidate,validate,$c]}" -v h="${rate[candidate,healthz]}" -v c="$c" \
    'BEGIN{printf "  candidate /validate (%s conns) / candidate /healthz: %.2f\n", c, v/h}'
  [[ -n $baseline ]] && awk -v a="${rate[candidate,validate,$c]}" -v b="${rate[baseline,validate,$c]}" -v c="$c" \
    'BEGIN{printf "  candidate / baseline, /validate (%s conns): %.2fx\n", c, a/b}'
done
if [[ -n $attack ]]; then
  c=${connections%%,*}
  without=$(awk -v x="${rate[candidate,validate,$c]}" -v y="${rate[after]}" 'BEGIN{print (x + y) / 2}')
  awk -v a="${rate[attack]}" -v b="$without" \
    'BEGIN{printf "  under attack / without (mean of before and after), /validate: %.2f (throughput drop %.1f %%)\n",
      a/b, 100*(1-a/b)}'
  awk -v s="$server_idle_cores" -v x="$attacker_idle_cores" \
    'BEGIN{printf "  holding the attack with no other load: the server %.3f cores, the attacker %.3f\n", s, x}'
  # The attacker runs on the same cores: what it burns is gone for the server and wrk whatever the server does.
  awk -v a="${rate[attack]}" -v b="$without" -v x="$attacker_cores" -v n="$(nproc)" \
    'BEGIN{printf "  the attacker used %.2f of %d cores under load; per core left to the server and wrk: %.2f (drop %.1f %%)\n",
      x, n, (a/(n-x))/(b/n), 100*(1-(a/(n-x))/(b/n))}'
fi
