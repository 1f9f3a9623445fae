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

# kube-apiserver goes before etcd, which it needs while it shuts down.
cp_stop_recorded cp_log "$dir" "$grace" kube-apiserver etcd watchdog
