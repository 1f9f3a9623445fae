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

cp_stop_recorded reg_log "$dir" "$grace" registry token-server watchdog
