#!/usr/bin/env bash
# Stops the control plane that start.sh started in DIR.
#
# Usage: stop.sh DIR
#
# Contract:
#   - kills exactly the processes recorded in DIR/{kube-apiserver,etcd,watchdog}.pid, and only if they still are
#     ours (their command line mentions DIR/...; a recycled PID is left alone): SIGTERM to the process group
#     (each was started with setsid, so PID = PGID), SIGKILL after PIPEGUARD_CONTROLPLANE_STOP_TIMEOUT seconds
#     (default 10). kube-apiserver goes first, then etcd.
#   - tolerates a DIR that is stopped, half-started, never started or missing: exits 0 if nothing of ours is
#     left running, 1 otherwise.
#   - removes DIR/env and the pid files; keeps the logs, the PKI and the etcd data (start.sh DIR restarts it).
set -euo pipefail

# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

[[ $# -eq 1 && $1 != -* ]] || cp_die "usage: stop.sh DIR"
[[ -d $1 ]] || exit 0
dir=$(cd "$1" && pwd -P)
grace=${PIPEGUARD_CONTROLPLANE_STOP_TIMEOUT:-10}

# Disarm the watchdog first so it does not race with us, and mark the control plane as not ready.
rm -f "$dir/watchdog.armed" "$dir/env"

# pgid PID : the process group of PID.
pgid() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  read -r _ _ pg _ <<<"$stat"
  printf '%s\n' "$pg"
}

# signal SIG PID : SIG to PID's process group if PID leads one, else to PID alone.
signal() {
  local sig=$1 pid=$2
  if [[ $(pgid "$pid" || true) == "$pid" ]]; then
    kill "-$sig" -- "-$pid" 2>/dev/null || true
  else
    kill "-$sig" "$pid" 2>/dev/null || true
  fi
}

remaining=()
for name in kube-apiserver etcd watchdog; do
  pidfile=$dir/$name.pid
  [[ -f $pidfile ]] || continue
  pid=$(cat "$pidfile")
  # The watchdog runs this script by exec'ing it; do not kill ourselves.
  if [[ $pid == "$$" ]] || ! cp_pid_owned "$pid" "$dir"; then
    rm -f "$pidfile"
    continue
  fi
  signal TERM "$pid"
  # apiserver before etcd: give the apiserver its grace period before etcd goes away under it.
  deadline=$((SECONDS + grace))
  while cp_pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
  if cp_pid_alive "$pid"; then
    cp_log "$name (PID $pid) ignored SIGTERM for ${grace}s; sending SIGKILL"
    signal KILL "$pid"
    sleep 0.5
  fi
  if cp_pid_alive "$pid"; then
    remaining+=("$name:$pid")
  else
    rm -f "$pidfile"
    cp_log "stopped $name (PID $pid)"
  fi
done

if ((${#remaining[@]})); then
  cp_log "error: still running in $dir: ${remaining[*]}"
  exit 1
fi
