#!/usr/bin/env bash
# Stops the moto server that start.sh started in DIR.
#
# Usage: stop.sh DIR
#
# Contract:
#   - kills exactly the processes recorded in DIR/{moto,watchdog}.pid, and only if they still are ours (their command
#     line mentions DIR/...; a recycled PID is left alone): SIGTERM to the process group (started with setsid, so
#     PID = PGID), SIGKILL after PIPEGUARD_MOTO_STOP_TIMEOUT seconds (default 10).
#   - tolerates a DIR that is stopped, half-started, never started or missing: exits 0 if nothing of ours is left
#     running, 1 otherwise.
#   - removes DIR/env and the pid files; keeps the logs. moto keeps its state in memory: a restart starts empty.
set -euo pipefail

# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

[[ $# -eq 1 && $1 != -* ]] || moto_die "usage: stop.sh DIR"
[[ -d $1 ]] || exit 0
dir=$(cd "$1" && pwd -P)
grace=${PIPEGUARD_MOTO_STOP_TIMEOUT:-10}

rm -f "$dir/watchdog.armed" "$dir/env"

pgid() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  read -r _ _ pg _ <<<"$stat"
  printf '%s\n' "$pg"
}

signal() {
  local sig=$1 pid=$2
  if [[ $(pgid "$pid" || true) == "$pid" ]]; then
    kill "-$sig" -- "-$pid" 2>/dev/null || true
  else
    kill "-$sig" "$pid" 2>/dev/null || true
  fi
}

remaining=()
for name in moto watchdog; do
  pidfile=$dir/$name.pid
  [[ -f $pidfile ]] || continue
  pid=$(cat "$pidfile")
  if [[ $pid == "$$" ]] || ! cp_pid_owned "$pid" "$dir"; then
    rm -f "$pidfile"
    continue
  fi
  signal TERM "$pid"
  deadline=$((SECONDS + grace))
  while cp_pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
  if cp_pid_alive "$pid"; then
    moto_log "$name (PID $pid) ignored SIGTERM for ${grace}s; sending SIGKILL"
    signal KILL "$pid"
    sleep 0.5
  fi
  if cp_pid_alive "$pid"; then
    remaining+=("$name:$pid")
  else
    rm -f "$pidfile"
    moto_log "stopped $name (PID $pid)"
  fi
done

if ((${#remaining[@]})); then
  moto_log "error: still running in $dir: ${remaining[*]}"
  exit 1
fi
