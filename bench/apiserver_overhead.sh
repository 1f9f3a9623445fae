#!/usr/bin/env bash
# What pipeguard's webhook costs a real kube-apiserver: server-side dry-run creates of the representative governed
# pod (bench/representative_pod.h; POST /api/v1/namespaces/etl/pods?dryRun=All) from C concurrent keep-alive clients,
# with and without the webhook registered, in the same run (tracker issue 9, "Targets").
#
#   bench/apiserver_overhead.sh [--build DIR] [--seconds S] [--warmup S] [--concurrency C1,C2,...] [--rounds R]
#
# Defaults: --build build, --seconds 15, --warmup 3, --concurrency 10,50,200, --rounds 1 (R rounds of all runs,
# ratios from the medians; on a shared machine one round is noisy, 3 are better). Needs a Release build
# (ninja -C build pipeguard-webhook write_fixtures) and the cached control plane (scripts/controlplane/install.sh;
# nothing is built here). Everything runs on 127.0.0.1 and is stopped on exit.
#
# Setup (the helpers of scripts/controlplane and e2e/stack_lib.sh, the chart's webhook configurations):
#   - etcd + kube-apiserver (controlplane_up), the chart's CRDs, namespace etl with ServiceAccount payments-etl and the
#     PipelineSecurityProfile "payments" that governs the pod (so it is governed and ALLOWED both ways);
#   - pipeguard-webhook as a local process (serving certificate from the control plane's CA, cert.sh), with the
#     representative configuration (images.verify off) and its context from the cluster (--kubeconfig informers);
#   - four arms: "none" (no webhook configuration), "chart" (`helm install ... --set devMode.enabled=true` as
#     e2e/stack_lib.sh does: the chart's Validating + Mutating webhook configurations, failurePolicy Fail,
#     timeoutSeconds 10, url = the local webhook), "validating" (the same with webhook.mutating.enabled=false) and
#     "floor": the chart's validating configuration pointed at /mutate, which with pinning off (as here) parses the
#     review and allows it without evaluating: what the API server pays for calling a webhook that does almost
#     nothing, the floor under any webhook's overhead on this machine.
#     Each switch is confirmed by the webhook's audit log (a create reaches /validate and /mutate, only /validate,
#     only /mutate, or no longer reaches the webhook) before the next run.
# Load generator: wrk (external process, HTTP/1.1 keep-alive over TLS, one connection per client, closed loop),
# authenticated with a bearer token of ServiceAccount airflow/airflow-worker (the user in the representative review;
# wrk cannot present a client certificate), allowed by RBAC to create pods in etl. Each run: --warmup seconds
# unmeasured, then --seconds measured. The order of the arms is reversed at every other concurrency.
#
# Reports per concurrency and arm: creates/s, p50 and p99 latency (wrk), non-201 replies and socket errors, CPU
# per create of the kube-apiserver, of the webhook and of wrk (so the reader can judge whether the client was the
# bottleneck), the most TCP connections established to the webhook's port at once and the number of distinct ones
# seen over the run (ss, sampled every 0.2 s: a lower bound on the connections the API server opened), the mean time
# the API server waited per webhook call (its apiserver_admission_webhook_admission_duration_seconds histogram);
# then the ratios: p99 added (%), throughput with/without, and CPU per create with/without (API server + webhook
# against the API server alone: less sensitive to neighbours than throughput, and what bounds a CPU-bound API
# server). The two cores are shared by etcd, the API server, the webhook and wrk, so absolute figures are lower
# bounds; the ratios measured in the same run are the result.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$repo/build" seconds=15 warmup=3 concurrency="10,50,200" rounds=1
while (($#)); do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --concurrency) concurrency="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    -h|--help) sed -n '2,36p' "$0"; exit 0 ;;
    *) echo "apiserver_overhead.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
if ! [[ $seconds =~ ^[0-9]+$ && $warmup =~ ^[0-9]+$ ]] || ((seconds < 1 || seconds > 120 || warmup > 30)); then
  echo "apiserver_overhead.sh: --seconds must be 1..120 and --warmup 0..30" >&2; exit 2
fi
[[ $rounds =~ ^[1-9]$ ]] || { echo "apiserver_overhead.sh: --rounds is 1..9" >&2; exit 2; }
[[ $concurrency =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || { echo "apiserver_overhead.sh: --concurrency is a list like 10,50,200" >&2; exit 2; }
[[ $build == /* ]] || build="$PWD/$build"
webhook="$build/webhook/pipeguard-webhook"
[[ -x $webhook && -x $build/bench/write_fixtures ]] || {
  echo "apiserver_overhead.sh: build first: ninja -C $build pipeguard-webhook write_fixtures" >&2; exit 2; }
command -v wrk >/dev/null || { echo "apiserver_overhead.sh: wrk is missing (apt-get install wrk)" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)"

# shellcheck source=../e2e/stack_lib.sh
. "$repo/e2e/stack_lib.sh" # also sources scripts/controlplane/lib.sh
work="$(mktemp -d)"
webhook_pid=""
cleanup() {
  local rc=$?
  if [[ -n $webhook_pid ]]; then
    cp_signal_group TERM "$webhook_pid"
    wait "$webhook_pid" 2>/dev/null || true
  fi
  controlplane_down "$work/controlplane" || true
  rm -rf -- "$work"
  return "$rc"
}
trap cleanup EXIT
log() { printf 'apiserver_overhead: %s\n' "$*" >&2; }

# --- control plane, workload, webhook ---------------------------------------------------------------------------
controlplane_up "$work/controlplane" >/dev/null 2>"$work/controlplane.log" || {
  cat "$work/controlplane.log" >&2; exit 1; }
k() { "$KUBECTL" --request-timeout=30s "$@"; }
"$build/bench/write_fixtures" "$work/fixtures"
python3 - "$work/fixtures/review.json" >"$work/pod.json" <<'PY'
import json, sys
print(json.dumps(json.load(open(sys.argv[1]))["request"]["object"]))
PY
k apply -f "$repo/helm/pipeguard/crds/" >/dev/null
k wait --for condition=established --timeout=60s crd/pipelinesecurityprofiles.pipeguard.io >/dev/null
k create namespace etl >/dev/null
k create namespace airflow >/dev/null
k create namespace pipeguard-system >/dev/null # the release namespace (stack_sync_context annotates it)
# The profile allows no API token in the pod: the pod's ServiceAccount turns automounting off.
k apply -f - >/dev/null <<'JSON'
{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "payments-etl", "namespace": "etl"},
 "automountServiceAccountToken": false}
JSON
k -n airflow create serviceaccount airflow-worker >/dev/null
k -n etl create role pod-creator --verb=create --resource=pods >/dev/null
k -n etl create rolebinding airflow-worker-creates-pods --role=pod-creator \
  --serviceaccount=airflow:airflow-worker >/dev/null
k apply -f "$work/fixtures/context/payments.json" >/dev/null
token=$(k -n airflow create token airflow-worker --duration=2h)

"$repo/scripts/controlplane/cert.sh" "$CONTROLPLANE_DIR" webhook IP:127.0.0.1 DNS:localhost >/dev/null
setsid "$webhook" --config "$work/fixtures/config.yaml" --kubeconfig "$KUBECONFIG" \
  --tls-cert "$CONTROLPLANE_DIR/pki/webhook.crt" --tls-key "$CONTROLPLANE_DIR/pki/webhook.key" \
  --listen 127.0.0.1:0 --port-file "$work/webhook.port" --log-level warn \
  >"$work/audit.log" 2>"$work/webhook.log" </dev/null &
webhook_pid=$!
for _ in $(seq 300); do [[ -s $work/webhook.port ]] && break; cp_pid_alive "$webhook_pid" || break; sleep 0.1; done
port=$(tr -d '[:space:]' <"$work/webhook.port" 2>/dev/null || true)
if [[ -z $port ]] || ! _stack_wait_https "https://127.0.0.1:$port/readyz" "$CA_CERT" "$webhook_pid" 30; then
  log "error: the webhook did not become ready"; tail -n 25 "$work/webhook.log" >&2; exit 1
fi
# What stack_sync_context needs to wait until the webhook's informers have the profile and ServiceAccounts.
export WEBHOOK_CONTEXT_MODE=kubeconfig HELM_NAMESPACE=pipeguard-system WEBHOOK_CA_CERT=$CA_CERT \
  WEBHOOK_URL="https://127.0.0.1:$port" WEBHOOK_CONTEXT_DIR="$work/context"
stack_sync_context

# --- switching the webhook configurations (the chart, devMode, as e2e/stack_lib.sh installs them) --------------
helm_env=(env "KUBECONFIG=$KUBECONFIG" "HELM_CACHE_HOME=$HELM_CACHE_HOME" "HELM_CONFIG_HOME=$HELM_CONFIG_HOME"
  "HELM_DATA_HOME=$HELM_DATA_HOME")
create_url="$APISERVER_URL/api/v1/namespaces/etl/pods?dryRun=All"
# create_once : one dry-run create as the load generator sends it; prints the HTTP status.
create_once() {
  curl -sS --max-time 15 --cacert "$CA_CERT" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    --data-binary @"$work/pod.json" -o "$work/last-reply.json" -w '%{http_code}' "$create_url"
}
audit_lines() { wc -l <"$work/audit.log"; }
# switch none|chart|validating : make the registered webhook configurations those of the arm, then wait until the
# API server acts on them (a create reaches /validate and /mutate, only /validate, or neither).
state=none
switch() {
  local arm=$1 deadline=$((SECONDS + 45)) before status expect mutating
  [[ $arm == "$state" ]] && return 0
  if [[ $state != none ]]; then
    "${helm_env[@]}" "$HELM" uninstall pipeguard-bench -n pipeguard-system --wait --timeout 60s >"$work/helm.log" 2>&1 || {
      log "error: helm uninstall failed"; cat "$work/helm.log" >&2; exit 1; }
    local quiet=0
    while ((quiet < 3)); do # three creates in a row that the webhook does not see
      before=$(audit_lines); status=$(create_once)
      [[ $status == 201 ]] || { log "error: dry-run create without the webhook: HTTP $status"; cat "$work/last-reply.json" >&2; exit 1; }
      if (($(audit_lines) == before)); then quiet=$((quiet + 1)); else quiet=0; fi
      ((SECONDS < deadline)) || { log "error: creates still reach the webhook after uninstall"; exit 1; }
      sleep 0.2
    done
    state=none
  fi
  [[ $arm == none ]] && return 0
  if [[ $arm == chart ]]; then mutating=true expect=2; else mutating=false expect=1; fi
  local post_renderer=()
  if [[ $arm == floor ]]; then # the validating webhook's URL path becomes /mutate (helm post-renderer)
    printf '#!/bin/sh\nexec sed "s|url: \\"https://127.0.0.1:%s/validate\\"|url: \\"https://127.0.0.1:%s/mutate\\"|"\n' \
      "$port" "$port" >"$work/floor-renderer.sh"
    chmod +x "$work/floor-renderer.sh"
    post_renderer=(--post-renderer "$work/floor-renderer.sh")
  fi
  "${helm_env[@]}" "$HELM" install pipeguard-bench "$repo/helm/pipeguard" -n pipeguard-system \
    --set devMode.enabled=true --set devMode.webhookURL="https://127.0.0.1:$port" \
    --set devMode.caBundle="$(base64 -w0 <"$CA_CERT")" --set webhook.mutating.enabled=$mutating \
    "${post_renderer[@]}" --wait=false --timeout 120s >"$work/helm.log" 2>&1 || {
    log "error: helm install (devMode) failed"; cat "$work/helm.log" >&2; exit 1; }
  until before=$(audit_lines); status=$(create_once); [[ $status == 201 ]] && (($(audit_lines) - before == expect)) &&
    { [[ $arm != floor ]] || tail -n 1 "$work/audit.log" | grep -q '"webhook":"mutate"'; }; do
    ((SECONDS < deadline)) || {
      log "error: creates do not reach the webhook as expected (HTTP $status)"; cat "$work/last-reply.json" >&2
      echo >&2; tail -n 2 "$work/audit.log" >&2; exit 1; }
    sleep 0.2
  done
  state=$arm
}

cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
local f = io.open("$work/pod.json", "rb"); wrk.body = f:read("*a"); f:close()
LUA

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# webhook_calls : "count sum_seconds" of the API server's calls to pipeguard's webhooks so far, from its histogram
# apiserver_admission_webhook_admission_duration_seconds (the time the API server waited per call: connection,
# TLS handshake, request, the webhook's handling, reply).
webhook_calls() {
  curl -fsS --max-time 10 --cacert "$CA_CERT" --cert "$ADMIN_CERT" --key "$ADMIN_KEY" "$APISERVER_URL/metrics" |
    awk '/^apiserver_admission_webhook_admission_duration_seconds_(count|sum)\{/ && /name="(validate|mutate)\.pipeguard\.io"/ {
           if ($1 ~ /_count\{/) n += $NF; else t += $NF }
         END { printf "%d %.6f\n", n, t }'
}

# run ARM C : prints "rate p50_ms p99_ms errors apiserver_ms webhook_ms wrk_cpu_pct wrk_ms max_conns distinct_conns
# calls_per_create mean_call_ms" (CPU figures per create).
run() {
  local arm=$1 c=$2 out a0 a1 w0 w1 m0 m1 conns distinct
  local threads=$((c < 2 ? c : 2)) # wrk needs at least one connection per thread
  ((warmup > 0)) && wrk -t"$threads" -c"$c" -d"${warmup}s" -s "$work/post.lua" "$create_url" >/dev/null
  a0=$(cpu_ticks "$APISERVER_PID") w0=$(cpu_ticks "$webhook_pid") m0=$(webhook_calls)
  : >"$work/conns"
  : >"$work/peers"
  (
    while [[ ! -e $work/done ]]; do
      ss -Htn state established "( sport = :$port )" >"$work/sample"
      wc -l <"$work/sample" >>"$work/conns"
      awk '{print $NF}' "$work/sample" >>"$work/peers"
      sleep 0.2
    done
  ) &
  local sampler=$!
  rm -f "$work/done"
  out=$( (wrk -t"$threads" -c"$c" -d"${seconds}s" --timeout 30s --latency -s "$work/post.lua" "$create_url"; times) )
  : >"$work/done"
  wait "$sampler"
  rm -f "$work/done"
  a1=$(cpu_ticks "$APISERVER_PID") w1=$(cpu_ticks "$webhook_pid") m1=$(webhook_calls)
  conns=$(sort -n "$work/conns" | tail -n 1)
  distinct=$(sort -u "$work/peers" | wc -l)
  printf '%s\n' "$out" >"$work/wrk-$arm-$c.txt"
  [[ $out == *" requests in "* ]] || { log "error: wrk did not run ($arm, $c clients):"; printf '%s\n' "$out" >&2; exit 1; }
  # `times` prints the shell's and then its children's (wrk's) user and system time, e.g. "0m1.234s 0m0.567s".
  awk -v hz="$hz" -v secs="$seconds" -v da=$((a1 - a0)) -v dw=$((w1 - w0)) -v conns="${conns:-0}" \
    -v distinct="$distinct" -v m0="$m0" -v m1="$m1" '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    function sec(v,  m) { m = v; sub(/m.*/, "", m); sub(/^[0-9]+m/, "", v); sub(/s$/, "", v); return m*60 + v }
    /requests in/ {requests=$1}
    /Requests\/sec/ {rate=$2}
    /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
    /Non-2xx/ {errors += $NF}
    /Socket errors/ {gsub(/,/, ""); errors += $4 + $6 + $8 + $10}
    /^[0-9]+m[0-9.]+s [0-9]+m[0-9.]+s$/ {n++; if (n == 2) client = sec($1) + sec($2)}
    END {split(m0, a, " "); split(m1, b, " "); calls = b[1] - a[1]; wait = b[2] - a[2]
         printf "%.0f %.1f %.1f %d %.2f %.3f %.0f %.3f %d %d %.2f %.2f\n", rate, ms(p50), ms(p99), errors,
           1000*da/hz/requests, 1000*dw/hz/requests, 100*client/secs, 1000*client/requests, conns, distinct,
           calls/requests, (calls > 0 ? 1000*wait/calls : 0)}' <<<"$out"
}

declare -A result
row() { printf '| %7s | %-10s | %9s | %6s | %6s | %6s | %13s | %13s | %10s | %9s | %10s | %14s |\n' "$@"; }
log "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); ${warmup}s warm-up + ${seconds}s per run"
first=$(create_once)
[[ $first == 201 ]] || { log "error: the first dry-run create got HTTP $first"; cat "$work/last-reply.json" >&2; exit 1; }
switch chart
k get validatingwebhookconfigurations,mutatingwebhookconfigurations -l app.kubernetes.io/instance=pipeguard-bench \
  -o yaml >"$work/chart-webhook-configurations.yaml"
status=$(create_once)
decision=$(grep '"webhook":"validate"' "$work/audit.log" | tail -n 1)
[[ $status == 201 && $decision == *'"allowed":true'* && $decision == *'"governed":true'* ]] || {
  log "error: the representative pod is not governed and allowed (HTTP $status); the webhook's decision:"
  printf '%s\n' "$decision" >&2; exit 1; }
log "first reply with the webhook: HTTP $status; /validate decision: $decision"
log "registered: $(grep -E '^  kind: |failurePolicy|timeoutSeconds|url:' "$work/chart-webhook-configurations.yaml" | tr -s ' \n' ' ')"
echo
echo "arms: none = no webhook registered; chart = the chart's Validating + Mutating configurations (its default);"
echo "      validating = the chart with webhook.mutating.enabled=false; floor = one webhook call that only parses"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
row "clients" "webhook" "creates/s" "p50 ms" "p99 ms" "errors" "apiserver CPU" "webhook CPU" "wrk CPU" "conns max" "conns seen" "webhook call"
row "" "" "" "" "" "" "ms/create" "ms/create" "% of core" "(ss)" "(ss)" "ms (apiserver)"
row "---" "---" "---" "---" "---" "---" "---" "---" "---" "---" "---" "---"
i=0
for ((round = 1; round <= rounds; round++)); do
  for c in ${concurrency//,/ }; do
    if ((i % 2 == 0)); then arms="none chart validating floor"; else arms="floor validating chart none"; fi
    for arm in $arms; do
      switch "$arm"
      read -r -a r <<<"$(run "$arm" "$c")"
      result[$arm,$c]+="${r[*]}"$'\n'
      row "$c" "$arm" "${r[0]}" "${r[1]}" "${r[2]}" "${r[3]}" "${r[4]}" "${r[5]}" "${r[6]}" "${r[8]}" "${r[9]}" "${r[11]}"
    done
    i=$((i + 1))
  done
done
switch none
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
# median COLUMN : the median (lower middle for an even count) of a column of the result lines on stdin.
median() { awk -v k="$1" 'NF {print $k}' | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
echo "ratios against 'none', medians over $rounds round(s) (same run; targets for the chart: p99 added <= 5 %,"
echo "throughput with/without >= 0.95; 'CPU per create' = (API server + webhook CPU) with / API server CPU without):"
for c in ${concurrency//,/ }; do
  r0=$(median 1 <<<"${result[none,$c]}") p0=$(median 3 <<<"${result[none,$c]}") q0=$(median 2 <<<"${result[none,$c]}")
  u0=$(median 5 <<<"${result[none,$c]}")
  for arm in chart validating floor; do
    r1=$(median 1 <<<"${result[$arm,$c]}") p1=$(median 3 <<<"${result[$arm,$c]}") q1=$(median 2 <<<"${result[$arm,$c]}")
    u1=$(awk 'NF {print $5 + $6}' <<<"${result[$arm,$c]}" | median 1)
    awk -v c="$c" -v arm="$arm" -v r0="$r0" -v r1="$r1" -v p0="$p0" -v p1="$p1" -v q0="$q0" -v q1="$q1" \
      -v u0="$u0" -v u1="$u1" 'BEGIN {
      added = 100 * (p1 - p0) / p0; ratio = r1 / r0
      printf "  %4s clients, %-10s p50 %+.1f ms, p99 added %+.1f %% (%s), throughput %.2fx (%s), CPU per create %.2fx\n",
        c, arm, q1 - q0, added, (added <= 5 ? "met" : "NOT met"), ratio, (ratio >= 0.95 ? "met" : "NOT met"), u1 / u0 }'
  done
done
echo "webhook: $(audit_lines) audit lines (all runs), its own handling time per review (latency_ms of the audit" \
  "lines): $(python3 -c '
import json, sys
v = sorted(json.loads(line)["latency_ms"] for line in open(sys.argv[1]) if line.startswith("{"))
print("p50 %.3f ms, p99 %.3f ms, max %.3f ms" % (v[len(v) // 2], v[len(v) * 99 // 100], v[-1]))' "$work/audit.log");" \
  "error lines in its log: $(grep -c '"level":"error"' "$work/webhook.log" || true)"
