#!/usr/bin/env bash
# Stops the registry (and token server and watchdog) that start.sh started in DIR.
#
# Usage: stop.sh DIR
#
# Contract:
#   - kills exactly the processes recorded in DIR/{registry,token-server,watchdog}.pid, and only while they are
#     still ours (their command line mentions DIR/...; a recycled PID is left alone): SIGTERM to the process group
#     (started with setsid), SIGKILL after PIPEGUARD_REGISTRY_STOP_TIMEOUT seconds (default 5).
#   - tolerates a DIR that is stopped, half-started, never started or missing: exits 0 if nothing of ours is left
#     running, 1 otherwise.
#   - removes DIR/env and the pid files; keeps logs, PKI and registry data (start.sh DIR starts it again).
set -euo pipefail

# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

[[ $# -eq 1 && $1 != -* ]] || reg_die "usage: stop.sh DIR"
[[ -d $1 ]] || exit 0
dir=$(cd "$1" && pwd -P)
grace=${PIPEGUARD_REGISTRY_STOP_TIMEOUT:-5}

rm -f "$dir/watchdog.armed" "$dir/env"

signal() { # signal SIG PID : to PID's process group when it leads one (setsid), else to PID
  local sig=$1 pid=$2 stat pg
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  read -r _ _ pg _ <<<"$stat"
  if [[ $pg == "$pid" ]]; then kill "-$sig" -- "-$pid" 2>/dev/null || true; else kill "-$sig" "$pid" 2>/dev/null || true; fi
}

remaining=()
for name in registry token-server watchdog; do
  pidfile=$dir/$name.pid
  [[ -f $pidfile ]] || continue
  pid=$(cat "$pidfile")
  if [[ $pid == "$$" ]] || ! cp_pid_owned "$pid" "$dir"; then
    rm -f "$pidfile"
    continue
  fi
  signal TERM "$pid"
  deadline=$((SECONDS + grace))
  while cp_pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
  if cp_pid_alive "$pid"; then
    reg_log "$name (PID $pid) ignored SIGTERM for ${grace}s; sending SIGKILL"
    signal KILL "$pid"
    sleep 0.3
  fi
  if cp_pid_alive "$pid"; then remaining+=("$name:$pid"); else rm -f "$pidfile"; fi
done

if ((${#remaining[@]})); then
  reg_log "error: still running in $dir: ${remaining[*]}"
  exit 1
fi
