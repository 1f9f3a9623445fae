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

cp_stop_recorded moto_log "$dir" "$grace" moto watchdog
