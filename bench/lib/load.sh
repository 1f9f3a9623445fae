# shellcheck shell=bash
# Shared pieces of the load benchmarks that drive real servers on loopback with wrk (an external, closed-loop load
# generator: HTTP/1.1 keep-alive over TLS) and the representative pod review (bench/representative_pod.h):
# bench/webhook_load.sh and bench/opa_compare.sh.
#
# Contract: source it from a bash script running `set -euo pipefail`, then call load_setup BUILD_DIR once. It defines
# functions and these globals:
#   work            scratch directory (removed on exit), with review.json, config.yaml, context/ (write_fixtures),
#                   tls.crt/tls.key (ECDSA P-256 for 127.0.0.1) and post.lua (wrk: POST review.json)
#   pids            background processes to stop on exit (append what you start)
#   seconds         wrk duration per run (set it before calling load)
#   wrk_timeout     wrk's --timeout: a slower reply counts as an error (a "timeout" socket error), not as latency
#   wrk_threads     wrk's -t (default 1: one wrk thread costs 17 µs of CPU per review here against 24 µs for two, and
#                   every µs it spends is taken from the server on these shared cores)
#   server_pid      the server whose CPU `load` measures; port: its port (set by start_webhook, or by the caller)
#   server_cmd      a command prefix for servers (e.g. (taskset -c 1)); client_cmd the same for wrk; empty: none
#   cgroup_dir, cgroup_procs   set by cpu_cap_cgroup (a CPU-capped cgroup for a load process; removed on exit)
# load_setup installs an EXIT trap that stops every pid in $pids and removes $work.

# Defaults only where the sourcing script has not set them already.
[[ -v pids ]] || pids=()
[[ -v server_cmd ]] || server_cmd=()
[[ -v client_cmd ]] || client_cmd=()
: "${seconds:=10}"
: "${wrk_timeout:=2s}" # wrk's own default
: "${wrk_threads:=1}"

# load_setup BUILD_DIR : checks the binaries, raises the file limit, writes the fixtures, the certificate, post.lua.
load_setup() {
  local build=$1
  command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  [[ -x $build/webhook/pipeguard-webhook && -x $build/bench/write_fixtures ]] || {
    echo "$(basename "$0"): build first: ninja -C $build pipeguard-webhook write_fixtures" >&2
    exit 2
  }
  ulimit -n "$(ulimit -Hn)"
  work="$(mktemp -d)"
  trap load_cleanup EXIT
  "$build/bench/write_fixtures" "$work"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null
  cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$work/review.json", "rb"); wrk.body = f:read("*a"); f:close()
LUA
}

load_cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -n ${cgroup_dir:-} ]] && rmdir "$cgroup_dir" 2>/dev/null
  rm -rf "$work"
}

# cpu_cap_cgroup PCT : creates a cgroup whose processes together get at most PCT % of one core (cgroup v1's cpu
# controller or v2's cpu.max; needs root) and sets cgroup_procs to the file a process writes its pid into to join.
# load_cleanup removes the cgroup. Returns non-zero when no cgroup can be made.
cpu_cap_cgroup() {
  local quota=$(($1 * 1000)) name="pipeguard-bench-$$"
  if [[ -d /sys/fs/cgroup/cpu && -w /sys/fs/cgroup/cpu ]]; then
    cgroup_dir=/sys/fs/cgroup/cpu/$name
    mkdir "$cgroup_dir" && echo 100000 >"$cgroup_dir/cpu.cfs_period_us" && echo "$quota" >"$cgroup_dir/cpu.cfs_quota_us"
  elif [[ -f /sys/fs/cgroup/cgroup.controllers && -w /sys/fs/cgroup ]] && grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control; then
    cgroup_dir=/sys/fs/cgroup/$name
    mkdir "$cgroup_dir" && echo "$quota 100000" >"$cgroup_dir/cpu.max"
  else
    return 1
  fi || return 1
  cgroup_procs=$cgroup_dir/cgroup.procs
}

# wait_ready NAME URL : waits up to 10 s until URL answers 2xx over TLS; else prints NAME's log and exits 1.
wait_ready() {
  for _ in $(seq 100); do curl -ksf "$2" >/dev/null && return; sleep 0.1; done
  echo "$(basename "$0"): $1 did not become ready" >&2
  cat "$work/$1.log" >&2
  exit 1
}

# start_server NAME READY_PATH COMMAND... : runs COMMAND (under $server_cmd), which listens on a free port and writes
# it to $work/NAME.port; stdout to /dev/null, stderr to $work/NAME.log. Sets $port and $server_pid once
# https://127.0.0.1:$port READY_PATH answers.
start_server() {
  local name=$1 ready=$2
  shift 2
  rm -f "$work/$name.port"
  "${server_cmd[@]}" "$@" >/dev/null 2>"$work/$name.log" &
  pids+=($!)
  server_pid=$!
  for _ in $(seq 100); do [[ -s $work/$name.port ]] && break; sleep 0.1; done
  port=$(cat "$work/$name.port")
  wait_ready "$name" "https://127.0.0.1:$port$ready"
}

# start_webhook NAME BINARY : runs pipeguard-webhook on a free port (start_server), audit lines to /dev/null.
start_webhook() {
  start_server "$1" /readyz "$2" --config "$work/config.yaml" --context "$work/context" --tls-cert "$work/tls.crt" \
    --tls-key "$work/tls.key" --listen 127.0.0.1:0 --port-file "$work/$1.port" --log-level warn
}

# build_go_peer FILE OUTPUT : builds one of the standard-library Go programs in bench/peer (the TLS peer server, the
# new-client prober) into OUTPUT, with $GO, else the go on PATH, else /usr/local/go/bin/go (scripts/controlplane/
# install.sh installs one). Exits 1 when there is no Go toolchain.
build_go_peer() {
  local go_bin=${GO:-$(command -v go || true)}
  [[ -n $go_bin ]] || go_bin=/usr/local/go/bin/go
  [[ -x $go_bin ]] || { echo "$(basename "$0"): no Go toolchain for bench/peer/$1 (scripts/controlplane/install.sh installs one; or set GO=)" >&2; exit 1; }
  (cd "$(dirname "${BASH_SOURCE[0]}")/../peer" && GOFLAGS=-p=1 GOWORK=off GO111MODULE=off CGO_ENABLED=0 nice -n 10 "$go_bin" build -o "$2" "$1")
}

# CPU seconds (user + system) the server process $server_pid has used so far.
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$server_pid/stat"; }

# load URL CONNECTIONS [LUA]: prints "rate p50_ms p99_ms cpu_us_per_request errors".
load() {
  local script=() out before after
  [[ -n ${3:-} ]] && script=(-s "$3")
  before=$(cpu_seconds)
  out=$("${client_cmd[@]}" wrk -t"$wrk_threads" -c"$2" -d"${seconds}s" --timeout "$wrk_timeout" --latency "${script[@]}" "$1")
  after=$(cpu_seconds)
  awk -v cpu="$(awk -v a="$after" -v b="$before" 'BEGIN{print a-b}')" '
    /requests in/ {requests=$1}
    /Requests\/sec/ {rate=$2}
    /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
    /Non-2xx|Socket errors/ {errors=errors" "$0}
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    END {printf "%.0f %.2f %.2f %.1f %s\n", rate, ms(p50), ms(p99), 1e6*cpu/requests, (errors=="" ? "0" : errors)}' <<<"$out"
}

row() { printf '| %-48s | %8s | %7s | %7s | %13s | %s\n' "$@"; }
